"""Registry inputs (patient, visit, lesion measurements, labs): parsing and validation.

Every problem is collected as an :class:`~calcinosis.errors.Issue` naming the field; one InputError carries
them all (exit status 2) and nothing is written. Impossible values are refused, never guessed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from calcinosis.errors import InputError, Issue
from calcinosis.registry.models import STATUSES

MAX_SIZE_MM = 500.0  # larger than any reported calcinosis mass (tumoral calcinosis reaches ~20-30 cm)
MAX_COUNT = 1000
MAX_AGE_DAYS = 130 * 365.25
DAYS_PER_MONTH = 30.4375
PSEUDONYM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LABEL_RE = re.compile(r"^[\w][\w .()'/-]{0,62}(#\d{1,3})?$", re.UNICODE)
REPORTED = ("normal", "high", "low", "abnormal", "positive", "negative")
FINDING_FLAGS = ("painful", "ulcerated", "infection", "inflammation")


@dataclass(frozen=True, slots=True)
class PatientInput:
    pseudonym: str
    birth_date: dt.date | None = None
    age_days: float | None = None  # age at registration when the birth date is not given
    sex: str | None = None
    onset_age_days: float | None = None
    baseline: dict[str, Any] | None = None  # a calcinosis-case/1 object: history, histology, baseline labs


@dataclass(frozen=True, slots=True)
class LesionInput:
    label: str
    longest_mm: float | None = None
    second_mm: float | None = None
    count: int | None = None
    status: str = "present"

    @property
    def site(self) -> str:
        return self.label.split("#", 1)[0].strip()


@dataclass(frozen=True, slots=True)
class VisitInput:
    date: dt.date
    lesions: tuple[LesionInput, ...] = ()
    findings: dict[str, Any] = field(default_factory=dict)  # painful/ulcerated/infection/inflammation, systemic, note
    labs: tuple[dict[str, Any], ...] = ()
    uid: str | None = None  # idempotency key; generated when absent


class _Issues:
    def __init__(self, src: str):
        self.src = src
        self.items: list[Issue] = []

    def err(self, where: str, message: str, hint: str | None = None, code: str = "REGISTRY_FIELD") -> None:
        loc = f"{self.src}: {where}" if self.src else where
        self.items.append(Issue("error", code, message, loc, hint))

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise InputError(first.message, where=first.where, issues=list(self.items), code=first.code)


def parse_date(text: Any, where: str, issues: _Issues) -> dt.date | None:
    if isinstance(text, dt.date):
        return text
    if not isinstance(text, str):
        issues.err(where, f"must be a date YYYY-MM-DD, got {text!r}")
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        issues.err(where, f"not a date: {text!r}", "use YYYY-MM-DD", code="BAD_DATE")
        return None


def _size(v: Any, where: str, issues: _Issues) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        issues.err(where, f"must be a number of millimetres, got {v!r}")
        return None
    if not math.isfinite(v) or v <= 0 or v > MAX_SIZE_MM:
        issues.err(where, f"impossible size: {v:g} mm (allowed above 0 and up to {MAX_SIZE_MM:g} mm)",
                   "give the size in millimetres", code="IMPOSSIBLE_VALUE")
        return None
    return float(v)


def check_lesion(raw: LesionInput, where: str, issues: _Issues) -> LesionInput:
    if not isinstance(raw.label, str) or not LABEL_RE.match(raw.label.strip()):
        issues.err(f"{where}.label", f"not a usable lesion label: {raw.label!r}",
                   "a body site, optionally numbered, e.g. 'back#1' or 'left thigh'")
    if raw.status not in STATUSES:
        issues.err(f"{where}.status", f"unknown status {raw.status!r}", f"use one of {', '.join(STATUSES)}")
    longest = _size(raw.longest_mm, f"{where}.longest_mm", issues)
    second = _size(raw.second_mm, f"{where}.second_mm", issues)
    if longest is not None and second is not None and second > longest:
        issues.err(f"{where}.second_mm", f"second dimension {second:g} mm is larger than the longest {longest:g} mm",
                   "give the longest dimension first", code="IMPOSSIBLE_VALUE")
    if second is not None and longest is None:
        issues.err(f"{where}.second_mm", "a second dimension needs the longest dimension")
    if raw.status == "resolved" and (longest or second):
        issues.err(f"{where}.status", "a resolved lesion has no size", "omit the size of a resolved lesion")
    if raw.status != "resolved" and longest is None and raw.status != "ulcerated" and raw.count is None:
        issues.err(f"{where}.longest_mm", "a present lesion needs its longest dimension (or a count)")
    count = raw.count
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT):
        issues.err(f"{where}.count", f"impossible count {count!r} (allowed 1 to {MAX_COUNT})", code="IMPOSSIBLE_VALUE")
    return LesionInput(raw.label.strip() if isinstance(raw.label, str) else "", longest, second, count, raw.status)


_LESION_RE = re.compile(r"^(?P<label>[^:]+):(?P<spec>.*)$")
_DIMS_RE = re.compile(r"^\s*(?P<a>[-+]?[\d.]+)\s*(?:[x×*]\s*(?P<b>[-+]?[\d.]+))?\s*(?:mm)?\s*$", re.IGNORECASE)


def parse_lesion_option(text: str, where: str, issues: _Issues) -> LesionInput | None:
    """``LABEL:L[xW][,count=N][,ulcerated]``, e.g. ``back#1:12x8`` or ``thigh:10,count=3``."""
    m = _LESION_RE.match(text)
    if not m:
        issues.err(where, f"cannot read {text!r}", "use LABEL:LONGESTxSECOND in mm, e.g. back#1:12x8")
        return None
    parts = [p.strip() for p in m["spec"].split(",")]
    dims = _DIMS_RE.match(parts[0]) if parts[0] else None
    if parts[0] and not dims:
        issues.err(where, f"cannot read the size {parts[0]!r}", "use LONGESTxSECOND in mm, e.g. 12x8")
        return None
    longest = float(dims["a"]) if dims else None
    second = float(dims["b"]) if dims and dims["b"] else None
    count: Any = None
    status = "present"
    for p in parts[1:]:
        if p.lower() == "ulcerated":
            status = "ulcerated"
        elif p.lower().startswith("count="):
            try:
                count = int(p.split("=", 1)[1])
            except ValueError:
                issues.err(where, f"count must be a whole number: {p!r}")
                return None
        elif p:
            issues.err(where, f"unknown part {p!r}", "allowed: count=N, ulcerated")
            return None
    return LesionInput(m["label"].strip(), longest, second, count, status)


