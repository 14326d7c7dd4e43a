"""Synthetic Camden families for demonstrations and load tests (issue #4).

Nobody here is real: NHS numbers come from the 999 range that is never issued
(DOMAIN.md), telephone numbers from Ofcom's ranges reserved for drama, e-mail
addresses from example.com (RFC 2606), and names from short built-in lists.

Deterministic by seed: one `random.Random(seed)` draws everything in a fixed order,
family by family, so the same seed and `today` give the same ids, names, dates and
identifiers whatever the batch size. Only data keys and ciphertexts differ between
runs: they come from the operating system's random source, as a key must.

Fast: rows are built as plain dicts and written with Core `insert(table)` executemany,
one transaction per batch. The ORM's unit of work would cost about 1 ms of CPU per
row (PERFORMANCE.md), some twenty minutes for 100,000 families.
"""

import itertools
import queue
import random
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final, TypeVar
from uuid import UUID

from psycopg import sql as psql
from sqlalchemy import Connection, Engine, Table, insert, select

from app.centres import catalogue as centres_catalogue
from app.education import schemas as education_schemas
from app.education import service as education_service
from app.models import metadata
from app.platform.crypto import FieldCipher, KeyRing, field_aad, get_key_ring, new_data_key
from app.platform.identifiers import LONDON, EthnicCategory, nhs_check_digit, upn_check_letter
from app.reference import catalogue
from app.reports.models import EVERYTHING, household_changed
from app.retention import rules as retention_rules
from app.safeguarding import service as safeguarding_service
from app.safeguarding.schemas import SafeguardingKind

T = TypeVar("T")

TABLE_ORDER: Final = (
    "family",
    "family_key",
    "person",
    "special_category",
    "circumstances",
    "education_record",
    "relationship",
    "family_worker_support",
    "enrolment",
    "safeguarding_record",
    "consent",
    "contact",
)
"""Parents before children, so every foreign key points at a row already written."""

CAMDEN_LA_CODE: Final = "202"
NHS_TEST_PREFIX: Final = "999"
FIRST_NHS_SERIAL: Final = 1
"""Demo numbers count up from 999 000 001; test factories start at 999 100 001."""

CONSENT_CATEGORIES: Final = "identity,contact,household,circumstances,health,services"
DEMO_FAMILY_WORKER: Final = "demo-family-worker"

# --- content ---------------------------------------------------------------------------
# Word lists are kept compact by hand: one entry per line would bury the code.
# fmt: off

# Camden's postcode districts (DOMAIN.md), weighted roughly by how many families live
# there; WC1, WC2 and EC1 are split into the sub-districts that reach into the borough.
_DISTRICT_STREETS: Final[Mapping[str, tuple[int, tuple[str, ...]]]] = {
    "NW1": (16, ("Camden Street", "Royal College Street", "Eversholt Street", "Agar Grove",
                 "Hampstead Road", "Chalk Farm Road", "Arlington Road")),
    "NW3": (10, ("Fleet Road", "England's Lane", "Belsize Park Gardens", "Fitzjohn's Avenue",
                 "Haverstock Hill")),
    "NW5": (14, ("Fortess Road", "Malden Road", "Queen's Crescent", "Highgate Road",
                 "Leighton Road", "Prince of Wales Road", "Kentish Town Road")),
    "NW6": (12, ("Kilburn High Road", "Belsize Road", "Mill Lane", "Fordwych Road",
                 "Maygrove Road", "Abbey Road")),
    "NW8": (4, ("Boundary Road", "Loudoun Road", "Alexandra Road")),
    "N6": (3, ("Swain's Lane", "Highgate West Hill", "Dartmouth Park Hill")),
    "N7": (4, ("Brecknock Road", "Camden Road", "Torriano Avenue")),
    "N19": (7, ("Junction Road", "Dartmouth Park Hill", "Raydon Street", "Chester Road")),
    "WC1A": (2, ("New Oxford Street", "Museum Street")),
    "WC1H": (4, ("Marchmont Street", "Judd Street", "Cartwright Gardens", "Tavistock Place")),
    "WC1N": (3, ("Lamb's Conduit Street", "Great Ormond Street", "Queen Square")),
    "WC1X": (4, ("Gray's Inn Road", "Ampton Street", "Frederick Street")),
    "WC2A": (1, ("Portugal Street", "Sardinia Street")),
    "WC2B": (1, ("Drury Lane", "Kemble Street")),
    "WC2H": (2, ("Shaftesbury Avenue", "Earlham Street", "Neal Street")),
    "EC1M": (1, ("Clerkenwell Road", "Eyre Street Hill")),
    "EC1N": (2, ("Leather Lane", "Hatton Garden", "Baldwin's Gardens")),
    "EC1R": (2, ("Phoenix Place", "Mount Pleasant", "Warner Street")),
}
_DISTRICTS: Final = tuple(_DISTRICT_STREETS)
_DISTRICT_CUM: Final = tuple(itertools.accumulate(w for w, _ in _DISTRICT_STREETS.values()))
# Letters Royal Mail uses in an inward code (never C, I, K, M, O or V).
_INWARD_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"

