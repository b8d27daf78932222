#!/usr/bin/env python3
"""Deterministic synthetic sample data for ``joinedup``.

Run ``python3 scripts/make_sample.py`` (defaults: ``--seed 20261126``,
``--out data-samples``). The same seed always gives byte-identical files:
every random draw comes from one ``random.Random(seed)``, nothing reads the
clock, nothing iterates over a set, and every output is sorted.

What it writes (all synthetic; no real person, place or organisation):

* ``apc/apc_spells_2026Q3.csv``: SUS-style Admitted Patient Care spells,
  admissions 2026-07-01 to 2026-09-30 at the fictional trusts RX1 and RX2.
  UTF-8, no BOM, ``\\n``; dates ``dd/mm/yyyy``, times ``HH:MM:SS``.
* ``ecds/ecds_attendances_2026Q3.csv``: ECDS-style A&E attendances (UDAL
  column names). UTF-8 with BOM, ``\\r\\n``; ``yyyy-mm-dd HH:MM``.
* ``cld/cld_<901|902|903>_2026Q3.csv``: adult social care Client Level Data
  for the fictional councils 901 Northshire, 902 Easton and 903 Westbury.
  Windows-1252, ``\\r\\n``, the literal ``NULL`` for blanks, ``dd/mm/yyyy``.
* ``truth.json``: the facts planted below, for tests to compare against.

What it plants:

* NHS numbers only from the 999 test range with a correct Modulus 11 check
  digit (about 10% of APC numbers written as ``999 123 4567``). The script
  re-reads every file it wrote and asserts that every NHS number starts
  with 999.
* Every valid APC spell with admission method 21 has exactly one A&E
  attendance: same person and provider, arrival 1 to 20 hours before the
  admission, decision to admit between arrival and departure, departure at
  the admission time or up to an hour before it (about 30% over 4 hours, a
  few over 12). No other attendance of a person arrives in the 48 hours
  before (or during) any of that person's spells.
* Hospital discharges that wait for social care: emergency spells of people
  aged 65+, each person with exactly one APC spell and living in one
  council. Ready date R, delay d drawn from DELAY_TABLE (council x awaited
  service; Easton home care, 8-12 days, is the planted bottleneck),
  discharge = R + d. The council's CLD holds a Request (route Discharge
  from Hospital) between admission and R, an Assessment between the request
  and R, and a Service of the awaited group starting on the discharge date.
  No other Service of theirs starts 0-90 days after R and they have no other
  Discharge from Hospital request.
* Background: other spells (elective, day case, maternity, transfers, died,
  about 2% still open), about 10% of them with a ready date 1-2 days before
  discharge for people with no social care record at all; existing
  long-term social care clients with reviews (some admitted from and
  discharged back to their care home); community-only clients without an
  NHS number; spelling variants a folding comparison must accept
  (``NFA \u2013 Deceased`` with an en dash, ``progress to assessment``,
  ``Discharge From Hospital``).
* Deliberate defects, exactly one per defective row, never on a linked
  row, counted per reason in DEFECTS and in truth.json.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import statistics
from dataclasses import dataclass, field
from random import Random

DEFAULT_SEED = 20261126

D = dt.date
DT = dt.datetime
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

PERIOD_START = D(2026, 7, 1)
PERIOD_END = D(2026, 9, 30)
LAST_EVENT = D(2026, 10, 31)  # discharges and CLD event starts stop here
AGE_REF = D(2026, 7, 1)  # ages below are "age on 1 July 2026"
FAR_FUTURE = DT(2099, 1, 1)

PROVIDERS = ("RX1", "RX2")
COUNCILS = {  # LA Code -> (LA Name, LA Person Unique Identifier prefix)
    "901": ("Northshire", "NS"),
    "902": ("Easton", "EA"),
    "903": ("Westbury", "WB"),
}
COUNCIL_CODES = tuple(sorted(COUNCILS))
# Which trust each council's residents mostly use.
PROVIDER_WEIGHTS = {"901": (85, 15), "902": (50, 50), "903": (15, 85)}

# Planted delays: (council, awaited service) -> (min, max) days, uniform.
DELAY_TABLE = {
    ("901", "reablement"): (1, 3),
    ("901", "home_care"): (2, 4),
    ("901", "care_home"): (4, 8),
    ("902", "reablement"): (2, 4),
    ("902", "home_care"): (8, 12),
    ("902", "care_home"): (5, 9),
    ("903", "reablement"): (1, 3),
    ("903", "home_care"): (2, 4),
    ("903", "short_term_bed"): (3, 5),
    ("903", "care_home"): (4, 8),
}
# Planted spells per council and awaited service (fixed counts, so Easton
# is guaranteed at least 40 home-care spells).
SOCIAL_CARE_COUNTS = {
    "901": {"reablement": 33, "home_care": 33, "care_home": 19},
    "902": {"reablement": 38, "home_care": 44, "care_home": 24},
    "903": {"reablement": 30, "home_care": 30, "short_term_bed": 9, "care_home": 17},
}

# Exact defect counts per source and reason (the reason codes the pipeline
# reports when it quarantines a row).
DEFECTS = {
    "apc": {
        "invalid_date": 3,
        "date_order": 3,  # discharge before start
        "unknown_code": 3,
        "missing_required": 2,
    },
    "ecds": {"invalid_date": 3, "unknown_code": 3, "date_order": 2},
    "cld": {
        "nhs_number_invalid": 3,
        "invalid_date": 3,
        "unknown_code": 4,  # 2 Event Type + 2 Service Type
        "date_order": 2,
        "missing_required": 1,
    },
}

# Values the contracts declare to be left blank (on_invalid / on_fail = "blank"): the
# row is accepted, the value counted per column and reason in the manifest's
# data_quality (value_left_blank).
BLANKS = {
    "apc": {
        "nhs_number": {"nhs_number_invalid": 5},  # the spell is kept, with no person
        "discharge_ready_date": {"date_order": 2},  # ready after discharge
    },
    "ecds": {"nhs_number": {"nhs_number_invalid": 4}},
    "cld": {},
}

APC_HEADER = [
    "Hospital Provider Spell Number",
    "Organisation code  Sender of transaction",  # sic: double space, as in SUS
    "NHS Number",
    "NHS Number Status Indicator Code",
    "Sex",
    "Start Date (Hospital Provider Spell)",
    "Start Time (Hospital Provider Spell)",
    "Admission Method (Hospital Provider Spell)",
    "Source of Admission (Hospital Provider Spell)",
    "Patient Classification",
    "Treatment Function Code",
    "Discharge Date (From Hospital Provider Spell)",
    "Discharge Time (Hospital Provider Spell)",
    "Discharge Method (Hospital Provider Spell)",
    "Discharge Destination (Hospital Provider Spell)",
    "Hospital Provider Spell Discharge Ready Date",
]
ECDS_HEADER = [
    "EC_Ident",
    "NHS_Number",
    "Der_Provider_Code",
    "Der_Provider_Site_Code",
    "EC_Department_Type",
    "Age_At_Arrival",
    "Sex",
    "EC_AttendanceCategory",
    "Der_EC_Arrival_Date_Time",
    "EC_Decision_To_Admit_Date",
    "EC_Decision_To_Admit_Time",
    "Der_EC_Departure_Date_Time",
    "EC_Acuity_SNOMED_CT",
    "EC_Discharge_Status_SNOMED_CT",
    "Discharge_Destination_SNOMED_CT",
]
CLD_HEADER = [
    "LA Code",
    "LA Name",
    "Reporting Period Start Date",
    "Reporting Period End Date",
    "NHS Number",
    "LA Person Unique Identifier",
    "First Name",
    "Last Name",
    "Date of Birth",
    "Postcode",
    "Gender",
    "Client Type",
    "Primary Support Reason",
    "Event Type",
    "Event Reference",
    "Event Start Date",
    "Event End Date",
    "Event Outcome",
    "Request: Route of Access",
    "Service Type",
    "Service Component",
    "Delivery Mechanism",
]

ACUITY = (  # levels 1..5
    "1064891000000107",
    "1064911000000105",
    "1064901000000108",
    "1077241000000103",
    "1077251000000100",
)
ED_STATUS_COMPLETE = "182992009"
ED_STATUS_LEFT = "1066321000000107"
ED_STATUS_STREAMED_GP = "1077021000000100"
ED_DEST_WARD = "306706006"
ED_DEST_HOME = "306689006"
ED_DEST_TRANSFER = "19712007"
# Arrival-hour weights 00..23: quiet nights, busy late morning to evening.
ARRIVAL_HOUR_WEIGHTS = (
    20, 15, 12, 10, 9, 9, 12, 20, 35, 50, 60, 62,
    62, 60, 58, 57, 56, 55, 52, 48, 42, 36, 30, 24,
)

SERVICE_GROUPS = {
    "reablement": [("Short Term Support: ST-Max", "Reablement")],
    "home_care": [("Long Term Support: Community", "Home Support")],
    "short_term_bed": [("Short Term Support: Other Short Term", "Short Term Residential Care")],
    "care_home": [
        ("Long Term Support: Residential Care", "Long Term Residential Care"),
        ("Long Term Support: Nursing Care", "Long Term Nursing Care"),
    ],
}
LONG_TERM_GROUPS = ("home_care", "care_home")

PSR_OLDER = (  # (Primary Support Reason, weight) for people 65+
    ("Physical Support: Personal care support", 50),
    ("Physical Support: Access & mobility only", 18),
    ("Support with Memory & Cognition", 18),
    ("Sensory Support: Support for visual impairment", 3),
    ("Sensory Support: Support for hearing impairment", 2),
    ("Mental Health Support", 4),
    ("Social Support: Support for Social Isolation/Other", 4),
    ("Unknown", 1),
)
PSR_YOUNGER = (
    ("Learning Disability Support", 35),
    ("Mental Health Support", 25),
    ("Physical Support: Personal care support", 20),
    ("Physical Support: Access & mobility only", 8),
    ("Sensory Support: Support for dual impairment", 3),
    ("Social Support: Substance misuse support", 5),
    ("Social Support: Asylum seeker support", 2),
    ("Social Support: Support to Carer", 2),
)

# Synthetic names; several need Windows-1252 beyond ASCII (U+2019 is 0x92).
FIRST_F = (
    "Zoë", "Siân", "Chloé", "Renée", "Noëlle", "Hélène", "Margaret", "Joan",
    "Patricia", "Dorothy", "Eileen", "Jean", "Sheila", "Brenda", "Irene",
    "Mary", "Susan", "Aoife", "Niamh", "Bethan", "Priya", "Fatima", "Grace",
    "Olivia", "Ffion", "Ann", "Valerie", "Pauline",
)
FIRST_M = (
    "José", "Seán", "André", "Jürgen", "Zoltán", "Ciarán", "Stéphane", "John",
    "David", "Peter", "Michael", "Alan", "Brian", "Kenneth", "Derek",
    "Raymond", "Trevor", "Colin", "Mohammed", "Arjun", "Oliver", "Thomas",
    "Rhodri", "Dafydd", "Keith", "Graham",
)
LAST = (
    "O\u2019Neill", "O\u2019Brien", "D\u2019Souza", "Brontë", "Müller", "Núñez",
    "Ó Súilleabháin", "Smith", "Jones", "Williams", "Taylor", "Brown",
    "Davies", "Evans", "Wilson", "Thomas", "Roberts", "Johnson", "Lewis",
    "Walker", "Robinson", "Wood", "Thompson", "White", "Watson", "Jackson",
    "Wright", "Green", "Harris", "Cooper", "King", "Patel", "Khan", "Ahmed",
    "Hughes", "Edwards", "Kowalski", "Hall",
)
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters (no C I K M O V)


# --------------------------------------------------------------------------
# NHS numbers
# --------------------------------------------------------------------------


def mod11_check(first9: str) -> int:
    """Modulus 11 check digit for nine digits; 10 means no valid number."""
    total = sum(int(c) * w for c, w in zip(first9, range(10, 1, -1)))
    check = 11 - total % 11
    return 0 if check == 11 else check


def nhs_valid(number: str) -> bool:
    s = number.replace(" ", "")
    if len(s) != 10 or not s.isdigit():
        return False
    check = mod11_check(s[:9])
    return check != 10 and check == int(s[9])


class NhsNumbers:
    """Draws unique numbers from the 999 test range."""

    def __init__(self, rng: Random) -> None:
        self.rng = rng
        self.used: set[str] = set()  # membership only, never iterated

    def _fresh_prefix(self) -> tuple[str, int]:
        while True:
            first9 = "999" + f"{self.rng.randrange(1_000_000):06d}"
            check = mod11_check(first9)
            if first9 in self.used or check == 10:
                continue
            self.used.add(first9)
            return first9, check

    def valid(self) -> str:
        first9, check = self._fresh_prefix()
        number = first9 + str(check)
        assert number.startswith("999") and nhs_valid(number)
        return number

    def wrong_check_digit(self) -> str:
        first9, check = self._fresh_prefix()
        wrong = self.rng.choice([x for x in range(10) if x != check])
        number = first9 + str(wrong)
        assert number.startswith("999") and not nhs_valid(number)
        return number


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------


@dataclass
class Person:
    pid: int
    nhs: str | None
    sex: str  # "1" male, "2" female
    dob: dt.date
    council: str
    provider: str
    first: str
    last: str
    postcode: str
    role: str  # social_care | hospital | lt_client | community | ed_only
    psr: str = ""
    la_id: str | None = None
    care_home_code: str | None = None  # 54/65/85 for care-home residents
    lt_service: tuple | None = None  # (type, component, mechanism, start) of existing clients
    has_cld: bool = False
    died_at: dt.datetime | None = None
    spells: list = field(default_factory=list)
    attendances: list = field(default_factory=list)

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.dob.year
        if (day.month, day.day) < (self.dob.month, self.dob.day):
            years -= 1
        return years


@dataclass
class Spell:
    person: Person
    provider: str
    start: dt.datetime
    discharge: dt.datetime | None
    ready: dt.date | None
    method: str
    source: str
    classification: str
    tfc: str
    disch_method: str = "1"
    dest: str = "19"
    social: dict | None = None  # planted social-care facts
    attendance: "Attendance | None" = None
    spell_no: str = ""
    nhs_written: str = ""
    defect: str | None = None
    blank: tuple[str, str] | None = None  # (column, reason) left blank, row accepted
    override: dict = field(default_factory=dict)
    ready_delay_group: bool = False


@dataclass
class Attendance:
    person: Person
    provider: str
    arrival: dt.datetime
    departure: dt.datetime
    dta: dt.datetime | None
    acuity: str
    status: str
    dest: str
    spell: Spell | None = None
    ident: int = 0
    nhs_written: str = ""
    defect: str | None = None
    blank: tuple[str, str] | None = None  # (column, reason) left blank, row accepted
    override: dict = field(default_factory=dict)


@dataclass
class Event:
    council: str
    person: Person
    etype: str
    start: dt.date
    end: dt.date | None
    outcome: str | None
    route: str | None = None
    stype: str | None = None
    scomp: str | None = None
    mechanism: str | None = None
    ref: str = ""
    linked: bool = False
    defect: str | None = None
    override: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def weighted(rng: Random, pairs):
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    return rng.choices(values, weights=weights, k=1)[0]


def rand_date(rng: Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + DAY * rng.randint(0, (hi - lo).days)


def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return DT(day.year, day.month, day.day, hour, minute)


def arrival_time(rng: Random, day: dt.date) -> dt.datetime:
    hour = rng.choices(range(24), weights=ARRIVAL_HOUR_WEIGHTS, k=1)[0]
    return at(day, hour, rng.randint(0, 59))


def dmy(day: dt.date | None) -> str:
    return "" if day is None else day.strftime("%d/%m/%Y")


def spaced(nhs: str) -> str:
    return f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"


def overlaps(a0, a1, b0, b1) -> bool:
    return a0 <= b1 and b0 <= a1


class World:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = Random(seed)
        self.nhs = NhsNumbers(self.rng)
        self.persons: list[Person] = []
        self.spells: list[Spell] = []
        self.attendances: list[Attendance] = []
        self.events: list[Event] = []
        self.la_serial = {c: 0 for c in COUNCIL_CODES}
        self.la_numbers = {}
        for c in COUNCIL_CODES:  # shuffled, so ids do not reveal roles
            numbers = list(range(101, 1000))
            self.rng.shuffle(numbers)
            self.la_numbers[c] = numbers

    # -- people -------------------------------------------------------------

    def new_person(self, role: str, age: int, council: str | None = None,
                   with_nhs: bool = True, sex: str | None = None) -> Person:
        rng = self.rng
        council = council or rng.choice(COUNCIL_CODES)
        sex = sex or rng.choice(("1", "2"))
        lo = D(AGE_REF.year - age - 1, AGE_REF.month, AGE_REF.day) + DAY
        hi = D(AGE_REF.year - age, AGE_REF.month, AGE_REF.day)
        dob = rand_date(rng, lo, hi)
        provider = rng.choices(PROVIDERS, weights=PROVIDER_WEIGHTS[council], k=1)[0]
        first = rng.choice(FIRST_M if sex == "1" else FIRST_F)
        postcode = f"ZZ99 {rng.randint(1, 9)}{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
        person = Person(
            pid=len(self.persons) + 1,
            nhs=self.nhs.valid() if with_nhs else None,
            sex=sex,
            dob=dob,
            council=council,
            provider=provider,
            first=first,
            last=rng.choice(LAST),
            postcode=postcode,
            role=role,
        )
        person.psr = weighted(rng, PSR_OLDER if age >= 65 else PSR_YOUNGER)
        self.persons.append(person)
        return person

    def give_la_id(self, person: Person) -> None:
        if person.la_id is None:
            prefix = COUNCILS[person.council][1]
            number = self.la_numbers[person.council][self.la_serial[person.council]]
            self.la_serial[person.council] += 1
            person.la_id = f"{prefix}000{number:03d}"
        person.has_cld = True

    def old_age(self) -> int:
        return weighted(self.rng, ((self.rng.randint(65, 74), 30), (self.rng.randint(75, 84), 42),
                                   (self.rng.randint(85, 97), 28)))

    def adult_age(self) -> int:
        rng = self.rng
        return weighted(rng, ((rng.randint(18, 44), 22), (rng.randint(45, 64), 24),
                              (rng.randint(65, 79), 30), (rng.randint(80, 97), 24)))

    # -- A&E pathway for method-21 spells -------------------------------------

    def ed_pathway(self, arrival: dt.datetime):
        """Arrival -> (departure, admission, dta) with the planted timings."""
        rng = self.rng
        band = weighted(rng, (("short", 69), ("long", 29), ("very_long", 2)))
        if band == "short":
            duration = rng.randint(60, 235)
        elif band == "long":
            duration = rng.randint(250, 715)
        else:
            duration = rng.randint(735, 1130)
        gap = rng.randint(0, min(60, 1200 - duration))  # departure -> admission
        departure = arrival + MINUTE * duration
        admission = departure + MINUTE * gap
        dta = arrival + MINUTE * rng.randint(max(10, duration // 4), duration - 5)
        return departure, admission, dta

    def linked_attendance(self, spell: Spell, arrival, departure, dta, acuity_level: int) -> None:
        att = Attendance(
            person=spell.person,
            provider=spell.provider,
            arrival=arrival,
            departure=departure,
            dta=dta,
            acuity=ACUITY[acuity_level - 1],
            status=ED_STATUS_COMPLETE,
            dest=ED_DEST_WARD,
            spell=spell,
        )
        spell.attendance = att
        spell.person.attendances.append(att)
        self.attendances.append(att)

    def admitted_acuity(self) -> int:
        return weighted(self.rng, ((1, 7), (2, 35), (3, 46), (4, 10), (5, 2)))

    # -- planted social-care spells ------------------------------------------

    def make_social_care(self) -> None:
        rng = self.rng
        plan = []
        for council in COUNCIL_CODES:
            for group in sorted(SOCIAL_CARE_COUNTS[council]):
                plan += [(council, group)] * SOCIAL_CARE_COUNTS[council][group]
        rng.shuffle(plan)
        for council, group in plan:
            person = self.new_person("social_care", self.old_age(), council)
            self.give_la_id(person)
            method = weighted(rng, (("21", 85), ("22", 6), ("23", 2), ("2A", 2), ("2D", 5)))
            lo_d, hi_d = DELAY_TABLE[(council, group)]
            while True:
                day = rand_date(rng, PERIOD_START, PERIOD_END)
                if method == "21":
                    arrival = arrival_time(rng, day)
                    departure, start, dta = self.ed_pathway(arrival)
                else:
                    start = at(day, rng.randint(8, 21), rng.randint(0, 59))
                if start.date() > PERIOD_END:
                    continue
                to_ready = weighted(rng, ((rng.randint(1, 5), 45), (rng.randint(6, 12), 35),
                                          (rng.randint(13, 24), 17), (0, 3)))
                ready = start.date() + DAY * to_ready
                delay = rng.randint(lo_d, hi_d)
                disch_day = ready + DAY * delay
                if disch_day <= LAST_EVENT:
                    break
            discharge = at(disch_day, rng.randint(10, 19), rng.randint(0, 59))
            if group in ("reablement", "home_care"):
                dest = "19"
            else:
                dest = weighted(rng, (("85", 80), ("54", 20)))
            spell = Spell(
                person=person,
                provider=person.provider,
                start=start,
                discharge=discharge,
                ready=ready,
                method=method,
                source="19",
                classification="1",
                tfc=weighted(rng, (("430", 45), ("300", 35), ("110", 12), ("340", 5), ("320", 3))),
                dest=dest,
                social={"group": group, "delay": delay, "council": council},
            )
            person.spells.append(spell)
            self.spells.append(spell)
            if method == "21":
                self.linked_attendance(spell, arrival, departure, dta, self.admitted_acuity())
            self.social_care_events(spell)

    def social_care_events(self, spell: Spell) -> None:
        rng = self.rng
        person = spell.person
        council = person.council
        adm_day = spell.start.date()
        ready = spell.ready
        req_start = rand_date(rng, adm_day, ready)
        req_end = rand_date(rng, req_start, min(ready, req_start + 2 * DAY))
        ass_start = rand_date(rng, req_start, ready)
        ass_end = rand_date(rng, ass_start, min(ready, ass_start + 3 * DAY))
        group = spell.social["group"]
        stype, scomp = rng.choice(SERVICE_GROUPS[group])
        svc_start = spell.discharge.date()
        if group in LONG_TERM_GROUPS:
            svc_end, outcome = None, None
        else:
            svc_end, outcome = svc_start + DAY * rng.randint(7, 42), "Service ended as planned"
        mechanism = None
        if stype == "Long Term Support: Community":
            mechanism = weighted(rng, (("CASSR Commissioned Support", 82), ("Direct Payment", 18)))
        spell.social["service_type"] = stype
        self.events += [
            Event(council, person, "Request", req_start, req_end, "Progress to Assessment",
                  route="Discharge from Hospital", linked=True),
            Event(council, person, "Assessment", ass_start, ass_end,
                  "Progress to Support Planning / Services", linked=True),
            Event(council, person, "Service", svc_start, svc_end, outcome, stype=stype,
                  scomp=scomp, mechanism=mechanism, linked=True),
        ]

    # -- background hospital activity -----------------------------------------

    def background_spell(self, person: Person, earliest: dt.date, latest: dt.date,
                         kind: str) -> Spell | None:
        """One spell starting between `earliest` and `latest`, or None if out of period."""
        rng = self.rng
        age = person.age_on(AGE_REF)
        if earliest > PERIOD_END:
            return None
        day = rand_date(rng, earliest, min(PERIOD_END, latest))
        arrival = departure = dta = None
        source, classification, dest = "19", "1", "19"
        if kind == "elective":
            while day.weekday() >= 5:
                day += DAY
            if day > PERIOD_END:
                return None
            method = weighted(rng, (("11", 50), ("12", 35), ("13", 15)))
            tfc = weighted(rng, (("100", 22), ("101", 14), ("110", 20), ("130", 16),
                                 ("301", 12), ("320", 8), ("502", 8)))
            if tfc == "502" and person.sex == "1":
                tfc = "101"
            day_case = rng.random() < 0.45
            start = at(day, rng.randint(7, 10), rng.choice((0, 15, 30, 45)))
            if day_case:
                classification = "2"
                discharge = start + MINUTE * rng.randint(240, 540)
            else:
                los = weighted(rng, ((1, 35), (2, 25), (3, 15), (rng.randint(4, 9), 25)))
                discharge = at(day + DAY * los, rng.randint(10, 18), rng.randint(0, 59))
        elif kind == "maternity":
            method = "31"
            tfc = "502"
            start = at(day, rng.randint(0, 23), rng.randint(0, 59))
            discharge = at(day + DAY * rng.randint(0, 3), rng.randint(9, 20), rng.randint(0, 59))
            if discharge <= start:
                discharge = start + MINUTE * rng.randint(180, 720)
        else:
            if kind == "transfer":
                method = "81"
                source = "51"
            else:
                method = weighted(rng, (("21", 78), ("22", 8), ("23", 3), ("2A", 3),
                                        ("2B", 3), ("2D", 5)))
                if method == "2B":
                    source = "51"
                elif person.care_home_code:
                    source = person.care_home_code
            if method == "21":
                arrival = arrival_time(rng, day)
                departure, start, dta = self.ed_pathway(arrival)
                if start.date() > PERIOD_END:
                    return None
            else:
                start = at(day, rng.randint(0, 23), rng.randint(0, 59))
            if age >= 65:
                tfc = weighted(rng, (("300", 35), ("430", 30), ("340", 12), ("320", 10),
                                     ("110", 8), ("100", 5)))
                los = weighted(rng, ((rng.randint(0, 2), 30), (rng.randint(3, 7), 35),
                                     (rng.randint(8, 16), 25), (rng.randint(17, 30), 10)))
            else:
                tfc = weighted(rng, (("300", 30), ("100", 25), ("110", 15), ("340", 10),
                                     ("320", 10), ("301", 10)))
                los = weighted(rng, ((rng.randint(0, 2), 50), (rng.randint(3, 7), 35),
                                     (rng.randint(8, 20), 15)))
            if tfc == "502" and person.sex == "1":
                tfc = "300"
            disch_day = start.date() + DAY * los
            discharge = at(disch_day, rng.randint(9, 21), rng.randint(0, 59))
            if discharge <= start:
                discharge = start + MINUTE * rng.randint(120, 600)
            if person.care_home_code:
                dest = person.care_home_code
            elif rng.random() < 0.03:
                dest = "51"
        if discharge.date() > LAST_EVENT:
            discharge = at(LAST_EVENT, rng.randint(9, 18), rng.randint(0, 59))
        provider = person.provider if rng.random() < 0.9 else rng.choice(PROVIDERS)
        spell = Spell(
            person=person,
            provider=provider,
            start=start,
            discharge=discharge,
            ready=discharge.date(),
            method=method,
            source=source,
            classification=classification,
            tfc=tfc,
            dest=dest,
        )
        person.spells.append(spell)
        self.spells.append(spell)
        if method == "21":
            self.linked_attendance(spell, arrival, departure, dta, self.admitted_acuity())
        return spell

    def background_spells_for(self, person: Person, n_target: int) -> int:
        rng = self.rng
        age = person.age_on(AGE_REF)
        # Leave room for the later spells of people admitted more than once.
        earliest, latest = PERIOD_START, PERIOD_END - 21 * (n_target - 1) * DAY
        made = 0
        for _ in range(n_target):
            if person.sex == "2" and 18 <= age <= 44 and rng.random() < 0.12:
                kind = "maternity"
            elif rng.random() < 0.018:
                kind = "transfer"
            elif person.care_home_code:
                kind = "emergency"
            else:
                p_elective = 0.62 if age < 65 else 0.34
                kind = "elective" if rng.random() < p_elective else "emergency"
            spell = self.background_spell(person, earliest, latest, kind)
            if spell is None:
                break
            made += 1
            earliest = spell.discharge.date() + DAY * rng.randint(3, 20)
            latest = earliest + 30 * DAY
        return made

    def make_background_hospital(self, target_spells: int) -> None:
        rng = self.rng
        made = 0
        # Existing long-term clients (made in make_lt_clients) who are also
        # hospital patients come first.
        for person in [p for p in self.persons if p.role == "lt_client" and p.care_home_code is not None]:
            made += self.background_spells_for(person, weighted(rng, ((1, 70), (2, 30))))
        for person in [p for p in self.persons if p.role == "lt_client_patient"]:
            made += self.background_spells_for(person, weighted(rng, ((1, 70), (2, 30))))
        while made < target_spells:
            person = self.new_person("hospital", self.adult_age())
            n = weighted(rng, ((1, 40), (2, 32), (3, 17), (4, 8), (5, 3)))
            got = self.background_spells_for(person, min(n, target_spells - made))
            if got == 0:
                self.persons.remove(person)
                continue
            made += got

    # -- existing social care clients and community clients --------------------

    def make_lt_clients(self, per_council: int) -> None:
        rng = self.rng
        for council in COUNCIL_CODES:
            for i in range(per_council):
                setting = weighted(rng, (("community", 52), ("residential", 25), ("nursing", 15),
                                         ("community_other", 8)))
                age = self.old_age() if rng.random() < 0.8 else rng.randint(25, 64)
                person = self.new_person("lt_client", age, council)
                self.give_la_id(person)
                if setting == "community":
                    stype, scomp = "Long Term Support: Community", "Home Support"
                elif setting == "community_other":
                    stype = "Long Term Support: Community"
                    scomp = rng.choice(("Day Support", "Community Supported Living", "Meals"))
                elif setting == "residential":
                    stype, scomp = "Long Term Support: Residential Care", "Long Term Residential Care"
                else:
                    stype, scomp = "Long Term Support: Nursing Care", "Long Term Nursing Care"
                mechanism = None
                if stype == "Long Term Support: Community":
                    mechanism = weighted(rng, (("CASSR Commissioned Support", 78),
                                               ("Direct Payment", 22)))
                svc_start = rand_date(rng, D(2021, 4, 1), D(2026, 3, 31))
                person.lt_service = (stype, scomp, mechanism, svc_start)
                # Some are hospital patients too (never with a planted delay).
                if setting in ("residential", "nursing") and rng.random() < 0.5:
                    person.care_home_code = weighted(rng, (("85", 70), ("54", 15), ("65", 15)))
                elif setting == "community" and rng.random() < 0.35:
                    person.role = "lt_client_patient"

    def make_lt_events(self) -> None:
        """Service and review rows of existing clients (after deaths are known)."""
        rng = self.rng
        clients = [p for p in self.persons if p.role in ("lt_client", "lt_client_patient")]
        # Deaths in the quarter among clients who are not hospital patients.
        candidates = [p for p in clients if p.role == "lt_client" and p.care_home_code is None]
        deceased = rng.sample(candidates, 20)
        dash_variant = set(id(p) for p in rng.sample(deceased, 10))
        deceased_ids = set(id(p) for p in deceased)
        for person in clients:
            stype, scomp, mechanism, svc_start = person.lt_service
            end = outcome = None
            if id(person) in deceased_ids:
                end = rand_date(rng, PERIOD_START + 10 * DAY, PERIOD_END)
                outcome = "NFA \u2013 Deceased" if id(person) in dash_variant else "NFA - Deceased"
                person.died_at = at(end, 12, 0)
            self.events.append(Event(person.council, person, "Service", svc_start, end, outcome,
                                     stype=stype, scomp=scomp, mechanism=mechanism))
            if id(person) not in deceased_ids and rng.random() < 0.72:
                r_start = rand_date(rng, PERIOD_START, PERIOD_END)
                r_end = r_start + DAY * weighted(rng, ((0, 60), (rng.randint(1, 14), 40)))
                self.events.append(Event(person.council, person, "Review", r_start, r_end,
                                         "No change in package"))

    def make_community(self, without_nhs: int, with_nhs: int) -> None:
        """New community requests -> assessment -> service (not hospital patients)."""
        rng = self.rng
        for council in COUNCIL_CODES:
            for i in range(without_nhs + with_nhs):
                transition = rng.random() < 0.25
                age = rng.randint(18, 25) if transition else weighted(
                    rng, ((rng.randint(26, 64), 30), (self.old_age(), 70)))
                person = self.new_person("community", age, council, with_nhs=i >= without_nhs)
                if transition:
                    person.psr = weighted(rng, (("Learning Disability Support", 70),
                                                ("Physical Support: Personal care support", 15),
                                                ("Mental Health Support", 15)))
                self.give_la_id(person)
                route = "Planned Entry (Transition)" if transition else "Community/Other route"
                req_start = rand_date(rng, PERIOD_START, PERIOD_END - 10 * DAY)
                req_end = req_start + DAY * rng.randint(0, 3)
                ass_start = req_end + DAY * rng.randint(0, 14)
                ass_end = ass_start + DAY * rng.randint(0, 7)
                svc_start = min(ass_end + DAY * rng.randint(1, 21), LAST_EVENT)
                if transition:
                    stype = "Long Term Support: Community"
                    scomp = rng.choice(("Community Supported Living", "Day Support", "Shared Lives"))
                else:
                    stype, scomp = weighted(rng, (
                        (("Long Term Support: Community", "Home Support"), 45),
                        (("Short Term Support: ST-Max", "Reablement"), 25),
                        (("Short Term Support: Ongoing Low Level", "Equipment"), 15),
                        (("Long Term Support: Community", "Day Support"), 10),
                        (("Long Term Support: Residential Care", "Long Term Residential Care"), 5),
                    ))
                mechanism = None
                if stype == "Long Term Support: Community":
                    mechanism = weighted(rng, (("CASSR Commissioned Support", 75),
                                               ("Direct Payment", 25)))
                if stype.startswith("Short Term"):
                    svc_end, outcome = svc_start + DAY * rng.randint(7, 42), "Service ended as planned"
                else:
                    svc_end, outcome = None, None
                self.events += [
                    Event(council, person, "Request", req_start, req_end, "Progress to Assessment",
                          route=route),
                    Event(council, person, "Assessment", ass_start, ass_end,
                          "Progress to Support Planning / Services"),
                    Event(council, person, "Service", svc_start, svc_end, outcome, stype=stype,
                          scomp=scomp, mechanism=mechanism),
                ]

    # -- post-processing of spells ---------------------------------------------

    def last_spell(self, spell: Spell) -> bool:
        return spell is max(spell.person.spells, key=lambda s: s.start)

    def mark_open_died_and_ready(self, n_open: int, n_died: int) -> None:
        rng = self.rng
        bg = [s for s in self.spells if s.social is None]
        open_pool = [s for s in bg if self.last_spell(s) and s.start.date() >= D(2026, 8, 20)
                     and s.classification == "1" and s.method not in ("31",)]
        for s in rng.sample(open_pool, n_open):
            s.discharge = None
            s.ready = None
            s.disch_method, s.dest = "8", "98"
        died_pool = [s for s in bg if s.discharge is not None and self.last_spell(s)
                     and s.method.startswith("2") and s.person.age_on(AGE_REF) >= 65
                     and not s.person.has_cld and (s.discharge.date() - s.start.date()).days >= 1]
        for s in rng.sample(died_pool, n_died):
            s.disch_method, s.dest, s.ready = "4", "79", None
            s.person.died_at = s.discharge
        # ~10% of finished background spells: ready 1-2 days before discharge,
        # only for people with no social care record at all.
        finished = [s for s in bg if s.discharge is not None and s.disch_method == "1"]
        eligible = [s for s in finished if not s.person.has_cld
                    and (s.discharge.date() - s.start.date()).days >= 2]
        for s in rng.sample(eligible, round(0.10 * len(finished))):
            s.ready = s.discharge.date() - DAY * rng.randint(1, 2)
            s.ready_delay_group = True

    # -- unlinked A&E attendances ----------------------------------------------

    def busy(self, person: Person):
        for s in person.spells:
            yield s.start - 48 * HOUR, s.discharge or FAR_FUTURE
        for a in person.attendances:
            yield a.arrival - 6 * HOUR, a.departure + 6 * HOUR

    def unlinked_attendance(self, pool, fixed_arrival: dt.datetime | None = None) -> Attendance:
        rng = self.rng
        while True:
            person = rng.choice(pool)
            arrival = fixed_arrival or arrival_time(rng, rand_date(rng, PERIOD_START, PERIOD_END))
            band = weighted(rng, (("short", 85), ("long", 13), ("very_long", 2)))
            duration = {"short": (25, 238), "long": (245, 715), "very_long": (725, 1000)}[band]
            departure = arrival + MINUTE * rng.randint(*duration)
            if person.died_at is not None and departure >= person.died_at - 48 * HOUR:
                continue
            if any(overlaps(arrival, departure, b0, b1) for b0, b1 in self.busy(person)):
                continue
            break
        status = weighted(rng, ((ED_STATUS_COMPLETE, 80), (ED_STATUS_STREAMED_GP, 12),
                                (ED_STATUS_LEFT, 8)))
        dest = ED_DEST_TRANSFER if rng.random() < 0.012 else ED_DEST_HOME
        provider = person.provider if rng.random() < 0.85 else rng.choice(PROVIDERS)
        acuity = weighted(rng, ((1, 1), (2, 10), (3, 35), (4, 40), (5, 14)))
        att = Attendance(person, provider, arrival, departure, None, ACUITY[acuity - 1], status, dest)
        person.attendances.append(att)
        self.attendances.append(att)
        return att

    def make_unlinked_attendances(self, total_target: int) -> None:
        rng = self.rng
        pool = [p for p in self.persons if p.nhs is not None]
        for _ in range(20):  # a few people seen only in A&E, including children
            pool.append(self.new_person("ed_only", rng.randint(0, 17) if rng.random() < 0.5
                                        else self.adult_age()))
        invalid_dates = [
            self.unlinked_attendance(pool, DT(2026, 9, 1, 10, 0)),   # written 2026-08-32 10:00
            self.unlinked_attendance(pool, DT(2026, 8, 2, 1, 10)),   # written 2026-08-01 25:10
            self.unlinked_attendance(pool, DT(2026, 8, 1, 10, 0)),   # written 01/08/2026 10:00
        ]
        for att, text in zip(invalid_dates, ("2026-08-32 10:00", "2026-08-01 25:10",
                                             "01/08/2026 10:00")):
            att.defect = "invalid_date"
            att.override["arrival"] = text
        while len(self.attendances) < total_target:
            self.unlinked_attendance(pool)

    # -- defects ------------------------------------------------------------------

    def plant_apc_defects(self) -> None:
        rng = self.rng
        pool = [s for s in self.spells if s.social is None and s.method != "21"
                and s.discharge is not None and s.disch_method == "1"
                and s.classification == "1" and not s.ready_delay_group
                and (s.discharge.date() - s.start.date()).days >= 1
                and not s.person.has_cld]
        picks = rng.sample(pool, 18)
        plan = (["nhs"] * 5 + ["start_31_02", "disch_00_08", "disch_15_13"]
                + ["disch_before_start"] * 3 + ["ready_after_disch"] * 2
                + ["x9"] * 3 + ["no_spell_no"] * 2)
        for spell, what in zip(picks, plan):
            if what == "nhs":
                spell.blank = ("nhs_number", "nhs_number_invalid")
                spell.override["nhs"] = self.nhs.wrong_check_digit()
            elif what == "start_31_02":
                spell.defect = "invalid_date"
                spell.override["start_date"] = "31/02/2026"
            elif what == "disch_00_08":
                spell.defect = "invalid_date"
                spell.override["disch_date"] = "00/08/2026"
            elif what == "disch_15_13":
                spell.defect = "invalid_date"
                spell.override["disch_date"] = "15/13/2026"
            elif what == "disch_before_start":
                spell.defect = "date_order"
                bad = spell.start.date() - DAY * rng.randint(1, 3)
                spell.override["disch_date"] = dmy(bad)
                spell.override["ready"] = dmy(bad)
            elif what == "ready_after_disch":
                spell.blank = ("discharge_ready_date", "date_order")
                spell.override["ready"] = dmy(spell.discharge.date() + DAY * rng.randint(1, 2))
            elif what == "x9":
                spell.defect = "unknown_code"
                spell.override["method"] = "X9"
            elif what == "no_spell_no":
                spell.defect = "missing_required"
                spell.override["spell_no"] = ""

    def plant_ecds_defects(self) -> None:
        """The 3 invalid arrival dates were planted in make_unlinked_attendances."""
        rng = self.rng
        pool = [a for a in self.attendances if a.spell is None and a.defect is None]
        picks = rng.sample(pool, 9)
        for att in picks[:4]:
            att.blank = ("nhs_number", "nhs_number_invalid")
            att.override["nhs"] = self.nhs.wrong_check_digit()
        for att in picks[4:7]:
            att.defect = "unknown_code"
            att.override["acuity"] = "999999"
        for att in picks[7:9]:
            att.defect = "date_order"
            att.override["departure"] = (att.arrival - MINUTE * rng.randint(5, 90)).strftime(
                "%Y-%m-%d %H:%M")

    def plant_cld_defects(self) -> None:
        rng = self.rng
        bg = [e for e in self.events if not e.linked and e.defect is None]
        reviews = [e for e in bg if e.etype == "Review"]
        requests = [e for e in bg if e.etype == "Request" and e.person.nhs is not None]
        lt_services = [e for e in bg if e.etype == "Service" and e.start < PERIOD_START
                       and e.end is None and e.stype == "Long Term Support: Residential Care"]
        taken: list[Event] = []

        def take(pool, n):
            """n distinct, not yet defective rows, spread round robin over the councils."""
            out = []
            for _ in range(n):
                council = COUNCIL_CODES[len(taken) % len(COUNCIL_CODES)]
                options = [e for e in pool if e.council == council and e.defect is None
                           and all(e is not t for t in taken)]
                pick = rng.choice(options)
                taken.append(pick)
                out.append(pick)
            return out

        for e in take(requests, 3):
            e.defect = "nhs_number_invalid"
            e.override["nhs"] = self.nhs.wrong_check_digit()
        for e, text in zip(take(reviews, 3), ("30/02/2026", "2026-08-01", "12/13/2026")):
            e.defect = "invalid_date"
            e.override["start"] = text
            if text == "2026-08-01":
                e.start = D(2026, 8, 1)
                e.end = max(e.end, e.start)
        for e in take(requests, 2):
            e.defect = "unknown_code"
            e.override["etype"] = "Requets"
        for e in take(lt_services, 2):
            e.defect = "unknown_code"
            e.override["stype"] = "Long Term Support: Hotel"
        for e in take(reviews, 2):
            e.defect = "date_order"
            e.end = e.start - DAY * rng.randint(1, 5)
        for e in take(reviews, 1):
            e.defect = "missing_required"
            e.override["la_id"] = None

    def plant_cld_variants(self) -> None:
        rng = self.rng
        linked_requests = [e for e in self.events if e.linked and e.etype == "Request"]
        for e in rng.sample(linked_requests, 5):
            e.route = "Discharge From Hospital"
        requests = [e for e in self.events if e.etype == "Request" and e.defect is None]
        for e in rng.sample(requests, 10):
            e.outcome = "progress to assessment"

    # -- identifiers -----------------------------------------------------------------

    def assign_ids(self) -> None:
        rng = self.rng
        for provider in PROVIDERS:
            counter = rng.randint(1000, 9000) * 10
            ordered = sorted((s for s in self.spells if s.provider == provider),
                             key=lambda s: (s.start, s.person.pid))
            for s in ordered:
                counter += rng.randint(1, 4)
                s.spell_no = f"{provider}{counter:07d}"
        for s in self.spells:
            s.nhs_written = spaced(s.person.nhs) if rng.random() < 0.10 else s.person.nhs
        ident = rng.randint(410_000_000, 420_000_000)
        for a in sorted(self.attendances, key=lambda a: (a.arrival, a.person.pid)):
            ident += rng.randint(1, 9)
            a.ident = ident
            a.nhs_written = a.person.nhs
        serial = {c: rng.randint(20000, 30000) for c in COUNCIL_CODES}
        kind = {"Request": "REQ", "Assessment": "ASM", "Service": "SVC", "Review": "REV"}
        for e in sorted(self.events, key=lambda e: (e.council, e.start, e.person.pid, e.etype)):
            serial[e.council] += rng.randint(1, 3)
            e.ref = f"{COUNCILS[e.council][1]}-{kind[e.etype]}-{serial[e.council]:06d}"


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------


def apc_row(s: Spell) -> list[str]:
    o = s.override
    start_date = o.get("start_date", dmy(s.start.date()))
    if s.discharge is None:
        disch_date = disch_time = ""
    else:
        disch_date = o.get("disch_date", dmy(s.discharge.date()))
        disch_time = s.discharge.strftime("%H:%M:%S")
    return [
        o.get("spell_no", s.spell_no),
        s.provider,
        o.get("nhs", s.nhs_written),
        "01",
        s.person.sex,
        start_date,
        s.start.strftime("%H:%M:%S"),
        o.get("method", s.method),
        s.source,
        s.classification,
        s.tfc,
        disch_date,
        disch_time,
        s.disch_method,
        s.dest,
        o.get("ready", dmy(s.ready)),
    ]


def ecds_row(a: Attendance) -> list[str]:
    o = a.override
    return [
        str(a.ident),
        o.get("nhs", a.nhs_written),
        a.provider,
        a.provider + "01",
        "01",
        str(a.person.age_on(a.arrival.date())),
        a.person.sex,
        "1",
        o.get("arrival", a.arrival.strftime("%Y-%m-%d %H:%M")),
        "" if a.dta is None else a.dta.strftime("%Y-%m-%d"),
        "" if a.dta is None else a.dta.strftime("%H:%M:%S"),
        o.get("departure", a.departure.strftime("%Y-%m-%d %H:%M")),
        o.get("acuity", a.acuity),
        a.status,
        a.dest,
    ]


def cld_row(e: Event) -> list[str]:
    o = e.override
    p = e.person
    values = [
        e.council,
        COUNCILS[e.council][0],
        dmy(PERIOD_START),
        dmy(PERIOD_END),
        o.get("nhs", p.nhs),
        o.get("la_id", p.la_id),
        p.first,
        p.last,
        dmy(p.dob),
        p.postcode,
        "1 - Male" if p.sex == "1" else "2 - Female",
        "Service User",
        p.psr,
        o.get("etype", e.etype),
        e.ref,
        o.get("start", dmy(e.start)),
        dmy(e.end),
        e.outcome,
        e.route,
        o.get("stype", e.stype),
        e.scomp,
        e.mechanism,
    ]
    return ["NULL" if v is None or v == "" else v for v in values]


def write_csv(path: str, header, rows, encoding: str, newline: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(rows)


NHS_LIKE = re.compile(r"(?<![\d ])(\d{3} ?\d{3} ?\d{4})(?![\d])")


def assert_test_range(paths: list[str]) -> int:
    """Re-read every file: every NHS-number-like value must start with 999."""
    checked = 0
    for path, encoding, column in paths:
        with open(path, encoding=encoding, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            idx = header.index(column)
            for row in reader:
                value = row[idx]
                if value == "NULL":
                    continue
                digits = value.replace(" ", "")
                assert len(digits) == 10 and digits.isdigit(), (path, value)
                assert digits.startswith("999"), (path, value)
                checked += 1
        with open(path, encoding=encoding, newline="") as fh:  # any other column
            for match in NHS_LIKE.finditer(fh.read()):
                digits = match.group(1).replace(" ", "")
                if nhs_valid(digits):
                    assert digits.startswith("999"), (path, match.group(1))
    return checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", default="data-samples")
    args = parser.parse_args()

    w = World(args.seed)
    w.make_social_care()
    w.make_lt_clients(per_council=60)
    w.make_community(without_nhs=20, with_nhs=18)
    social_count = len(w.spells)
    w.make_background_hospital(target_spells=1600 - social_count)
    w.mark_open_died_and_ready(n_open=32, n_died=14)
    w.make_lt_events()
    w.make_unlinked_attendances(total_target=2200)
    w.plant_apc_defects()
    w.plant_ecds_defects()
    w.plant_cld_defects()
    w.plant_cld_variants()
    w.assign_ids()

    def left_blank(rows):
        counts: dict[str, dict[str, int]] = {}
        for r in rows:
            if getattr(r, "blank", None):
                column, reason = r.blank
                by = counts.setdefault(column, {})
                by[reason] = by.get(reason, 0) + 1
        return counts

    # Internal consistency of the plan before writing.
    for source, rows in (("apc", w.spells), ("ecds", w.attendances), ("cld", w.events)):
        got: dict[str, int] = {}
        for r in rows:
            if r.defect:
                got[r.defect] = got.get(r.defect, 0) + 1
        assert got == DEFECTS[source], (source, got)
        assert left_blank(rows) == BLANKS[source], (source, left_blank(rows))
    for s in w.spells:
        if s.defect:
            assert s.social is None and s.attendance is None and s.method != "21"
        if s.method == "21" and s.defect is None:
            assert s.attendance is not None
    for a in w.attendances:
        if a.defect:
            assert a.spell is None
    for e in w.events:
        if e.defect:
            assert not e.linked and not any(sp.social for sp in e.person.spells)
    spell_nos = [s.spell_no for s in w.spells]
    assert len(set(spell_nos)) == len(spell_nos)

    out = args.out
    apc_path = os.path.join(out, "apc", "apc_spells_2026Q3.csv")
    ecds_path = os.path.join(out, "ecds", "ecds_attendances_2026Q3.csv")
    spells = sorted(w.spells, key=lambda s: (s.start, s.spell_no))
    write_csv(apc_path, APC_HEADER, [apc_row(s) for s in spells], "utf-8", "\n")
    atts = sorted(w.attendances, key=lambda a: (a.arrival, a.ident))
    write_csv(ecds_path, ECDS_HEADER, [ecds_row(a) for a in atts], "utf-8-sig", "\r\n")
    checks = [(apc_path, "utf-8", "NHS Number"), (ecds_path, "utf-8-sig", "NHS_Number")]
    type_order = {"Request": 0, "Assessment": 1, "Service": 2, "Review": 3}
    for council in COUNCIL_CODES:
        path = os.path.join(out, "cld", f"cld_{council}_2026Q3.csv")
        events = sorted((e for e in w.events if e.council == council),
                        key=lambda e: (e.start, e.person.la_id or "", type_order[e.etype], e.ref))
        write_csv(path, CLD_HEADER, [cld_row(e) for e in events], "cp1252", "\r\n")
        checks.append((path, "cp1252", "NHS Number"))
    assert assert_test_range(checks) > 0

    # truth.json
    def quarantined(rows):
        counts: dict[str, int] = {}
        for r in rows:
            if r.defect:
                counts[r.defect] = counts.get(r.defect, 0) + 1
        return counts

    truth = {"seed": args.seed}
    for source, rows in (("apc", w.spells), ("ecds", w.attendances), ("cld", w.events)):
        q = quarantined(rows)
        truth[source] = {"rows": len(rows), "quarantined": q, "accepted": len(rows) - sum(q.values()),
                         "left_blank": left_blank(rows)}
    truth["ed_linked_spells"] = sum(1 for s in w.spells if s.defect is None and s.attendance)
    planted = [s for s in w.spells if s.social]
    truth["social_care_linked_spells"] = len(planted)
    by_key: dict[tuple, list[int]] = {}
    by_month: dict[tuple, list[int]] = {}
    for s in planted:
        k = (s.person.council, s.social["group"])
        by_key.setdefault(k, []).append(s.social["delay"])
        m = (s.discharge.strftime("%Y-%m"), s.provider, s.person.council, s.social["group"])
        by_month.setdefault(m, []).append(s.social["delay"])
        assert (s.discharge.date() - s.ready).days == s.social["delay"]
    truth["delays"] = [
        {"la_code": la, "awaited_service": g, "spells": len(v), "delayed_bed_days": sum(v),
         "median_delay_days": float(statistics.median(v)), "min": min(v), "max": max(v)}
        for (la, g), v in sorted(by_key.items())
    ]
    truth["by_month"] = [
        {"month": mo, "provider_code": pr, "la_code": la, "awaited_service": g,
         "discharges": len(v), "delayed_bed_days": sum(v)}
        for (mo, pr, la, g), v in sorted(by_month.items())
    ]
    with open(os.path.join(out, "truth.json"), "w", encoding="utf-8", newline="\n") as fh:
        json.dump(truth, fh, sort_keys=True, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
