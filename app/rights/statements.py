"""What an access package states beside the data (DOMAIN.md, "Data-subject rights"; UK
GDPR Art 15(1) and (2)), built once, when the package is, and stored with it.

The words are reference data (app/reference/data/access_statements.json: the privacy
notice's, quoted, where it states them; controller.json: the contacts); the sources
and transfers are read off the package's own content, so they name exactly what the
subject is given: a category withheld under an exemption takes its sources with it.
The JSON package carries them as `statements`; the FHIR Bundle renders the same object
as a Composition (app.rights.fhir).
"""

from collections.abc import Iterable, Sequence

from app.policy.records import UNITED_KINGDOM
from app.policy.vocabulary import Category
from app.reference import catalogue
from app.rights import schemas

UNCONFIRMED = "not recorded"
"""The country or safeguard of a recipient the reference data no longer lists."""


def build(people: Sequence[schemas.HeldRecord]) -> schemas.Statements:
    words = catalogue.access_statements()
    authority = words.authority
    transfers = _transfers(d for record in people for d in record.disclosures)
    return schemas.Statements(
        controller=words.controller,
        rights=[
            schemas.RightStatement(
                right=schemas.Right(r.right),
                article=r.article,
                request_type=schemas.RequestType(r.request_type) if r.request_type else None,
                statement=r.statement,
            )
            for r in words.rights
        ],
        rights_notice=words.rights_notice,
        how_to_exercise=words.rights_how,
        complaint=schemas.ComplaintStatement(
            authority=authority.name,
            website=authority.website,
            telephone=authority.telephone,
            email=authority.email,
            address=authority.address,
            contact_us_first=words.complaints_first,
            notice=words.complaint_notice,
        ),
        sources=schemas.SourcesStatement(
            notice=words.sources_notice,
            safeguarding=_distinct(
                item.source for record in people for item in record.safeguarding
            ),
            documents=_distinct(d.source for record in people for d in record.documents),
        ),
        automated_decision_making=schemas.AutomatedDecisionStatement(
            used=words.automated_decision_making, notice=words.automated_notice
        ),
        transfers=schemas.TransfersStatement(
            statement=words.transfers_some if transfers else words.transfers_none,
            recipients=transfers,
        ),
    )


def _distinct(values: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _transfers(disclosures: Iterable[schemas.DisclosureRead]) -> list[schemas.TransferStatement]:
    """The recipients outside the UK, or whose country is not confirmed, that something
    in the package was disclosed to: a share to them is a transfer (UK GDPR Chapter V)."""
    known = catalogue.recipients()
    sent: dict[str, set[Category]] = {}
    for disclosure in disclosures:
        sent.setdefault(disclosure.recipient, set()).update(disclosure.categories)
    out = []
    for code, categories in sent.items():
        recipient = known.get(code)
        if recipient is not None and recipient.country == UNITED_KINGDOM:
            continue
        out.append(
            schemas.TransferStatement(
                recipient=code,
                name=recipient.name if recipient else code,
                country=recipient.country if recipient else UNCONFIRMED,
                safeguard=(recipient.transfer_safeguard if recipient else None) or UNCONFIRMED,
                categories=[c for c in Category if c in categories],
            )
        )
    return out