_GIRLS: Final = ("Amara", "Olivia", "Aisha", "Fatima", "Isla", "Zara", "Maya", "Sofia", "Ava",
                 "Mia", "Hana", "Leila", "Chloe", "Grace", "Nia", "Ella", "Yasmin", "Ruby",
                 "Freya", "Ayesha", "Esme", "Priya", "Aaliyah", "Lucia")
_BOYS: Final = ("Muhammad", "Oliver", "Noah", "Leo", "Arthur", "Yusuf", "Kwame", "Ibrahim",
                "Theo", "Jack", "Samuel", "Omar", "Elijah", "Adam", "Luca", "Tariq", "George",
                "Kofi", "Daniel", "Rahim", "Finn", "Arjun", "Mateo", "Idris")
_FAMILY_NAMES: Final = ("Okafor", "Ahmed", "Smith", "Khan", "Jones", "Begum", "Murphy", "Silva",
                        "Nowak", "Hussain", "Williams", "Mensah", "Chen", "Patel", "Kowalski",
                        "O'Brien", "Rossi", "Ali", "Brown", "Taylor", "Hassan", "Osei",
                        "Ibrahim", "Davies", "Nguyen", "Costa", "Yilmaz", "Adeyemi", "Evans",
                        "Mahmoud", "Miah", "Walsh")

_ETHNICITY_WEIGHTS: Final[Mapping[EthnicCategory, int]] = {
    EthnicCategory.WHITE_BRITISH: 33, EthnicCategory.WHITE_IRISH: 2,
    EthnicCategory.WHITE_OTHER: 15, EthnicCategory.MIXED_WHITE_AND_BLACK_CARIBBEAN: 2,
    EthnicCategory.MIXED_WHITE_AND_BLACK_AFRICAN: 2, EthnicCategory.MIXED_WHITE_AND_ASIAN: 2,
    EthnicCategory.MIXED_OTHER: 3, EthnicCategory.INDIAN: 3, EthnicCategory.PAKISTANI: 1,
    EthnicCategory.BANGLADESHI: 6, EthnicCategory.ASIAN_OTHER: 3, EthnicCategory.CARIBBEAN: 2,
    EthnicCategory.AFRICAN: 8, EthnicCategory.BLACK_OTHER: 2, EthnicCategory.CHINESE: 2,
    EthnicCategory.OTHER: 6, EthnicCategory.NOT_STATED: 6,
}
_ETHNICITIES: Final = tuple(code.value for code in _ETHNICITY_WEIGHTS)
_ETHNICITY_CUM: Final = tuple(itertools.accumulate(_ETHNICITY_WEIGHTS.values()))

_CHILD_HISTORY: Final = (None, None, "Born at 38 weeks; no complications.",
                         "Jaundice treated with phototherapy in the first week.",
                         "Admitted overnight with bronchiolitis; recovered.",
                         "Eczema, managed with emollients.", "Tongue-tie divided at 3 weeks.")
_CHILD_WELLBEING: Final = (None, "Settled and feeding well.", "Thriving; meeting milestones.",
                           "Sleep disturbed; routine discussed with parents.")
_CHILD_NEEDS: Final = (None, None, None, "Speech and language support requested.",
                       "Hearing test follow-up due.", "Dietary advice for faltering growth.")
_ALLERGIES: Final = (None, None, "None known", "Cow's milk protein allergy", "Egg allergy",
                     "Peanut allergy")
_CARER_HISTORY: Final = (None, None, "Asthma", "Type 1 diabetes",
                         "Postnatal depression, under GP care")
_CARER_WELLBEING: Final = (None, "Coping well.", "Feeling isolated since moving to the area.",
                           "Low mood; referred to perinatal mental health.")

_WORK_STATUS: Final = ("employed", "self_employed", "unemployed", "student", "not_stated")
_LEGAL_STATUS: Final = ("british_citizen", "settled_status", "pre_settled_status", "refugee",
                        "no_recourse_to_public_funds")
_ACCOMMODATION: Final = ("social_rented", "private_rented", "owner_occupied",
                         "temporary_accommodation")

