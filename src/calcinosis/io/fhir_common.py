"""Shared pieces of the FHIR reader: the reading context, coded-value and date helpers.

The context collects issues (errors that refuse the input) and notes (what was ignored and why).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from calcinosis.errors import InputError, Issue
from calcinosis.io.fhir_map import Mappings, norm

_PUNCT = re.compile(r"[^\w\-./']+")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?$")
# Days per UCUM unit of an Age quantity (FHIR Age uses UCUM time units).
AGE_UNIT_DAYS = {"a": 365.25, "mo": 30.4375, "wk": 7.0, "d": 1.0, "h": 1 / 24, "min": 1 / 1440,
                 "year": 365.25, "years": 365.25, "month": 30.4375, "months": 30.4375, "week": 7.0,
                 "weeks": 7.0, "day": 1.0, "days": 1.0}


@dataclass
class Ctx:
    """Everything one read needs: source name, mappings, as-of date, and the collected issues/notes."""

    src: str
    maps: Mappings
    as_of: date | None = None
    birth: date | None = None
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, label: str, field_path: str, message: str, suggestion: str | None = None,
              code: str = "FHIR_INVALID") -> None:
        where = f"{self.src}: {label}" + (f": {field_path}" if field_path else "")
        self.issues.append(Issue("error", code, message, where, suggestion))

    def note(self, label: str, message: str) -> None:
        self.notes.append(f"{label}: {message}")

    def skipped_status(self, resource: dict, ignored: Any, label: str) -> bool:
        """True (and a note) when the resource's status is one the mapping says to ignore."""
        status = norm(resource.get("status") or "")
        if status in ignored:
            self.note(label, f"status {status}; ignored")
            return True
        return False

    def raise_if_issues(self) -> None:
        if self.issues:
            first = self.issues[0]
            raise InputError(first.message, where=first.where, issues=list(self.issues), code=first.code)


