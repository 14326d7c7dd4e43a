"""/v1/nurseries: the maintained nurseries, and enrolling a child at one."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Query, status

from app.auth.deps import CallerDep
from app.decisions.access import Access, From, declare
from app.nurseries import schemas
from app.nurseries import service as nurseries_service
from app.platform.db import SessionDep
from app.policy.vocabulary import Action, RecordKind

router = APIRouter(tags=["nurseries"])

Enrol = Annotated[
    Access,
    declare(
        "create_enrolment",
        Action.WRITE,
        schemas.EnrolmentCreate,
        "enrolment",
        subject=From.BODY_PERSON,
        field="child_id",
        body=schemas.EnrolmentCreate,
        record=RecordKind.ENROLMENT,
        nursery=True,
        idempotent=True,
    ),
]
Limit = Annotated[int, Query(ge=1, le=200, description="Nurseries per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]


@router.get(
    "/nurseries",
    summary="The council's maintained nurseries",
    description="Reference data, not personal data: any valid token, no `X-Purpose`.",
)
def list_nurseries(
    _: CallerDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.NurseryPage:
    found = nurseries_service.page(session, limit=limit, cursor=cursor)
    return schemas.NurseryPage(
        items=[
            schemas.NurseryRead(id=nursery.id, name=nursery.name, org=nursery.org)
            for nursery in found.items
        ],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/nurseries/{nursery_id}/enrolments",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a child at a nursery (what nursery_care scope follows)",
    description="A write about the child, decided on the child's record: by a "
    "`nursery_practitioner` of that nursery only, under `nursery_care` (DOMAIN.md 'Who may "
    "record what'; the one write object scope does not stop, since it is how a child comes "
    "into scope); any other caller is 403. An unknown nursery is 404; a `child_id` that "
    "names no person, or a person who is not a child, is 422.",
    response_model_exclude_unset=True,
    responses={404: {"description": "No maintained nursery with this id"}},
)
def create_enrolment(
    body: schemas.EnrolmentCreate, granted: Enrol, session: SessionDep
) -> schemas.EnrolmentRead:
    nursery_id = granted.nursery_id
    assert nursery_id is not None
    stored = nurseries_service.enrol(
        session, granted.the_person(), nursery_id, body, enrolment_id=uuid4()
    )
    result = granted.only(schemas.EnrolmentRead, stored)
    granted.remember(session, status.HTTP_201_CREATED, result)
    return result
