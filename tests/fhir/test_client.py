"""A real FHIR client library (fhirpy) against a real server: uvicorn serving the app
on a database of its own, as an NHS system would meet it."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from alembic import command
from fhirpy import SyncFHIRClient
from sqlalchemy.orm import Session

from app.auth.tokens import mint_token
from app.contacts import schemas as contact_schemas
from app.contacts import service as contacts_service
from app.people import schemas
from app.people import service as people_service
from app.platform.crypto import get_key_ring
from app.platform.db import make_engine
from app.platform.settings import get_settings
from app.policy.vocabulary import Role
from tests import factories
from tests.conftest import alembic_config
from tests.servers import free_port, scratch_database, serve, wait_ready

NHS = "https://fhir.nhs.uk/Id/nhs-number"
CONTACTS = 3


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A served database holding one child with three contacts: the base URL and the
    child's NHS number."""
    with scratch_database(tmp_path, "fhir_client") as url:
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        nhs_number = factories.nhs_number()
        with Session(engine) as session:
            family = people_service.create_family(
                session,
                schemas.FamilyCreate(address=schemas.Address(line1="1 Road", postcode="NW5 1TL")),
                get_key_ring(),
                family_id=uuid4(),
            )
            people_service.create_person(
                session,
                schemas.PersonCreate(
                    family_id=family.id,
                    kind=schemas.PersonKind.CHILD,
                    given_name="Amara",
                    family_name="Okafor",
                    date_of_birth=factories.today() - timedelta(days=300),
                    nhs_number=nhs_number,
                ),
                factories.today(),
                person_id=uuid4(),
            )
            child = people_service.find_by_identifier(session, nhs_number=nhs_number)
            assert child is not None
            for days in range(CONTACTS):
                contacts_service.create(
                    session,
                    child,
                    contact_schemas.ContactCreate(
                        kind=contact_schemas.ContactKind.HOME_VISIT,
                        occurred_at=datetime.now(UTC) - timedelta(days=days),
                        staff_role=Role.HEALTH_VISITOR,
                    ),
                    get_key_ring(),
                    contact_id=uuid4(),
                )
            session.commit()
        engine.dispose()
        port = free_port()
        process = serve(url, port)
        try:
            wait_ready(port, process=process)
            yield f"http://127.0.0.1:{port}/fhir/R4", nhs_number
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_a_fhir_client_finds_a_patient_by_nhs_number_and_pages_through_its_encounters(
    server: tuple[str, str],
) -> None:
    base, nhs_number = server
    token = mint_token(get_settings(), role=Role.HEALTH_VISITOR, sub="fhir-client")
    client = SyncFHIRClient(
        base, authorization=f"Bearer {token}", extra_headers={"X-Purpose": "health_care"}
    )
    [patient] = client.resources("Patient").search(identifier=f"{NHS}|{nhs_number}").fetch()
    assert patient["name"][0]["family"] == "Okafor"
    encounters = client.resources("Encounter").search(patient=patient["id"]).limit(2)
    assert len(encounters.fetch()) == 2, "the first page"
    every = encounters.fetch_all()
    assert len(every) == CONTACTS, "the next link followed to the last page"
    assert {e["subject"]["reference"] for e in every} == {f"Patient/{patient['id']}"}
