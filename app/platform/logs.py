"""Structured logs: one JSON line per record, never personal data.

Every request leaves one `ieys.access` line (request id, method, route template, status,
duration, the caller's role and organisation, the decision id): the route's template,
never the path or query, which can carry an id or an NHS number. A record with an
exception carries the exception's type only: a database error's message can quote the
values of the row it refused.
"""

import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final

import orjson

ACCESS: Final = logging.getLogger("ieys.access")
_FIELDS: Final = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "role",
    "org",
    "decision_id",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _message(record),
        }
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = record.exc_info[0].__name__
        return orjson.dumps(line, default=str).decode()


OWN: Final = ("ieys", "app")
LIBRARIES: Final = ("psycopg", "sqlalchemy")
"""Libraries whose warnings reach the log (a connection lost mid-pipeline, say)."""


def _message(record: logging.LogRecord) -> str:
    if record.name == ACCESS.name:
        return "request"
    if record.name.split(".")[0] in OWN:
        return record.getMessage()
    # A library's message is kept as its template, never filled in: its arguments can
    # carry a server's error text, which can quote the values of a row.
    return str(record.msg)


def configure() -> None:
    """The service's own records (`ieys`, `app`) and the libraries' warnings as JSON
    lines on stderr, once."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name, level in (
        *((own, logging.INFO) for own in OWN),
        *((library, logging.WARNING) for library in LIBRARIES),
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
