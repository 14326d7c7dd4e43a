"""/v1/centres: the children's centres and the postcode areas each serves."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.deps import CallerDep
from app.centres import schemas
from app.centres import service as centres_service
from app.platform.db import SessionDep

router = APIRouter(tags=["centres"])

Limit = Annotated[int, Query(ge=1, le=200, description="Centres per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]


@router.get(
    "/centres",
    summary="The children's centres and the postcode districts or sectors each serves",
    description="Reference data, not personal data: any valid token, no `X-Purpose`.",
)
def list_centres(
    _: CallerDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> schemas.CentrePage:
    found = centres_service.page(session, limit=limit, cursor=cursor)
    return schemas.CentrePage(
        items=[
            schemas.CentreRead(code=centre.code, name=centre.name, areas=list(centre.areas))
            for centre in found.items
        ],
        next_cursor=found.next_cursor,
    )
