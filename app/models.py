"""Every table, imported once so the metadata (and Alembic) sees them all."""

from app.audit import models as audit_models
from app.centres import models as centres_models
from app.consent import models as consent_models
from app.contacts import models as contacts_models
from app.documents import models as documents_models
from app.education import models as education_models
from app.keys import models as keys_models
from app.notifications import models as notifications_models
from app.nurseries import models as nurseries_models
from app.people import models as people_models
from app.platform import idempotency, ratelimit
from app.platform.db import Base
from app.reference import models as reference_models
from app.relationships import models as relationships_models
from app.reports import models as reports_models
from app.retention import models as retention_models
from app.reviews import models as reviews_models
from app.rights import models as rights_models
from app.safeguarding import models as safeguarding_models
from app.sharing import models as sharing_models

metadata = Base.metadata

__all__ = [
    "audit_models",
    "centres_models",
    "consent_models",
    "contacts_models",
    "documents_models",
    "education_models",
    "idempotency",
    "keys_models",
    "metadata",
    "notifications_models",
    "nurseries_models",
    "people_models",
    "ratelimit",
    "reference_models",
    "relationships_models",
    "reports_models",
    "retention_models",
    "reviews_models",
    "rights_models",
    "safeguarding_models",
    "sharing_models",
]
