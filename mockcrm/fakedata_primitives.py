"""The seeded building blocks of fake records: people, companies, places, phones, dates, text.

Every draw goes through one ``random.Random``, so the same seed replays the same sequence. Picks
index into the prebuilt tuples of ``fakedata_words`` (``seq[int(random() * len)]`` is a few times
cheaper than ``Random.choice``), which keeps a million records in the tens of seconds.
"""

from __future__ import annotations

import random
import re
import time
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple, TypeVar

from mockcrm import fakedata_words as w
from mockcrm.clock import hubspot_iso, salesforce_iso

T = TypeVar("T")

DAY_MS = 86_400_000
ANCHOR_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: the default "now" for generated dates, fixed so a seed replays exactly."""

_EMAIL_TAG = re.compile(r"[a-z0-9]*")


def _slug(text: str) -> str:
    """Lower-case ASCII letters and digits only: safe for an email local part or a domain label."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


_FIRST_SLUGS = tuple(_slug(n) for n in w.FIRST_NAMES)
_LAST_SLUGS = tuple(_slug(n) for n in w.LAST_NAMES)
_PREFIX_SLUGS = tuple(_slug(n) for n in w.COMPANY_PREFIXES)
_CORE_SLUGS = tuple(_slug(n) for n in w.COMPANY_CORES)
_CALLING_CODES = {
    "United States": "1", "Canada": "1", "Australia": "61", "Mexico": "52", "United Kingdom": "44",
    "Ireland": "353", "Germany": "49", "France": "33", "Netherlands": "31", "Spain": "34", "Italy": "39",
    "Sweden": "46", "Switzerland": "41", "New Zealand": "64", "Japan": "81", "India": "91", "Brazil": "55",
}  # fmt: skip
_UPPER = "ABCDEFGHJKLMNPRSTVWXYZ"


class Person(NamedTuple):
    first: str
    last: str
    email: str


class Company(NamedTuple):
    name: str
    domain: str


class Place(NamedTuple):
    street: str
    city: str
    state: str
    """Empty where the country has no state picklist in the mocks."""
    postal_code: str
    country: str