_LAB_RE = re.compile(r"^(?P<name>[^=]+)=(?P<val>[-+]?\d+(?:[.,]\d+)?)?\s*(?P<rest>.*)$")


def parse_lab_option(text: str, where: str, issues: _Issues) -> dict[str, Any] | None:
    """``ANALYTE=VALUE UNIT`` (``calcium=2.4mmol/L``) or ``ANALYTE=normal|high|low|abnormal``."""
    m = _LAB_RE.match(text)
    if not m or not m["name"].strip():
        issues.err(where, f"cannot read {text!r}", "use ANALYTE=VALUEUNIT, e.g. calcium=2.4mmol/L, or ANALYTE=normal")
        return None
    name, val, rest = m["name"].strip(), m["val"], m["rest"].strip()
    if val is None:
        if rest.lower() not in REPORTED:
            issues.err(where, f"no value in {text!r}", f"give a number with its unit or one of {', '.join(REPORTED)}")
            return None
        return {"analyte": name, "value": None, "unit": None, "reported_as": rest.lower()}
    return {"analyte": name, "value": float(val.replace(",", ".")), "unit": rest or None, "reported_as": "value"}


def check_labs(labs: list[Any], where: str, issues: _Issues) -> tuple[dict[str, Any], ...]:
    out = []
    for i, lab in enumerate(labs):
        w = f"{where}[{i}]"
        if not isinstance(lab, dict) or not isinstance(lab.get("analyte"), str) or not lab["analyte"].strip():
            issues.err(w, "a lab needs an analyte name")
            continue
        v = lab.get("value")
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            issues.err(f"{w}.value", f"must be a number or null, got {v!r}")
            continue
        if isinstance(v, (int, float)) and v < 0:
            issues.err(f"{w}.value", f"impossible negative value {v:g} for {lab['analyte']}", code="IMPOSSIBLE_VALUE")
            continue
        rep = lab.get("reported_as")
        if rep is not None and rep not in REPORTED + ("value",):
            issues.err(f"{w}.reported_as", f"unknown value {rep!r}", f"use one of {', '.join(REPORTED)}")
            continue
        if v is None and rep is None:
            issues.err(w, f"{lab['analyte']}: neither a value nor a reported interpretation")
            continue
        out.append({"analyte": lab["analyte"].strip(), "value": v, "unit": lab.get("unit"),
                    "reported_as": rep or ("value" if v is not None else None)})
    return tuple(out)


