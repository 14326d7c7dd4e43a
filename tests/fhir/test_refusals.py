"""Every refusal under /fhir/R4 is an OperationOutcome with the status /v1 answers for
the same request: the same decision, told the FHIR way."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.people.models import Person
from app.retention.models import DestructionLog
from tests import factories
from tests.fhir.helpers import HV, valid
from tests.retention.aging import expire

Headers = Callable[..., dict[str, str]]
JUSTIFICATION = "Police raised a concern about the child today"


@dataclass(frozen=True)
class Case:
    """A request about a child, made once on /fhir/R4 and once on /v1."""

    fhir: str
    v1: str
    status: int
    code: str
    """The OperationOutcome's problem code (a denial's `reason`)."""


def _child(session: Session) -> Person:
    return factories.make_child(session)


def _restricted(session: Session) -> Person:
    child = _child(session)
    session.execute(update(Person).where(Person.id == child.id).values(restricted=True))
    session.commit()
    return child


def _expired(session: Session) -> Person:
    child = _child(session)
    expire(session, child)
    session.commit()
    return child


def _consent_withdrawn(session: Session) -> Person:
    child = _child(session)
    factories.make_consent(
        session, child, categories=("identity", "contact", "services"), withdrawn=True
    )
    return child


def _erased(session: Session) -> UUID:
    gone = uuid4()
    session.add(
        DestructionLog(
            subject_id=gone, subject_kind="child", rule="erasure", destroyed_on=date.today()
        )
    )
    session.commit()
    return gone


def _id(found: Person | UUID) -> UUID:
    return found if isinstance(found, UUID) else found.id


CASES = {
    "no_purpose": (_child, ("health_visitor", None), 400, "bad_request"),
    "wrong_purpose": (_child, ("health_visitor", "legal_claims"), 403, "purpose_not_permitted"),
    "nursery_scope": (_child, ("nursery_practitioner", "nursery_care"), 403, "out_of_scope"),
    "restriction": (_restricted, HV, 403, "processing_restricted"),
    "withdrawn_consent": (
        _consent_withdrawn,
        ("family_worker", "early_help"),
        403,
        "consent_withdrawn",
    ),
    "retention": (_expired, HV, 403, "retention_expired"),
    "erased": (_erased, HV, 410, "gone"),
    "never_held": (lambda _s: uuid4(), HV, 404, "not_found"),
}
PATHS = {
    "patient_read": ("/fhir/R4/Patient/{id}", "/v1/people/{id}"),
    "encounter_search": ("/fhir/R4/Encounter?patient={id}", "/v1/people/{id}/contacts"),
    "observation_search": ("/fhir/R4/Observation?patient={id}", "/v1/people/{id}/contacts"),
}


@pytest.mark.parametrize("path", list(PATHS), ids=list(PATHS))
@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_refusal_is_an_operation_outcome_with_the_status_v1_answers(
    client: TestClient, session: Session, headers: Headers, case: str, path: str
) -> None:
    make, (role, purpose), status, code = CASES[case]
    if case == "never_held" and path != "patient_read":
        pytest.skip("a search naming a patient never held is an empty searchset")
    if case == "nursery_scope" and path == "encounter_search":
        code = "purpose_not_permitted"  # nursery_care does not reach services (step 2 first)
    subject = _id(make(session))
    nursery = factories.nursery_ids()[0] if role == "nursery_practitioner" else None
    sent = headers(role, purpose, nursery_id=nursery)
    fhir_path, v1_path = (p.format(id=subject) for p in PATHS[path])
    answered = client.get(fhir_path, headers=sent)
    assert answered.status_code == status, answered.text
    assert client.get(v1_path, headers=sent).status_code == status
    outcome = valid(answered)
    [issue] = outcome["issue"]
    assert issue["details"]["coding"][0]["code"] == code
    if status in (403, 404, 410):
        assert answered.headers["X-Decision-Id"]


def test_a_denial_names_its_decision_in_the_outcome(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _restricted(session)
    response = client.get(f"/fhir/R4/Patient/{child.id}", headers=headers(*HV))
    [extension] = valid(response)["extension"]
    assert extension["valueString"] == response.headers["X-Decision-Id"]


def test_a_call_without_a_token_is_401_with_www_authenticate(
    client: TestClient, session: Session
) -> None:
    child = _child(session)
    response = client.get(f"/fhir/R4/Patient/{child.id}", headers={"X-Purpose": "health_care"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert valid(response)["issue"][0]["code"] == "login"


def test_an_invalid_search_parameter_is_422_naming_it_never_its_value(
    client: TestClient, headers: Headers
) -> None:
    response = client.get(
        "/fhir/R4/Patient",
        params={"identifier": "https://fhir.nhs.uk/Id/nhs-number|9990000000"},
        headers=headers(*HV),
    )
    assert response.status_code == 422
    [issue] = valid(response)["issue"]
    assert issue["diagnostics"].startswith("identifier:")
    assert "9990000000" not in response.text


def test_a_flag_search_under_a_purpose_not_reaching_safeguarding_is_denied(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _child(session)
    factories.make_plan(session, child)
    response = client.get(f"/fhir/R4/Flag?patient={child.id}", headers=headers(*HV))
    assert response.status_code == 403
    assert valid(response)["issue"][0]["details"]["coding"][0]["code"] == "purpose_not_permitted"


def test_safeguarding_without_a_justification_is_denied(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _child(session)
    response = client.get(
        f"/fhir/R4/Flag?patient={child.id}", headers=headers("health_visitor", "safeguarding")
    )
    assert response.status_code == 403
    assert valid(response)["issue"][0]["details"]["coding"][0]["code"] == "justification_required"


def test_a_search_date_beyond_any_record_is_422_not_an_error(
    client: TestClient, session: Session, headers: Headers
) -> None:
    child = _child(session)
    response = client.get(
        f"/fhir/R4/Encounter?patient={child.id}&date=ge9999-12-31", headers=headers(*HV)
    )
    assert response.status_code == 422
    assert valid(response)["issue"][0]["diagnostics"].startswith("date:")
