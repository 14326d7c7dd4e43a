"""The baseline for bench/people_read.py: a bare FastAPI + SQLAlchemy ORM read by key.

No token, no decision, no audit: what reading a person costs before the service adds
anything (PERFORMANCE.md's "FastAPI + SQLAlchemy ORM read"). The engine is built by
app.platform.db.make_engine with the service's settings, so pool and driver options
are the same as the real app's.

    IEYS_DATABASE_URL=... uvicorn --app-dir bench baseline_app:app --workers 2
"""

from datetime import date
from uuid import UUID

from fastapi import FastAPI, HTTPException
from sqlalchemy.orm import Session, sessionmaker

from app import models as _every_table  # noqa: F401  (mappers configured as in the app)
from app.people.models import Person
from app.platform.db import make_engine
from app.platform.settings import get_settings

_settings = get_settings()
_engine = make_engine(_settings.database_url, pool_size=_settings.db_pool_size)
_sessions: sessionmaker[Session] = sessionmaker(
    bind=_engine, expire_on_commit=False, autoflush=False
)

app = FastAPI(title="IEYS bench baseline")


@app.get("/people/{person_id}")
def read_person(person_id: UUID) -> dict[str, UUID | str | date | None]:
    # A session per request, as the real app's unit of work opens one.
    with _sessions() as session:
        person = session.get(Person, person_id)
        if person is None:
            raise HTTPException(status_code=404)
        return {
            "id": person.id,
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
            "nhs_number": person.nhs_number,
        }