class Picker:
    """Seeded primitive draws shared by the HubSpot and Salesforce record builders."""

    def __init__(self, seed: int | None, *, email_tag: str = "", now_ms: int = ANCHOR_MS) -> None:
        if not _EMAIL_TAG.fullmatch(email_tag):
            raise ValueError(f"email_tag must be lower-case letters and digits, got {email_tag!r}")
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.now_ms = now_ms
        self._emails = 0
        self._email_sep = f".{email_tag}" if email_tag else ""

    # -- generic -------------------------------------------------------------------------------
    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.rnd() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.rnd() < p

    def int_between(self, lo: int, hi: int) -> int:
        """Uniform integer in [lo, hi]."""
        return lo + int(self.rnd() * (hi - lo + 1))

    def some_of(self, items: Sequence[T], most: int) -> list[T]:
        """1..``most`` distinct members of ``items``, in draw order (for "edit 1-3 fields").

        Draws with replacement and drops repeats: cheaper than ``Random.sample``, and a repeat
        only makes a smaller edit.
        """
        chosen: list[T] = []
        for _ in range(self.int_between(1, most)):
            item = items[int(self.rnd() * len(items))]
            if item not in chosen:
                chosen.append(item)
        return chosen

    # -- identities ----------------------------------------------------------------------------
    def email(self, first_slug: str, last_slug: str, domain: str) -> str:
        # The counter makes every address of this instance unique: names hold no digits, so the
        # trailing digit run is exactly the counter. The optional tag keeps two instances with
        # the same seed (seeding, then a workload) from colliding on one server.
        self._emails += 1
        local = f"{first_slug}.{last_slug}{self._email_sep}{self._emails}"
        return f"{local}@{domain}"

    def person(self, domain: str | None = None) -> Person:
        i = int(self.rnd() * len(w.FIRST_NAMES))
        j = int(self.rnd() * len(w.LAST_NAMES))
        return Person(
            w.FIRST_NAMES[i],
            w.LAST_NAMES[j],
            self.email(_FIRST_SLUGS[i], _LAST_SLUGS[j], domain or self.company().domain),
        )

    def unique_email(self) -> str:
        return self.person().email

    def company(self) -> Company:
        i = int(self.rnd() * len(w.COMPANY_PREFIXES))
        j = int(self.rnd() * len(w.COMPANY_CORES))
        suffix = self.pick(w.COMPANY_SUFFIXES)
        name = f"{w.COMPANY_PREFIXES[i]} {w.COMPANY_CORES[j]}"
        domain = f"{_PREFIX_SLUGS[i]}{_CORE_SLUGS[j]}{self.pick(w.TLDS)}"
        return Company(f"{name} {suffix}" if suffix else name, domain)

    # -- places and phones ---------------------------------------------------------------------
    def place(self) -> Place:
        city, state, country, style = self.pick(w.LOCATIONS)
        street = f"{self.int_between(1, 9899)} {self.pick(w.STREET_NAMES)} {self.pick(w.STREET_KINDS)}"
        return Place(street, city, state, self._postal(style), country)

    def _postal(self, style: str) -> str:
        d = self.int_between
        if style == "ca":
            u = self.pick
            return f"{u(_UPPER)}{d(0, 9)}{u(_UPPER)} {d(0, 9)}{u(_UPPER)}{d(0, 9)}"
        if style == "uk":
            u = self.pick
            return f"{u(_UPPER)}{u(_UPPER)}{d(1, 99)} {d(0, 9)}{u(_UPPER)}{u(_UPPER)}"
        if style == "au":
            return f"{d(2000, 7999)}"
        return f"{d(1000, 99950):05d}"

    def phone(self, country: str = "United States") -> str:
        code = _CALLING_CODES.get(country, "1")
        if code == "1":
            # 555-01xx numbers are reserved for fiction in the North American plan.
            return f"+1 {self.int_between(201, 989)}-555-{self.int_between(100, 199):04d}"
        d = self.int_between
        return f"+{code} {d(10, 99)} {d(1000, 9999)} {d(1000, 9999)}"

    # -- dates ---------------------------------------------------------------------------------
    def day_ms(self, lo_days: int, hi_days: int) -> int:
        """Midnight UTC (epoch ms) between ``lo_days`` and ``hi_days`` days from ``now_ms``."""
        today = self.now_ms - self.now_ms % DAY_MS
        return today + self.int_between(lo_days, hi_days) * DAY_MS

    def moment_ms(self, lo_days: int, hi_days: int) -> int:
        """A business-hours moment on a quarter hour, between ``lo_days`` and ``hi_days`` from now."""
        return (
            self.day_ms(lo_days, hi_days) + (self.int_between(13, 23) * 4 + self.int_between(0, 3)) * 900_000
        )

    @staticmethod
    def date_str(ms: int) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(ms / 1000))

    @staticmethod
    def hs_iso(ms: int) -> str:
        return hubspot_iso(ms)

    @staticmethod
    def sf_iso(ms: int) -> str:
        return salesforce_iso(ms)

    # -- numbers and text ----------------------------------------------------------------------
    def amount(self) -> int:
        """A deal size rounded to 50, skewed towards small deals as real pipelines are."""
        return int(500 + (self.rnd() ** 3) * 250_000) // 50 * 50

    def revenue(self) -> int:
        return self.int_between(1, 5000) * 100_000

    def employees(self) -> int:
        return int(1 + (self.rnd() ** 3) * 20_000)

    def sentence(self) -> str:
        return self.pick(w.SENTENCES)

    def paragraph(self, lo: int = 1, hi: int = 3) -> str:
        return " ".join(self.pick(w.SENTENCES) for _ in range(self.int_between(lo, hi)))

    def words(self, max_len: int) -> str:
        """A short phrase for generic text fields, cut to ``max_len`` characters."""
        return f"{self.pick(w.COMPANY_PREFIXES)} {self.pick(w.PRODUCTS)}"[:max_len]
