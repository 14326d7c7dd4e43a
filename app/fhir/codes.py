"""Codes and displays the FHIR resources carry for the service's own vocabularies.

`REVIEW_SNOMED` is where a Healthy Child Programme review has a SNOMED CT concept the
service has confirmed with its clinical coding lead: such a review's `Observation.code`
carries it first, beside the service's own code. A review without one is coded by the
service's own system only, never by a guessed concept.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

REVIEW_DISPLAY: Final[Mapping[str, str]] = MappingProxyType(
    {
        "new_birth": "New birth review",
        "6_8_week": "6 to 8 week review",
        "1_year": "1 year review",
        "2_2_5_year": "2 to 2 and a half year review",
    }
)
REVIEW_SNOMED: Final[Mapping[str, tuple[str, str]]] = MappingProxyType({})
"""review code -> (SNOMED CT concept id, display), once confirmed (see above)."""

OUTCOME_DISPLAY: Final[Mapping[str, str]] = MappingProxyType(
    {
        "no_concerns": "No concerns",
        "support_needed": "Support needed",
        "referred": "Referred",
    }
)
SAFEGUARDING_DISPLAY: Final[Mapping[str, str]] = MappingProxyType(
    {
        "risk_issue": "Risk issue",
        "child_protection_plan": "Child protection plan",
        "looked_after": "Looked-after child",
        "assessment": "Safeguarding assessment",
    }
)