REVIEWS: Final = ("new_birth", "6_8_week", "1_year", "2_2_5_year")
OUTCOMES: Final = ("no_concerns", "support_needed", "referred")
_OUTCOME_CUM: Final = (82, 96, 100)
_REVIEW_NOTES: Final = ("Growth and development on track.", "Discussed safe sleep and feeding.",
                        "Speech delay noted; advice given.", "Parents report no concerns.",
                        "Weight below expected centile; review in four weeks.")
_CENTRE_SERVICES: Final = ("Stay and Play", "Baby Massage", "Messy Play", "Story and Rhyme",
                           "Parent and Baby Group")
_CENTRE_NOTES: Final = ("Attended with parent; joined in well.",
                        "Parent asked about nursery places.",
                        "Signposted to welfare rights advice.")
_HOME_VISIT_NOTES: Final = ("Home visit: family settled in new flat.",
                            "Agreed a plan for school readiness.",
                            "Discussed housing repairs; landlord contacted.")
_PLAN_SUMMARIES: Final = ("Child protection plan agreed at initial conference: neglect.",
                          "Child protection plan agreed at initial conference: emotional harm.",
                          "Child protection plan agreed at initial conference: physical harm.")

# fmt: on

# --- shares of the population ----------------------------------------------------------

_CHILDREN_CUM: Final = (55, 90, 100)
"""One child 55%, two 35%, three 10%."""
P_TWO_CARERS: Final = 0.6
P_HOUSEHOLD_MEMBER: Final = 0.15
P_FAMILY_WORKER: Final = 0.05
P_CONSENT: Final = 0.16
"""Plus every family-worker family (early help rests on consent): about 20% in all."""
P_CHILD_PROTECTION_PLAN: Final = 0.03
P_ENROLMENT_FROM_TWO: Final = 0.13
"""Maintained nursery schools take children from two: about 8% of all children."""
P_CHILD_SPECIAL: Final = 0.4
P_CARER_SPECIAL: Final = 0.2
P_CIRCUMSTANCES: Final = 0.25
P_REVIEW_PAST_WINDOW: Final = 0.85
P_REVIEW_IN_WINDOW: Final = 0.25
"""Most children inside a review's window are still due: invitations find them."""
P_CENTRE_CONTACTS: Final = 0.25
P_EDUCATION: Final = 0.6
"""Of the children with a nursery place: an education record."""
P_GRANDPARENT: Final = 0.15
"""Of the children: a grandparent outside the household, named (not on the record)."""
_GRANDPARENTS: Final = ("Nana Comfort", "Grandad Errol", "Nonna Lucia", "Dadi Parveen")
_EXCLUSION_REASONS: Final = ("Hurt another child", "Persistent disruption")


