"""/v1/people/{id}/relationships and /v1/relationships/{id}: family relationships."""

from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, Depends, Query, Response, status

from app.decisions.access import Access, From, declare
from app.platform.crypto import KeyRing, get_key_ring
from app.platform.db import SessionDep
from app.policy.vocabulary import Action
from app.relationships import schemas
from app.relationships import service as relationships_service

router = APIRouter(tags=["relationships"])

KeysDep = Annotated[KeyRing, Depends(get_key_ring)]
Limit = Annotated[int, Query(ge=1, le=200, description="Relationships per page.")]
Cursor = Annotated[
    str | None, Query(max_length=400, description="`next_cursor` from the previous page.")
]

ReadRelationships = Annotated[
    Access,
    declare(
        "list_relationships",
        Action.READ,
        schemas.RelationshipRead,
        "relationship",
        subject=From.PERSON,
    ),
]
WriteRelationship = Annotated[
    Access,
    declare(
        "create_relationship",
        Action.WRITE,
        schemas.RelationshipCreate,
        "relationship",
        subject=From.PERSON,
        body=schemas.RelationshipCreate,
        # The other person's household data is written too: decided like the subject.
        also="to_person_id",
        idempotent=True,
    ),
]
DeleteRelationship = Annotated[
    Access,
    declare(
        "delete_relationship",
        Action.WRITE,
        schemas.RelationshipRead,
        "relationship",
        subject=From.RELATIONSHIP,
    ),
]


@router.get(
    "/people/{person_id}/relationships",
    summary="List a person's family relationships",
    description="The relationships recorded from this person, in and outside the household, "
    "in the order recorded; one recorded from the other person is listed under theirs.",
    response_model_exclude_unset=True,
)
def list_relationships(
    granted: ReadRelationships,
    session: SessionDep,
    keys: KeysDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> schemas.RelationshipPage:
    found = relationships_service.page(
        session, granted.the_person(), keys, limit=limit, cursor=cursor
    )
    return schemas.RelationshipPage(
        items=[granted.only(schemas.RelationshipRead, item) for item in found.items],
        next_cursor=found.next_cursor,
    )


@router.post(
    "/people/{person_id}/relationships",
    status_code=status.HTTP_201_CREATED,
    summary="Record a family relationship, to someone on the record or not",
    description="Exactly one of `to_person_id` (a person on the record, not this person: "
    "decided like this person, since the relationship is their household data too; an id "
    "never held is 422) and `to_name` (someone not on the record: stored encrypted). A "
    "retry with the same `Idempotency-Key` returns the first relationship without "
    "`to_name` (`Idempotent-Replayed: true`).",
    response_model_exclude_unset=True,
)
def create_relationship(
    body: schemas.RelationshipCreate,
    granted: WriteRelationship,
    session: SessionDep,
    keys: KeysDep,
) -> schemas.RelationshipRead:
    stored = relationships_service.create(
        session, granted.the_person(), body, keys, relationship_id=uuid4()
    )
    replay = granted.only(schemas.RelationshipRead, relationships_service.replayable(stored))
    granted.remember(session, status.HTTP_201_CREATED, replay)
    return granted.only(schemas.RelationshipRead, stored)


@router.delete(
    "/relationships/{relationship_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a relationship recorded in error, or one that has ended",
    description="Decided as a write of `household` data about the person whose relationship it is.",
    response_class=Response,
)
def delete_relationship(granted: DeleteRelationship, session: SessionDep) -> None:
    assert granted.relationship is not None
    relationships_service.remove(session, granted.relationship)