def check_findings_dict(f: Any, where: str, issues: _Issues) -> dict[str, Any]:
    if not isinstance(f, dict):
        issues.err(where, "must be an object")
        return {}
    out: dict[str, Any] = {}
    for k, v in f.items():
        if k in FINDING_FLAGS:
            if v is not None and not isinstance(v, bool):
                issues.err(f"{where}.{k}", f"must be true, false or null, got {v!r}")
            else:
                out[k] = v
        elif k == "systemic":
            vals = [v] if isinstance(v, str) else v
            if not isinstance(vals, list) or not all(isinstance(x, str) for x in vals):
                issues.err(f"{where}.systemic", "must be a list of strings")
            else:
                out[k] = [x.strip() for x in vals if x.strip()]
        elif k == "note":
            if v is not None and not isinstance(v, str):
                issues.err(f"{where}.note", "must be a string")
            else:
                out[k] = v
        else:
            issues.err(f"{where}.{k}", f"unknown finding {k!r}",
                       f"allowed: {', '.join(FINDING_FLAGS)}, systemic, note")
    return out


def check_visit(visit: VisitInput, src: str = "") -> VisitInput:
    """Check the parts of a visit that need no database; raises InputError with every issue."""
    issues = _Issues(src)
    lesions = tuple(check_lesion(le, f"lesions[{i}]", issues) for i, le in enumerate(visit.lesions))
    seen: set[str] = set()
    for i, le in enumerate(lesions):
        if le.label in seen:
            issues.err(f"lesions[{i}].label", f"lesion {le.label!r} given twice in one visit")
        seen.add(le.label)
    findings = check_findings_dict(visit.findings, "findings", issues)
    labs = check_labs(list(visit.labs), "labs", issues)
    issues.raise_if_any()
    return VisitInput(visit.date, lesions, findings, labs, visit.uid)


def visit_from_json(obj: Any, src: str) -> VisitInput:
    """A visit from a JSON object: {date, lesions: [{label, longest_mm, second_mm, count, status}],
    findings: {painful, ulcerated, infection, inflammation, systemic, note}, labs: [{analyte, value, unit}]}."""
    issues = _Issues(src)
    if not isinstance(obj, dict):
        issues.err("(top level)", "a visit must be a JSON object")
        issues.raise_if_any()
    unknown = set(obj) - {"date", "lesions", "findings", "labs", "uid"}
    for k in sorted(unknown):
        issues.err(k, f"unknown field {k!r}", "allowed: date, lesions, findings, labs")
    date = parse_date(obj.get("date"), "date", issues)
    lesions = []
    raw_lesions = obj.get("lesions") or []
    if not isinstance(raw_lesions, list):
        issues.err("lesions", "must be a list")
        raw_lesions = []
    for i, le in enumerate(raw_lesions):
        if not isinstance(le, dict) or set(le) - {"label", "longest_mm", "second_mm", "count", "status"}:
            issues.err(f"lesions[{i}]", "must be an object with label, longest_mm, second_mm, count, status")
            continue
        lesions.append(LesionInput(le.get("label"), le.get("longest_mm"), le.get("second_mm"), le.get("count"),
                                   le.get("status", "present")))
    labs = obj.get("labs") or []
    if not isinstance(labs, list):
        issues.err("labs", "must be a list")
        labs = []
    issues.raise_if_any()
    assert date is not None
    return check_visit(VisitInput(date, tuple(lesions), obj.get("findings") or {}, tuple(labs), obj.get("uid")), src)


def check_patient(p: PatientInput, today: dt.date) -> PatientInput:
    issues = _Issues("")
    if not isinstance(p.pseudonym, str) or not PSEUDONYM_RE.match(p.pseudonym):
        issues.err("patient id", "must be a pseudonymous id of letters, digits, '.', '_' or '-' (1-64)",
                   "never use a name, a record number or a birth date as the id")
    if p.birth_date is not None and p.age_days is not None:
        issues.err("--age-months", "give either the birth date or the age, not both")
    if p.birth_date is not None and p.birth_date > today:
        issues.err("--birth-date", f"{p.birth_date} is in the future (today is {today})", code="IMPOSSIBLE_VALUE")
    if p.birth_date is not None and (today - p.birth_date).days > MAX_AGE_DAYS:
        issues.err("--birth-date", f"{p.birth_date} gives an age over 130 years", code="IMPOSSIBLE_VALUE")
    if p.age_days is not None and not (0 <= p.age_days <= MAX_AGE_DAYS):
        issues.err("--age-months", "impossible age (allowed 0 to 130 years)", code="IMPOSSIBLE_VALUE")
    if p.sex not in (None, "female", "male"):
        issues.err("--sex", f"unknown sex {p.sex!r}", "use female or male, or leave it out")
    if p.onset_age_days is not None and not (0 <= p.onset_age_days <= MAX_AGE_DAYS):
        issues.err("--onset-months", "impossible age at onset", code="IMPOSSIBLE_VALUE")
    issues.raise_if_any()
    return p
