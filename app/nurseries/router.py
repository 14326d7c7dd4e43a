"""/v1/nurseries: the maintained nurseries, and enrolling a child at one."""

from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.auth.deps import CallerDep
from app.decisions.guard import PurposeDep
from app.decisions.subjects import decide_for_person
from app.nurseries import schemas
from app.nurseries import service as nurseries_service
from app.platform.categories import categories_of
from app.platform.db import SessionDep
from app.platform.idempotency import IdempotencyDep
from app.platform.problems import NotFound, Unprocessable
from app.policy.vocabulary import Action

router = APIRouter(tags=["nurseries"])

NurseryId = Annotated[UUID, Path(description="The nursery's id (GET /v1/nurseries).")]
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
    description="A write about the child, decided on the child's record. An unknown "
    "nursery is 404; a `child_id` that names no person, or a person who is not a child, "
    "is 422.",
    response_model_exclude_unset=True,
    responses={404: {"description": "No maintained nursery with this id"}},
)
def create_enrolment(
    nursery_id: NurseryId,
    body: schemas.EnrolmentCreate,
    idempotency: IdempotencyDep,
    request: Request,
    response: Response,
    caller: CallerDep,
    declared: PurposeDep,
    session: SessionDep,
) -> schemas.EnrolmentRead:
    if nurseries_service.get(session, nursery_id) is None:
        raise NotFound("No maintained nursery with this id.")
    try:
        access = decide_for_person(
            session,
            request,
            response,
            caller,
            declared,
            body.child_id,
            action=Action.WRITE,
            categories=categories_of(schemas.EnrolmentCreate),
            resource="enrolment",
        )
    except NotFound:
        # The child is named in the body, not the path: a bad reference is invalid input.
        raise Unprocessable("child_id", "no person with this id") from None
    stored = nurseries_service.enrol(session, access.person, nursery_id, body, enrolment_id=uuid4())
    result = access.allowed.only(schemas.EnrolmentRead, stored)
    idempotency.remember(session, status.HTTP_201_CREATED, result)
    return result
