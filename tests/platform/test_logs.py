"""Logs are JSON lines with the request id, route, status, role, org and decision id,
and never personal data: marker values sent through valid, invalid and refused
requests appear in no line."""

import logging
from collections.abc import Callable, Iterator

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.main import create_app
from app.platform.edge import FAULTS
from app.platform.logs import ACCESS, JsonFormatter, configure
from tests import factories

Headers = Callable[..., dict[str, str]]
HV = ("health_visitor", "health_care")
MARKERS = ("Zebedee", "Quillfeather", "marker@example.org", "020 7946 0999")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def lines() -> Iterator[list[str]]:
    handler = Lines()
    watched = [ACCESS, logging.getLogger("app")]
    for logger in watched:
        logger.addHandler(handler)
    yield handler.lines
    for logger in watched:
        logger.removeHandler(handler)


def test_no_line_holds_personal_data_whatever_the_request(
    client: TestClient, session: Session, headers: Headers, lines: list[str]
) -> None:
    family = factories.make_family(session)
    child = factories.make_child(session, family=family)
    person = {
        "family_id": str(family.id),
        "kind": "carer",
        "given_name": "Zebedee",
        "family_name": "Quillfeather",
        "date_of_birth": "1990-01-01",
        "email": "marker@example.org",
        "phone": "020 7946 0999",
        "nhs_number": child.nhs_number,
    }
    client.post("/v1/people", json=person, headers=headers(*HV))  # 409: the NHS number is held
    client.post("/v1/people", json={**person, "nhs_number": None}, headers=headers(*HV))
    client.post("/v1/people", json={**person, "date_of_birth": "soon"}, headers=headers(*HV))
    client.post("/v1/people", json={**person, "given_name": "Zeb\x00edee"}, headers=headers(*HV))
    client.post(
        "/v1/people", json=person, headers=headers("public_health_analyst", "take_up_monitoring")
    )
    client.get("/v1/people", params={"nhs_number": child.nhs_number}, headers=headers(*HV))
    text = "\n".join(lines)
    for marker in (*MARKERS, child.nhs_number, str(child.id)):
        assert marker is not None
        assert marker not in text
    assert len(lines) >= 6


def test_each_request_leaves_one_line_with_what_an_operator_needs(
    client: TestClient, session: Session, headers: Headers, lines: list[str]
) -> None:
    child = factories.make_child(session)
    response = client.get(
        f"/v1/people/{child.id}", headers=headers(*HV, X_Request_Id="ops-check-1")
    )
    [line] = [orjson.loads(line) for line in lines]
    assert line["request_id"] == "ops-check-1"
    assert line["method"] == "GET"
    assert line["route"] == "/v1/people/{person_id}"
    assert line["status"] == 200
    assert (line["role"], line["org"]) == ("health_visitor", "RV3")
    assert line["decision_id"] == response.headers["X-Decision-Id"]
    assert line["duration_ms"] >= 0
    assert line["level"] == "info"
    assert "time" in line


def test_an_unexpected_error_is_a_500_problem_and_its_message_is_never_logged(
    lines: list[str],
) -> None:
    app = create_app()

    @app.get("/v1/faulty")
    def faulty() -> None:
        raise RuntimeError(
            "duplicate key: (family_name)=(Quillfeather), (email)=(marker@example.org)"
        )

    faults: list[str] = []
    handler = Lines()
    handler.lines = faults
    FAULTS.addHandler(handler)
    try:
        # Raising client: anything re-raised to the server would surface here.
        response = TestClient(app).get("/v1/faulty", headers={"X-Request-Id": "fault-1"})
    finally:
        FAULTS.removeHandler(handler)
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["X-Request-Id"] == "fault-1"
    assert response.json()["type"].endswith("internal_error")
    (fault,) = (orjson.loads(line) for line in faults)
    assert fault["exception"] == "RuntimeError"
    assert fault["request_id"] == "fault-1"
    (access,) = (orjson.loads(line) for line in lines)
    assert access["status"] == 500
    assert access["route"] == "/v1/faulty"
    text = "\n".join([*faults, *lines, response.text])
    for marker in MARKERS:
        assert marker not in text


def test_a_library_warning_is_a_json_line_without_its_arguments() -> None:
    configure()
    library = logging.getLogger("psycopg")
    (handler,) = (h for h in library.handlers if isinstance(h.formatter, JsonFormatter))
    record = library.makeRecord(
        "psycopg",
        logging.WARNING,
        __file__,
        1,
        "error ignored terminating %r: %s",
        ("<pipeline>", "duplicate key (family_name)=(Quillfeather)"),
        None,
    )
    line = orjson.loads(handler.format(record))
    assert line["logger"] == "psycopg"
    assert line["level"] == "warning"
    assert line["message"] == "error ignored terminating %r: %s"
    assert "Quillfeather" not in handler.format(record)
    assert library.propagate is False
