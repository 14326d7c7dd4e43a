"""The pure lawful-basis engine: decisions per second on one core.

Run by hand from the repository root, with the venv active:

    python bench/engine.py
    python bench/engine.py --decisions 500000

Three asks a day's work is made of (a health visitor's read of a child, a family
worker's read under early help resting on a consent, a denial), each decided in a
loop, CPU time only (the figure is per core, whatever else the machine runs). The
baseline, in the same run, is the same engine building every allowance afresh (the
shared allowance, `engine._allowance`, bypassed): what the tables let it compute once.
"""

import argparse
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.people.schemas import PersonRead  # noqa: E402
from app.platform.categories import categories_of  # noqa: E402
from app.platform.identifiers import london_today  # noqa: E402
from app.policy import engine  # noqa: E402
from app.policy.model import Ask, ConsentFact, RecordState  # noqa: E402
from app.policy.vocabulary import (  # noqa: E402
    Action,
    Category,
    ConsentType,
    Purpose,
    Role,
    SubjectKind,
)


def asks() -> dict[str, tuple[Ask, RecordState]]:
    today = london_today()
    person = categories_of(PersonRead)
    child = RecordState(kind=SubjectKind.CHILD, destruction_date=today + timedelta(days=700))
    consent = ConsentFact(
        type=ConsentType.EARLY_HELP_SUPPORT,
        categories=frozenset(Category),
        recipient=None,
        withdrawn=False,
    )
    consented = RecordState(
        kind=SubjectKind.CHILD,
        destruction_date=today + timedelta(days=700),
        consents=(consent,),
    )

    def ask(role: Role, purpose: Purpose) -> Ask:
        return Ask(
            role=role, org="", purpose=purpose, action=Action.READ, categories=person, on=today
        )

    return {
        "health visitor reads a child (health_care)": (
            ask(Role.HEALTH_VISITOR, Purpose.HEALTH_CARE),
            child,
        ),
        "family worker reads a child on consent (early_help)": (
            ask(Role.FAMILY_WORKER, Purpose.EARLY_HELP),
            consented,
        ),
        "a denial (purpose_not_permitted)": (
            ask(Role.CAMHS_CLINICIAN, Purpose.EARLY_HELP),
            child,
        ),
    }


def rate(
    decide: Callable[[Ask, RecordState], object], ask: Ask, state: RecordState, n: int
) -> float:
    decide(ask, state)
    started = time.process_time()
    for _ in range(n):
        decide(ask, state)
    return n / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=300_000)
    args = parser.parse_args()
    print("| ask | decisions/s | baseline (built afresh) | ratio |")
    print("|---|---|---|---|")
    uncached = engine._allowance.__wrapped__
    for label, (ask, state) in asks().items():
        fast = rate(engine.decide, ask, state, args.decisions)
        with mock.patch.object(engine, "_allowance", uncached):
            slow = rate(engine.decide, ask, state, args.decisions)
        print(f"| {label} | {fast:,.0f} | {slow:,.0f} | {fast / slow:.2f} |")


if __name__ == "__main__":
    main()