class DemoDataPresent(Exception):
    """The database already holds demo data this run would collide with."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    seed: int
    families: int
    first_family_id: UUID
    counts: Mapping[str, int]
    """Rows written, per table, in `TABLE_ORDER`."""

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def demo_id(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def first_family_id(seed: int) -> UUID:
    """The id of the first family a seed generates: the marker that it is loaded."""
    return demo_id(random.Random(seed))


def demo_nhs_numbers() -> Iterator[str]:
    """Valid 999-range NHS numbers, in order, from a counter: unique by construction.

    The range holds about 909,000 valid numbers; a load larger than that (a million
    children for the reports benchmark) gives the people after them none, as the
    service allows (an NHS number is optional).
    """
    for serial in range(FIRST_NHS_SERIAL, 1_000_000):
        nine = f"{NHS_TEST_PREFIX}{serial:06d}"
        check = nhs_check_digit(nine)
        # A check of 10 means no number is ever issued with these nine digits.
        if check is not None:
            yield f"{nine}{check}"


def oldest_child_birth_date(today: date) -> date:
    """The earliest date of birth of a child still under five on `today`.

    Five years minus a day in general; the loop settles 29 February edges, where
    "five years before" and "the fifth birthday" do not mirror each other.
    """
    born = retention_rules.add_years(today, -retention_rules.CHILD_YEARS)
    while not retention_rules.is_under_five(born, today):
        born += timedelta(days=1)
    return born


def review_window(review: str, born: date) -> tuple[date, date]:
    """The Healthy Child Programme window (DOMAIN.md), first and last day inclusive."""
    day = timedelta(days=1)
    if review == "new_birth":
        return born + timedelta(days=10), born + timedelta(days=14)
    if review == "6_8_week":
        return born + timedelta(days=42), born + timedelta(days=62)
    if review == "1_year":
        return (retention_rules.add_months(born, 9), retention_rules.add_months(born, 13) - day)
    if review == "2_2_5_year":
        return (retention_rules.add_months(born, 24), retention_rules.add_months(born, 31) - day)
    raise ValueError(f"unknown review {review!r}")


Rows = dict[str, list[dict[str, Any]]]


class _Families:
    """Draws families one after another from a single seeded stream."""

    def __init__(self, *, seed: int, today: date, keys: KeyRing) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.yesterday = today - timedelta(days=1)
        self.keys = keys
        self.oldest_child = oldest_child_birth_date(today)
        self.nhs = demo_nhs_numbers()
        self.nurseries = sorted(catalogue.nurseries())
        self.upn_serials: dict[tuple[int, int], int] = {}
        self.consent_forms = itertools.count(1)
        self.centre: str | None = None
        """The centre of the household being drawn."""

    # -- small draws ----------------------------------------------------------------

    def pick(self, population: Sequence[T], cum_weights: Sequence[int]) -> T:
        return self.rng.choices(population, cum_weights=cum_weights)[0]

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def moment(self, day: date) -> datetime:
        """A time in the working day on `day`, London time, stored as UTC."""
        at = time(self.rng.randint(9, 16), self.rng.randint(0, 59))
        return datetime.combine(day, at, LONDON).astimezone(UTC)

    def recent_day(self, since: date, *, within_days: int) -> date | None:
        """A day from `since` (or `within_days` ago, if later) to yesterday; None if none."""
        first = max(since, self.today - timedelta(days=within_days))
        return None if first > self.yesterday else self.day_between(first, self.yesterday)

    def upn(self, establishment: int, year: int) -> str | None:
        """A unique pupil number; None once an establishment's year has used 999 serials."""
        key = (establishment, year % 100)
        serial = self.upn_serials.get(key, 0) + 1
        if serial > 999:
            return None
        self.upn_serials[key] = serial
        digits = f"{CAMDEN_LA_CODE}{establishment:04d}{year % 100:02d}{serial:03d}"
        return upn_check_letter(digits) + digits

    def given_name(self, sex: str) -> str:
        if sex == "female":
            return self.rng.choice(_GIRLS)
        if sex == "male":
            return self.rng.choice(_BOYS)
        return self.rng.choice(_GIRLS + _BOYS)

    # -- one family -----------------------------------------------------------------

    def family(self, out: Rows) -> None:
        rng = self.rng
        # The family id is the stream's first draw: `first_family_id` relies on it.
        family_id = demo_id(rng)
        district = self.pick(_DISTRICTS, _DISTRICT_CUM)
        inward = f"{rng.randint(0, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"
        line1 = f"{rng.randint(1, 240)} {rng.choice(_DISTRICT_STREETS[district][1])}"
        line2 = f"Flat {rng.randint(1, 40)}" if rng.random() < 0.35 else None
        phone = f"020 7946 0{rng.randint(0, 999):03d}" if rng.random() < 0.6 else None
        surname = rng.choice(_FAMILY_NAMES)
        supported = rng.random() < P_FAMILY_WORKER
        # As people_service: the centre serving the postcode, on the household and (a
        # copy) on each member.
        self.centre = centres_catalogue.centre_of(f"{district} {inward}")

        births = sorted(
            self.day_between(self.oldest_child, self.today)
            for _ in range(self.pick((1, 2, 3), _CHILDREN_CUM))
        )
        eldest = births[0]
        # Health visiting hears of a family at the first birth: the record starts then.
        created = datetime.combine(eldest, time(0), LONDON).astimezone(UTC)
        child_destroy = [
            retention_rules.child_destruction_date(born, family_worker_supported=supported)
            for born in births
        ]
        out["family"].append(
            {
                "id": family_id,
                "address_line1": line1,
                "address_line2": line2,
                "postcode": f"{district} {inward}",
                "centre_code": self.centre,
                "phone": phone,
                "email": None,
                "family_worker_supported": supported,
                "destroy_on": retention_rules.household_destruction_date(
                    created.date(), child_destroy
                ),
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )
        # One data key per family, as the service creates it (crypto-shredding unit).
        data_key = new_data_key()
        cipher = FieldCipher(data_key)
        wrapped = self.keys.wrap(data_key)
        out["family_key"].append(
            {
                "family_id": family_id,
                "wrapped_key": wrapped.wrapped,
                "kek_id": wrapped.kek_id,
                "created_at": created,
            }
        )

        carers = self.carers(out, family_id, surname, eldest, created, cipher)
        children = [
            self.child(out, family_id, surname, born, destroy_on, created, cipher)
            for born, destroy_on in zip(births, child_destroy, strict=True)
        ]
        if rng.random() < P_HOUSEHOLD_MEMBER:
            self.older_sibling(out, family_id, surname, created)

        if supported:
            started = self.recent_day(eldest, within_days=730) or self.today
            out["family_worker_support"].append(
                {
                    "id": demo_id(rng),
                    "family_id": family_id,
                    "person_id": children[0][0],
                    "started_on": started,
                    "recorded_by": DEMO_FAMILY_WORKER,
                    "created_at": created,
                }
            )
            for _ in range(rng.randint(1, 3)):
                visit = self.recent_day(started, within_days=730)
                if visit is not None:
                    self.contact(
                        out,
                        cipher,
                        children[0][0],
                        visit,
                        kind="home_visit",
                        staff_role="family_worker",
                        service="Early Help",
                        notes=rng.choice(_HOME_VISIT_NOTES),
                    )
        if supported or rng.random() < P_CONSENT:
            for child_id, born in children:
                given = self.recent_day(born, within_days=730)
                if given is not None:
                    self.consent(out, child_id, carers[0], given)

    def carers(
        self,
        out: Rows,
        family_id: UUID,
        surname: str,
        eldest: date,
        created: datetime,
        cipher: FieldCipher,
    ) -> list[UUID]:
        rng = self.rng
        ids: list[UUID] = []
        first_sex = "female" if rng.random() < 0.85 else "male"
        count = 2 if rng.random() < P_TWO_CARERS else 1
        for index in range(count):
            person_id = demo_id(rng)
            sex = first_sex if index == 0 else ("male" if first_sex == "female" else "female")
            if index == 1 and rng.random() < 0.1:
                sex = first_sex
            given = self.given_name(sex)
            family_name = (
                surname if index == 0 or rng.random() < 0.75 else rng.choice(_FAMILY_NAMES)
            )
            born = eldest - timedelta(days=rng.randint(18 * 365, 44 * 365))
            email = None
            if rng.random() < 0.7:
                local = f"{given}.{family_name}{rng.randint(1, 99)}".lower().replace("'", "")
                email = f"{local}@example.com"
            self.person(
                out,
                person_id,
                family_id,
                kind="carer",
                given=given,
                family_name=family_name,
                born=born,
                sex=sex,
                upn=None,
                parental_responsibility=True,
                phone=f"07700 900{rng.randint(0, 999):03d}",
                email=email,
                destroy_on=None,
                created=created,
            )
            if rng.random() < P_CARER_SPECIAL:
                self.special(
                    out,
                    cipher,
                    person_id,
                    created,
                    history=_CARER_HISTORY,
                    wellbeing=_CARER_WELLBEING,
                    needs=(None,),
                    allergies=(None,),
                )
            if index == 0 and rng.random() < P_CIRCUMSTANCES:
                out["circumstances"].append(
                    {
                        "person_id": person_id,
                        "work_status": rng.choice(_WORK_STATUS),
                        "family_makeup": "two_parent" if count == 2 else "single_parent",
                        "legal_status": rng.choice(_LEGAL_STATUS),
                        "accommodation": rng.choice(_ACCOMMODATION),
                        "updated_at": created,
                        "version": 1,
                    }
                )
            ids.append(person_id)
        return ids

    def child(
        self,
        out: Rows,
        family_id: UUID,
        surname: str,
        born: date,
        destroy_on: date,
        created: datetime,
        cipher: FieldCipher,
    ) -> tuple[UUID, date]:
        rng = self.rng
        person_id = demo_id(rng)
        roll = rng.random()
        sex = "female" if roll < 0.49 else "male" if roll < 0.99 else "not_known"
        given = self.given_name(sex)
        upn = None
        two = retention_rules.add_years(born, 2)
        if two <= self.yesterday and rng.random() < P_ENROLMENT_FROM_TWO:
            nursery_index = rng.randrange(len(self.nurseries))
            start = self.recent_day(two, within_days=730)
            assert start is not None  # `two` is yesterday or earlier
            out["enrolment"].append(
                {
                    "id": demo_id(rng),
                    "nursery_id": self.nurseries[nursery_index],
                    "child_id": person_id,
                    "start_date": start,
                    "end_date": None,
                    "created_at": self.moment(start),
                }
            )
            # A nursery school allocates the UPN: establishments 1000-1999 are nursery
            # schools in the DfE numbering.
            upn = self.upn(1000 + nursery_index, start.year)
        self.person(
            out,
            person_id,
            family_id,
            kind="child",
            given=given,
            family_name=surname,
            born=born,
            sex=sex,
            upn=upn,
            parental_responsibility=False,
            phone=None,
            email=None,
            destroy_on=destroy_on,
            created=created,
        )
        if rng.random() < P_CHILD_SPECIAL:
            self.special(
                out,
                cipher,
                person_id,
                created,
                history=_CHILD_HISTORY,
                wellbeing=_CHILD_WELLBEING,
                needs=_CHILD_NEEDS,
                allergies=_ALLERGIES,
            )
        # Drawn from a generator of the child's own, so that adding these records left
        # every other value a seed makes as it was.
        extra = random.Random(person_id.int)
        if upn is not None and extra.random() < P_EDUCATION:
            self.education(out, cipher, extra, person_id, created)
        if extra.random() < P_GRANDPARENT:
            relationship_id = UUID(int=extra.getrandbits(128), version=4)
            out["relationship"].append(
                {
                    "id": relationship_id,
                    "person_id": person_id,
                    "to_person_id": None,
                    "to_name": cipher.encrypt(
                        extra.choice(_GRANDPARENTS),
                        aad=field_aad("relationship", "to_name", relationship_id),
                    ),
                    "kind": "grandparent",
                    "in_household": False,
                    "has_parental_responsibility": False,
                    "created_at": created,
                }
            )
        if rng.random() < P_CHILD_PROTECTION_PLAN:
            self.plan(out, cipher, person_id, born)
        self.reviews(out, cipher, person_id, born)
        if rng.random() < P_CENTRE_CONTACTS:
            for _ in range(rng.randint(1, 2)):
                day = self.recent_day(born, within_days=730)
                if day is not None:
                    notes = rng.choice(_CENTRE_NOTES) if rng.random() < 0.2 else None
                    self.contact(
                        out,
                        cipher,
                        person_id,
                        day,
                        kind=rng.choice(("group_session", "centre_contact")),
                        staff_role="childrens_centre_worker",
                        service=rng.choice(_CENTRE_SERVICES),
                        notes=notes,
                    )
        return person_id, born

    def older_sibling(self, out: Rows, family_id: UUID, surname: str, created: datetime) -> None:
        """A brother or sister of 5 to 17: a household member, never a `child`."""
        rng = self.rng
        person_id = demo_id(rng)
        sex = "female" if rng.random() < 0.5 else "male"
        given = self.given_name(sex)
        born = retention_rules.add_years(self.today, -5) - timedelta(days=rng.randint(1, 12 * 365))
        upn = None
        if rng.random() < 0.6:
            # Primary schools are establishments 2000-2999; entry the September after 4.
            entry_year = born.year + (5 if born.month >= 9 else 4)
            upn = self.upn(2000 + rng.randrange(40), entry_year)
        self.person(
            out,
            person_id,
            family_id,
            kind="household_member",
            given=given,
            family_name=surname,
            born=born,
            sex=sex,
            upn=upn,
            parental_responsibility=False,
            phone=None,
            email=None,
            destroy_on=None,
            created=created,
        )

    # -- rows -----------------------------------------------------------------------

    def person(
        self,
        out: Rows,
        person_id: UUID,
        family_id: UUID,
        *,
        kind: str,
        given: str,
        family_name: str,
        born: date,
        sex: str,
        upn: str | None,
        parental_responsibility: bool,
        phone: str | None,
        email: str | None,
        destroy_on: date | None,
        created: datetime,
    ) -> None:
        out["person"].append(
            {
                "id": person_id,
                "family_id": family_id,
                "kind": kind,
                "given_name": given,
                "family_name": family_name,
                "date_of_birth": born,
                "sex": sex,
                "nhs_number": next(self.nhs, None),
                "upn": upn,
                "has_parental_responsibility": parental_responsibility,
                "phone": phone,
                "email": email,
                "centre_code": self.centre,
                "restricted": False,
                "objection_upheld": False,
                # A child's own date; adults go with the household (people_service does
                # the same: their row carries none).
                "destroy_on": destroy_on,
                "created_at": created,
                "updated_at": created,
                "version": 1,
            }
        )

    def special(
        self,
        out: Rows,
        cipher: FieldCipher,
        person_id: UUID,
        created: datetime,
        *,
        history: Sequence[str | None],
        wellbeing: Sequence[str | None],
        needs: Sequence[str | None],
        allergies: Sequence[str | None],
    ) -> None:
        rng = self.rng
        plain = {
            "ethnicity": self.pick(_ETHNICITIES, _ETHNICITY_CUM),
            "medical_history": rng.choice(history),
            "wellbeing": rng.choice(wellbeing),
            "needs": rng.choice(needs),
            "allergies": rng.choice(allergies),
        }
        # Exactly as people.records.write: the family's key, bound to the row.
        sealed = {
            column: cipher.encrypt_optional(
                value, aad=field_aad("special_category", column, person_id)
            )
            for column, value in plain.items()
        }
        out["special_category"].append(
            {"person_id": person_id, **sealed, "updated_at": created, "version": 1}
        )

    def education(
        self,
        out: Rows,
        cipher: FieldCipher,
        rng: random.Random,
        person_id: UUID,
        created: datetime,
    ) -> None:
        exclusions = None
        if rng.random() < 0.05:
            # A child with a nursery place is two or more: a recent day is after birth.
            day = self.yesterday - timedelta(days=rng.randint(0, 60))
            exclusions = [
                education_schemas.Exclusion.model_validate(
                    {"from": day, "to": day, "reason": rng.choice(_EXCLUSION_REASONS)}
                )
            ]
        body = education_schemas.Education(
            attendance_percent=round(rng.uniform(70, 100), 1),
            exclusions=exclusions,
            behaviour=rng.choice(list(education_schemas.Behaviour)),
            attainment=rng.choice(list(education_schemas.Attainment)),
        )
        # Exactly as people.records.write: the family's key, bound to the row.
        sealed = {
            column: cipher.encrypt_optional(
                value, aad=field_aad(education_service.AAD_TABLE, column, person_id)
            )
            for column, value in education_service.to_columns(body).items()
        }
        out["education_record"].append(
            {"person_id": person_id, **sealed, "updated_at": created, "version": 1}
        )

    def plan(self, out: Rows, cipher: FieldCipher, person_id: UUID, born: date) -> None:
        rng = self.rng
        record_id = demo_id(rng)
        start = self.recent_day(born, within_days=540) or self.today
        out["safeguarding_record"].append(
            {
                "id": record_id,
                "person_id": person_id,
                # Exactly as safeguarding_service.create: kind and dates sealed too.
                **safeguarding_service.sealed(
                    cipher,
                    record_id,
                    kind=SafeguardingKind.CHILD_PROTECTION_PLAN,
                    summary=rng.choice(_PLAN_SUMMARIES),
                    start_date=start,
                    # No end date: the plan is active (API.md).
                    end_date=None,
                    source=None,
                ),
                "created_at": self.moment(start),
            }
        )

    def reviews(self, out: Rows, cipher: FieldCipher, person_id: UUID, born: date) -> None:
        rng = self.rng
        for review in REVIEWS:
            first, last = review_window(review, born)
            if first > self.yesterday:
                break
            chance = P_REVIEW_PAST_WINDOW if last < self.today else P_REVIEW_IN_WINDOW
            if rng.random() >= chance:
                continue
            day = self.day_between(first, min(last, self.yesterday))
            notes = rng.choice(_REVIEW_NOTES) if rng.random() < 0.3 else None
            self.contact(
                out,
                cipher,
                person_id,
                day,
                kind="development_review",
                staff_role="health_visitor",
                service="Health Visiting",
                notes=notes,
                review=review,
                outcome=self.pick(OUTCOMES, _OUTCOME_CUM),
            )

    def contact(
        self,
        out: Rows,
        cipher: FieldCipher,
        person_id: UUID,
        day: date,
        *,
        kind: str,
        staff_role: str,
        service: str,
        notes: str | None,
        review: str | None = None,
        outcome: str | None = None,
    ) -> None:
        contact_id = demo_id(self.rng)
        occurred = self.moment(day)
        out["contact"].append(
            {
                "id": contact_id,
                "person_id": person_id,
                "kind": kind,
                "occurred_at": occurred,
                "staff_role": staff_role,
                "service": service,
                # Notes can reveal anything, and a review's outcome is health data.
                "notes": cipher.encrypt_optional(
                    notes, aad=field_aad("contact", "notes", contact_id)
                ),
                "review": review,
                "outcome": cipher.encrypt_optional(
                    outcome, aad=field_aad("contact", "outcome", contact_id)
                ),
                "created_at": occurred,
            }
        )

    def consent(self, out: Rows, subject_id: UUID, given_by: UUID, day: date) -> None:
        out["consent"].append(
            {
                "id": demo_id(self.rng),
                "subject_id": subject_id,
                "given_by_id": given_by,
                "type": "early_help_support",
                "categories": CONSENT_CATEGORIES,
                "recipient": None,
                "method": "signed_form",
                "evidence_ref": f"EH-FORM-{next(self.consent_forms):07d}",
                "given_at": self.moment(day),
                "withdrawn_at": None,
                "withdrawal_reason": None,
            }
        )


# --- writing ---------------------------------------------------------------------------

_TABLES: Final[Mapping[str, Table]] = {name: metadata.tables[name] for name in TABLE_ORDER}


@contextmanager
def _batch_transaction(target: Connection | Engine) -> Iterator[Connection]:
    """One transaction per batch.

    An Engine: each batch commits, so a long load keeps what it has written and
    holds no locks for long. A Connection already in a transaction (a test's, rolled
    back afterwards): a savepoint per batch, and the caller decides whether to commit.
    """
    if isinstance(target, Engine):
        with target.begin() as connection:
            yield connection
    elif target.in_transaction():
        with target.begin_nested():
            yield target
    else:
        with target.begin():
            yield target


def _write(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows: PostgreSQL's COPY where available, else Core executemany.

    COPY streams rows without a statement per batch of parameters: about three times
    the rows per second of executemany, which is what brings a million children (some
    seven million rows) within minutes.
    """
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), rows)
        return
    columns = list(rows[0])
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(table.name), psql.SQL(", ").join(map(psql.Identifier, columns))
    )
    driver = connection.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])


def refuse_if_present(target: Connection | Engine, seed: int) -> None:
    """Raise DemoDataPresent if this seed, or another, has already loaded demo data."""
    with _batch_transaction(target) as connection:
        _refuse_if_present(connection, seed)


def _refuse_if_present(connection: Connection, seed: int) -> None:
    family, person = _TABLES["family"], _TABLES["person"]
    marker = first_family_id(seed)
    if connection.execute(select(family.c.id).where(family.c.id == marker)).first():
        raise DemoDataPresent(
            f"Demo data for seed {seed} is already loaded (its first family, {marker}, "
            "exists). Nothing was written."
        )
    first_nhs = next(demo_nhs_numbers())
    if connection.execute(select(person.c.id).where(person.c.nhs_number == first_nhs)).first():
        raise DemoDataPresent(
            "Demo data from another seed is already loaded: every seed numbers its people "
            f"from NHS number {first_nhs}, so two cannot share a database. Nothing was written."
        )


class _Writer:
    """Writes each batch in its own transaction, in order.

    Given a PostgreSQL engine, a thread of its own writes one batch while the next is
    drawn: the database's work (COPY, indexes, WAL) then overlaps the drawing instead of
    following it, and a million children load in minutes. Otherwise (SQLite, or a
    caller's connection and transaction) each batch is written as it is drawn.
    """

    def __init__(self, target: Connection | Engine, progress: Callable[[int], None] | None):
        self.target = target
        self.progress = progress
        self.error: BaseException | None = None
        self.queue: queue.Queue[tuple[Rows, int] | None] = queue.Queue(maxsize=2)
        self.thread: threading.Thread | None = None
        if isinstance(target, Engine) and target.dialect.name == "postgresql":
            self.thread = threading.Thread(target=self._run, name="demo-writer", daemon=True)
            self.thread.start()

    def put(self, rows: Rows, size: int) -> None:
        if self.thread is None:
            self._write(rows, size)
            return
        if self.error is not None:
            raise self.error
        self.queue.put((rows, size))

    def close(self) -> None:
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            if self.error is not None:
                raise self.error

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self._write(*item)
                except BaseException as exc:  # raised again in the drawing thread
                    self.error = exc

    def _write(self, rows: Rows, size: int) -> None:
        with _batch_transaction(self.target) as connection:
            for name in TABLE_ORDER:
                if rows[name]:
                    _write(connection, _TABLES[name], rows[name])
        if self.progress is not None:
            self.progress(size)


def generate(
    target: Connection | Engine,
    *,
    families: int,
    seed: int,
    today: date,
    batch: int = 2000,
    progress: Callable[[int], None] | None = None,
    keys: KeyRing | None = None,
) -> DemoSummary:
    """Write `families` synthetic families; `progress(n)` after each batch of n.

    Children are under five on `today`; retention dates follow app.retention.rules.
    Raises DemoDataPresent, writing nothing, if the seed (or any other) is loaded.
    """
    if families < 0:
        raise ValueError("families must not be negative")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    refuse_if_present(target, seed)
    source = _Families(seed=seed, today=today, keys=keys or get_key_ring())
    counts = dict.fromkeys(TABLE_ORDER, 0)
    writer = _Writer(target, progress)
    try:
        done = 0
        while done < families:
            size = min(batch, families - done)
            rows: Rows = {name: [] for name in TABLE_ORDER}
            for _ in range(size):
                source.family(rows)
            writer.put(rows, size)
            for name in TABLE_ORDER:
                counts[name] += len(rows[name])
            done += size
    finally:
        writer.close()
    if families:
        # Every process's report facts are rebuilt to take the load in.
        with _batch_transaction(target) as connection:
            household_changed(connection, [EVERYTHING])
    return DemoSummary(
        seed=seed, families=families, first_family_id=first_family_id(seed), counts=counts
    )
