"""The background sealer: each instance tries, about once a second, to chain new events.

Only one instance seals at a time (an advisory lock on PostgreSQL); the others find
the lock taken and skip the round. Nothing is kept in the process: the chain's head
lives in the database, so any instance can take over at any time.
"""

import logging
import threading

from sqlalchemy.engine import Engine

from app.audit import service as audit_service
from app.platform.problems import database_unavailable

log = logging.getLogger(__name__)

FULL_PASS_EVERY = 300


class Sealer:
    def __init__(self, engine: Engine, interval: float) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        rounds = 0
        while not self._stop.wait(self._interval):
            rounds += 1
            try:
                with self._engine.connect() as connection:
                    # Now and then a full pass, for an event that committed very late.
                    audit_service.seal_in_own_transaction(
                        connection, full=rounds % FULL_PASS_EVERY == 0
                    )
            except Exception as exc:
                # The thread never dies: a database that is down or restarting is
                # expected, and the next pass, on a fresh connection, picks up.
                if database_unavailable(exc):
                    log.warning("audit sealing pass: the database does not answer; retrying")
                else:
                    log.exception("audit sealing pass failed; the next pass retries")
