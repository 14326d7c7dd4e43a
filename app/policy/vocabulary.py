"""The words of DOMAIN.md: roles, purposes, categories, bases, reasons.

Enum values are spelt exactly as in API.md; they are the wire vocabulary.
"""

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    HEALTH_VISITOR = "health_visitor"
    CHILDRENS_CENTRE_WORKER = "childrens_centre_worker"
    FAMILY_WORKER = "family_worker"
    PUBLIC_HEALTH_ANALYST = "public_health_analyst"
    CAMHS_CLINICIAN = "camhs_clinician"
    SPEECH_LANGUAGE_THERAPIST = "speech_language_therapist"
    NURSERY_PRACTITIONER = "nursery_practitioner"
    DATA_PROTECTION_OFFICER = "data_protection_officer"


class Purpose(StrEnum):
    SERVICE_INVITATION = "service_invitation"
    TAKE_UP_MONITORING = "take_up_monitoring"
    IMPACT_EVALUATION = "impact_evaluation"
    NEEDS_ASSESSMENT = "needs_assessment"
    EARLY_HELP = "early_help"
    HEALTH_CARE = "health_care"
    NURSERY_CARE = "nursery_care"
    SAFEGUARDING = "safeguarding"
    SUBJECT_RIGHTS = "subject_rights"
    LEGAL_CLAIMS = "legal_claims"


class Category(StrEnum):
    IDENTITY = "identity"
    CONTACT = "contact"
    HOUSEHOLD = "household"
    CIRCUMSTANCES = "circumstances"
    ETHNICITY = "ethnicity"
    HEALTH = "health"
    SAFEGUARDING = "safeguarding"
    EDUCATION = "education"
    SERVICES = "services"


class Action(StrEnum):
    """What the caller does with the record.

    `list` is a read across many subjects (an invitation list, a search): the
    safeguarding override never reaches one. `aggregate` produces counts only.
    `record_consent` records or withdraws a consent: the controller must be able to
    demonstrate consent (Art 7(1)), so it never rests on the consent it records.
    """

    READ = "read"
    WRITE = "write"
    SHARE = "share"
    LIST = "list"
    AGGREGATE = "aggregate"
    RECORD_CONSENT = "record_consent"


class Basis(StrEnum):
    """The X-Lawful-Basis vocabulary of API.md."""

    ART6_1_A = "art6-1-a"
    ART6_1_C = "art6-1-c"
    ART6_1_E = "art6-1-e"
    ART9_2_A = "art9-2-a"
    ART9_2_F = "art9-2-f"
    ART9_2_G = "art9-2-g"
    ART9_2_H = "art9-2-h"


class Reason(StrEnum):
    ALLOWED = "allowed"
    GONE = "gone"
    NOT_FOUND = "not_found"
    """An id the service never held (404, or 422 for a body's reference)."""
    PURPOSE_NOT_PERMITTED = "purpose_not_permitted"
    OUT_OF_SCOPE = "out_of_scope"
    RETENTION_EXPIRED = "retention_expired"
    PROCESSING_RESTRICTED = "processing_restricted"
    OBJECTION_UPHELD = "objection_upheld"
    JUSTIFICATION_REQUIRED = "justification_required"
    CONSENT_REQUIRED = "consent_required"
    CONSENT_WITHDRAWN = "consent_withdrawn"


class SubjectKind(StrEnum):
    """What the decision is about: a person of a given kind, or a household."""

    CHILD = "child"
    CARER = "carer"
    HOUSEHOLD_MEMBER = "household_member"
    FAMILY = "family"


class RecordKind(StrEnum):
    """A record some decisions turn on beyond its categories (DOMAIN.md "Who may record
    what", and consent records, which rest on Art 7(1))."""

    FAMILY_WORKER_SUPPORT = "family_worker_support"
    SAFEGUARDING_STATUS = "safeguarding_status"
    """A child protection plan or looked-after status, decided by children's social care."""
    SAFEGUARDING_NOTE = "safeguarding_note"
    """A risk issue or an assessment."""
    DEVELOPMENT_REVIEW = "development_review"
    ENROLMENT = "enrolment"
    CONSENT = "consent"
    """Recording or reading consent records."""
    CONSENT_WITHDRAWAL = "consent_withdrawal"
    HOUSEHOLD = "household"
    """A household read: a nursery practitioner never reads one (step 3)."""


class ConsentType(StrEnum):
    EARLY_HELP_SUPPORT = "early_help_support"
    PCPS_INFORMATION_SHARING_AND_VIDEO_RECORDING = "pcps_information_sharing_and_video_recording"


SPECIAL_CATEGORIES: Final = frozenset({Category.ETHNICITY, Category.HEALTH})
"""Art 9 special categories. Safeguarding data is treated the same way (see rules)."""

ART9_CATEGORIES: Final = SPECIAL_CATEGORIES | {Category.SAFEGUARDING}
"""Categories whose processing needs an Art 9 condition named in the decision.

Safeguarding records mix health, family and police information (Art 10), so the
service never processes them without an Art 9 condition and a Schedule 1 paragraph.
"""

MIN_JUSTIFICATION_LENGTH: Final = 20