def parse_date(value: Any) -> tuple[date, bool] | None:
    """Parse a FHIR date/dateTime; returns (date, partial). Partial dates give their mid-point.

    ``2024`` -> 2024-07-02 (mid-year), ``2024-05`` -> 2024-05-16 (mid-month). None when malformed.
    """
    if not isinstance(value, str):
        return None
    m = _DATE.match(value.strip())
    if not m:
        return None
    y, mo, d = m.group(1), m.group(2), m.group(3)
    try:
        if d is not None:
            return date(int(y), int(mo), int(d)), False
        if mo is not None:
            first = date(int(y), int(mo), 1)
            nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
            return first + timedelta(days=(nxt - first).days // 2), True
        first = date(int(y), 1, 1)
        return first + timedelta(days=(date(first.year + 1, 1, 1) - first).days // 2), True
    except ValueError:
        return None


def codings(maps: Mappings, cc: Any) -> list[tuple[str, str, str | None]]:
    """(short system, code, display) for each coding of a CodeableConcept (unknown systems kept as URI)."""
    out = []
    if isinstance(cc, dict):
        for c in cc.get("coding") or ():
            if isinstance(c, dict) and isinstance(c.get("code"), str) and c["code"]:
                sysuri = c.get("system") if isinstance(c.get("system"), str) else ""
                display = c.get("display") if isinstance(c.get("display"), str) else None
                out.append((maps.systems.get(sysuri, sysuri), c["code"], display))
    return out


def cc_text(cc: Any) -> str | None:
    """The human text of a CodeableConcept: its ``text``, else the first coding display, else None."""
    if not isinstance(cc, dict):
        return None
    t = cc.get("text")
    if isinstance(t, str) and t.strip():
        return t.strip()
    for c in cc.get("coding") or ():
        if isinstance(c, dict) and isinstance(c.get("display"), str) and c["display"].strip():
            return c["display"].strip()
    return None


def cc_label(maps: Mappings, cc: Any) -> str | None:
    """Text, or failing that ``system code`` of the first coding."""
    t = cc_text(cc)
    if t:
        return t
    cs = codings(maps, cc)
    return f"{cs[0][0]} {cs[0][1]}" if cs else None


def first_code(cc: Any) -> str | None:
    """The first coding's code of a CodeableConcept (e.g. a status or interpretation code)."""
    if isinstance(cc, dict):
        for c in cc.get("coding") or ():
            if isinstance(c, dict) and c.get("code"):
                return str(c["code"])
    return None


def note_texts(resource: dict) -> list[str]:
    """The texts of an element's ``note`` annotations."""
    return [n["text"].strip() for n in resource.get("note") or () if isinstance(n, dict)
            and isinstance(n.get("text"), str) and n["text"].strip()]


def contains_any(text: str | None, words: tuple[str, ...]) -> bool:
    """True when ``text`` has one of the (normalised) words or phrases at the start of a word."""
    if not text:
        return False
    t = f" {_PUNCT.sub(' ', norm(text))} "
    return any(f" {w}" in t for w in words)


def resource_date(r: dict) -> tuple[date, bool] | None:
    """The clinically relevant date of a resource (when it happened / was recorded)."""
    for key in ("effectiveDateTime", "performedDateTime", "occurrenceDateTime", "issued", "recordedDate",
                "authoredOn", "dateAsserted", "date", "onsetDateTime"):
        if key in r:
            return parse_date(r[key])
    for key in ("effectivePeriod", "performedPeriod"):
        p = r.get(key)
        if isinstance(p, dict):
            return parse_date(p.get("end") or p.get("start"))
    return None


DAYS_PER_MONTH = 30.4375  # the mean Gregorian month; the case format's age_months x this is its age in days


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    day = d.day
    while True:
        try:
            return date(y, m + 1, day)
        except ValueError:  # 31 January + 1 month -> 28/29 February
            day -= 1


def days_between(birth: date, at: date) -> float:
    """Age at ``at`` in days, counted as calendar months x 30.4375 (the mean month, as the case format counts).

    Completed calendar months plus the fraction of the month under way, times 30.4375. A child born 6 calendar
    months before ``at`` is 182.6 days old, as a case file's ``age_months: 6`` is, not the 181-184 days of the
    particular months; ages in whole years therefore fall on the same side of the year-based age bands of the
    reference intervals whichever way the age was recorded. Differs from the plain day count by at most 2.5
    days (a February counted as a mean month).
    Negative when ``at`` is before ``birth`` (the plain day count).
    """
    if at < birth:
        return float((at - birth).days)
    months = (at.year - birth.year) * 12 + (at.month - birth.month)
    if _add_months(birth, months) > at:
        months -= 1
    start, nxt = _add_months(birth, months), _add_months(birth, months + 1)
    return (months + (at - start).days / (nxt - start).days) * DAYS_PER_MONTH


def age_days(q: Any, unit_days: dict[str, float] = AGE_UNIT_DAYS) -> float | None:
    """Days in an Age/Quantity ({value, code|unit}); None when the unit is not a time unit."""
    if not isinstance(q, dict) or q.get("value") is None:
        return None
    unit = q.get("code") or q.get("unit")
    factor = unit_days.get(str(unit).strip()) if unit else None
    if factor is None:
        return None
    return float(q["value"]) * factor


@dataclass
class Acc:
    """Facts gathered from the resources, before they become a frozen Findings."""

    sites: list[str] = field(default_factory=list)
    count: int | None = None
    count_text: str | None = None
    max_size_mm: float | None = None
    lesion_bools: dict[str, bool] = field(default_factory=dict)  # painful / ulcerated / inflammation
    descriptions: list[str] = field(default_factory=list)
    lesion_described: bool = False
    age_text: str | None = None
    onset_age_days: float | None = None
    flags: dict[str, bool] = field(default_factory=dict)  # trauma, renal_failure, dialysis, family_history
    ctd: list[str] = field(default_factory=list)
    injections: list[str] = field(default_factory=list)
    agent: bool | None = None
    other_conditions: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)
    labs: list[Any] = field(default_factory=list)
    histology: list[str] = field(default_factory=list)
    imaging: list[str] = field(default_factory=list)
    codes_present: list[Any] = field(default_factory=list)
    codes_absent: list[Any] = field(default_factory=list)
    hpo_present: list[str] = field(default_factory=list)
    hpo_excluded: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    family_conditions: list[str] = field(default_factory=list)

    def set_flag(self, name: str, value: bool) -> None:
        """A true statement wins over a false one (a refuted entry never hides a confirmed one)."""
        self.flags[name] = self.flags.get(name, False) or value

    def set_lesion_bool(self, name: str, value: bool) -> None:
        self.lesion_bools[name] = self.lesion_bools.get(name, False) or value


def add_unique(items: list, value: Any) -> None:
    if value is not None and value not in items:
        items.append(value)
