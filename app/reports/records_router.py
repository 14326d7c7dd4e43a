"""/v1/policy/records-of-processing: the Art 30 record and the appropriate policy document,
rendered from the rule tables that decide, as JSON, Markdown or CSV."""

import json
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Final

from fastapi import APIRouter, Header, Response

from app.auth.deps import CallerDep
from app.consent import schemas as consent_schemas
from app.platform.categories import categories_of
from app.policy import records
from app.policy.rules import JsonValue
from app.policy.vocabulary import Action, Category, RecordKind
from app.reference import catalogue
from app.reports import tabular
from app.retention import rules as retention_rules

router = APIRouter(tags=["policy"])

_CONSENT_CATEGORIES: Final = categories_of(consent_schemas.ConsentRead)
CONSENT_RECORDS: Final[dict[records.OwnBasesKey, frozenset[Category]]] = {
    Action.RECORD_CONSENT: _CONSENT_CATEGORIES,
    RecordKind.CONSENT: _CONSENT_CATEGORIES,
    RecordKind.CONSENT_WITHDRAWAL: _CONSENT_CATEGORIES,
}
"""What recording, withdrawing and reading consent records touch (the consent schema):
the actions and records whose bases are their own (Art 7(1))."""


@lru_cache
def controller() -> records.Controller:
    """The controller's details, from app/reference/data/controller.json (the privacy
    notice's)."""
    text = resources.files("app.reference").joinpath("data", "controller.json").read_text("utf-8")
    row: dict[str, Any] = json.loads(text)
    dpo = row["data_protection_officer"]
    return records.Controller(
        name=row["name"],
        service=row["service"],
        address=row["address"],
        telephone=row["telephone"],
        dpo_name=dpo["name"],
        dpo_email=dpo["email"],
        dpo_address=dpo["address"],
        complaints=row["complaints"],
    )


def retention() -> list[records.RetentionRule]:
    """The retention rules the service applies (app.retention.rules), in words."""
    return [
        records.RetentionRule(
            "A child's data",
            f"the child's {_ordinal(retention_rules.CHILD_YEARS)} birthday",
        ),
        records.RetentionRule(
            "A child's data where a family worker supported the family",
            f"the child's {_ordinal(retention_rules.SUPPORTED_CHILD_YEARS)} birthday",
        ),
        records.RetentionRule(
            "A household's adults' data",
            "when the last of its children's data goes; a household that never had a child "
            f"recorded, {retention_rules.CHILDLESS_HOUSEHOLD_YEARS} year after it was created",
        ),
        records.RetentionRule(
            "Any record under a legal hold", "the hold is lifted (destruction is paused)"
        ),
    ]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def current_record() -> dict[str, JsonValue]:
    return records.records_of_processing(
        controller=controller(),
        organisations=[
            records.Organisation(code=o.code, name=o.name, roles=o.roles)
            for o in catalogue.organisations().values()
        ],
        recipients=[
            records.Recipient(
                code=r.code,
                name=r.name,
                consent_type=r.consent_type,
                purpose=r.purpose,
                country=r.country,
                transfer_safeguard=r.transfer_safeguard,
            )
            for r in catalogue.recipients().values()
        ],
        retention=retention(),
        touched=CONSENT_RECORDS,
    )


@router.get(
    "/policy/records-of-processing",
    summary="The record of processing activities (Art 30) and the appropriate policy document",
    description="Rendered from the same rule tables that decide every request, so the "
    "published record cannot drift from what the service enforces: each purpose with its "
    "lawful bases, Schedule 1 conditions, categories, roles, recipients and retention, and "
    "the appropriate policy document that DPA 2018 Sch 1 paragraphs 8 and 18 require. JSON; "
    "`Accept: text/markdown` for a document, `text/csv` for one row per purpose. Any valid "
    "token, no `X-Purpose` (no personal data).",
    response_model=None,
    responses={
        200: {
            "description": "The record: JSON, Markdown or CSV by `Accept`.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/markdown": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
def records_of_processing(
    _: CallerDep,
    accept: Annotated[
        str | None,
        Header(description="`text/markdown` or `text/csv`; JSON otherwise."),
    ] = None,
) -> dict[str, Any] | Response:
    record = current_record()
    chosen = tabular.negotiate(accept, (tabular.JSON, tabular.MARKDOWN, tabular.CSV))
    if chosen == tabular.MARKDOWN:
        return _text(records.markdown(record), "text/markdown; charset=utf-8")
    if chosen == tabular.CSV:
        body = tabular.csv_text(records.CSV_HEADER, records.csv_rows(record))
        return _text(body, "text/csv; charset=utf-8")
    return record


def _text(body: str, media_type: str) -> Response:
    return Response(content=body, media_type=media_type)
