"""Laboratory results: recognise the analyte, check the value, convert to SI and read it against an interval.

PURE: no I/O. Everything clinical comes from the knowledge base (``analytes.yaml``,
``reference_intervals.csv``); lookups are compiled once per KnowledgeBase into ``kb.cache["labs"]``.

How an interval is chosen (see docs/labs.md): the reporting laboratory's own range wins; otherwise the
knowledge-base row for the analyte whose age band holds the age (``age_low_days <= age < age_high_days``)
and whose sex matches (a sex-specific row before a "both" row), lowest ``priority`` number first; a row
marked NE (no interval established) is skipped in favour of the next source. Unknown age: no table
interval is assumed (the reported flag is used, or the reading is "not_interpretable").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from calcinosis.core.model import DerivedValue, Interval, LabReading, LabResult
from calcinosis.errors import Issue

UNRECOGNISED = "unrecognised"
FLAG_WORDS = ("normal", "high", "low", "abnormal", "positive", "negative")
_POSITIVE = frozenset({"positive", "pos", "detected", "present", "reactive", "+", "++", "+++", "yes"})
_NEGATIVE = frozenset({"negative", "neg", "not detected", "undetected", "absent", "non-reactive", "nonreactive",
                       "-", "no", "none detected"})
_ANNOT_RE = re.compile(r"\(([^)]*)\)|\{([^}]*)\}")
_DOUBTFUL_WORDS = ("as printed", "sic", "as reported", "verbatim")
_EPS = 1e-9


# ---------------------------------------------------------------------------------------------
# Normalisation of names and units
# ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def name_key(name: str) -> str:
    """Case-, spacing- and punctuation-insensitive key of an analyte name ("25-OH vitamin D" -> "25ohvitamind")."""
    s = name.lower().replace("ß", "ss")
    return "".join(ch for ch in s if ch.isalnum() or ch == "+")


_QUALIFIERS = ("serum", "plasma", "blood", "level", "levels", "concentration", "value", "test", "s", "measurement")


@lru_cache(maxsize=4096)
def _stripped_key(name: str) -> str:
    words = re.findall(r"[a-z0-9+]+(?:[-,.'/][a-z0-9+]+)*", name.lower())
    kept = [w for w in words if w not in _QUALIFIERS]
    return name_key(" ".join(kept))


@lru_cache(maxsize=4096)
def split_unit(unit: str) -> tuple[str, bool]:
    """Return (unit without annotations, doubtful) — "(as printed)"/"(sic)" marks the source's unit as suspect."""
    doubtful = False
    for m in _ANNOT_RE.finditer(unit):
        text = (m.group(1) or m.group(2) or "").lower()
        if any(w in text for w in _DOUBTFUL_WORDS):
            doubtful = True
    return _ANNOT_RE.sub("", unit).strip(), doubtful


@lru_cache(maxsize=4096)
def unit_key(unit: str) -> str:
    """Normalise a unit string for matching: case, spacing, µ/u, [IU]/IU, hr/h, x10^9, 10*9, mm3/mm^3."""
    s = split_unit(unit)[0].lower()
    s = s.replace("µ", "u").replace("μ", "u").replace("mcg", "ug").replace("[iu]", "iu").replace("[", "").replace("]", "")
    s = re.sub(r"\s+", "", s).rstrip(".")  # "mg/dl." as printed at the end of a sentence
    s = s.replace("×", "x").replace("per", "/")
    # spelled-out prefixes and units: "micromol/L", "picograms/mL", "gm/dl", "units/L"
    for word, sym in (("micromol", "umol"), ("millimol", "mmol"), ("nanomol", "nmol"), ("picomol", "pmol"),
                      ("milligrams", "mg"), ("milligram", "mg"), ("micrograms", "ug"), ("microgram", "ug"),
                      ("nanograms", "ng"), ("nanogram", "ng"), ("picograms", "pg"), ("picogram", "pg"),
                      ("litre", "l"), ("liter", "l"), ("units/", "u/"), ("unit/", "u/")):
        s = s.replace(word, sym)
    s = re.sub(r"(?<=mol)es?(?=/|$)", "", s)  # "micromoles/L"
    s = re.sub(r"^(m|u)?ui(?=/)", r"\1iu", s)  # "UI/L", "mUI/mL": French, Spanish, Portuguese for IU
    s = re.sub(r"^gm(?=/|%)", "g", s)
    s = re.sub(r"^x(?=10)", "", s)
    s = s.replace("10*", "10^").replace("10e", "10^")
    s = re.sub(r"mm3$", "mm^3", s)
    s = re.sub(r"/(hr|hour|hours|hrs)$", "/h", s)
    # "mm in 1 hr", "mm at the first hour", "mm in 1st hour" (ESR)
    s = re.sub(r"^mm(?:in|at|/)(?:the)?(?:1st|first|1|one)?(?:hr|hrs|hour|hours|h)$", "mm/h", s)
    s = s.replace("cumm", "mm^3")
    # old notations: "mg%" and "mg/100 mL" are mg/dL ("mg per cent")
    s = re.sub(r"^(mg|g|ug|ng)(%|/100ml)$", r"\1/dl", s)
    return s


# ---------------------------------------------------------------------------------------------
# Compiled knowledge (once per KnowledgeBase)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Form:
    analyte: str
    form: str | None
    label: str
    si_unit: str | None
    units: dict[str, float]  # unit_key -> factor to SI
    unit_names: tuple[str, ...]
    plausible: tuple[float, float] | None
    qualitative: bool
    sources: tuple[str, ...]
    note: str | None
    # method-bound units without a fixed SI factor (e.g. King-Armstrong units): recognised, never converted
    unconvertible: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Row:
    low: float | None
    high: float | None
    age_low: float
    age_high: float
    sex: str
    priority: int
    source: str
    note: str
    ne: bool
    band: str


@dataclass(frozen=True, slots=True)
class _Panel:
    id: str
    label: str
    analytes: tuple[str, ...]
    note: str | None
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Compiled:
    forms: dict[tuple[str, str | None], _Form]
    by_name: dict[str, tuple[str, str | None]]  # name_key -> (analyte id, form)
    by_loinc: dict[str, tuple[str, str | None]]
    panel_by_name: dict[str, _Panel]
    panel_by_loinc: dict[str, _Panel]
    all_units: frozenset[str]
    intervals: dict[str, tuple[_Row, ...]]  # analyte -> rows in SI, by priority
    derived: dict[str, dict[str, Any]]
    # name_key -> candidate (analyte id, form)s of a name reports use for more than one analyte ("Ca++"),
    # the first the default (analytes.yaml ``ambiguous_names``); the value decides (:func:`_disambiguate`)
    ambiguous: dict[str, tuple[tuple[str, str | None], ...]] = field(default_factory=dict)


def _age_text(days: float) -> str:
    if days >= 2 * 365.25 - 1e-6:
        return f"{days / 365.25:g} y"
    if days >= 60:
        return f"{days / 30.4375:.0f} mo"
    return f"{days:g} d"


def band_label(age_low: float, age_high: float) -> str:
    if age_high >= 130 * 365.25 - 1e-6:
        return f"{_age_text(age_low)} and over" if age_low > 0 else "all ages"
    return f"{_age_text(age_low)} to <{_age_text(age_high)}"


def _num(v: Any) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    return float(v)


def compile_labs(kb: Any) -> _Compiled:
    """Compile the lab knowledge of ``kb`` (cached in ``kb.cache["labs"]``)."""
    cached = kb.cache.get("labs")
    if cached is not None:
        return cached
    data = kb.get("analytes") or {}
    forms: dict[tuple[str, str | None], _Form] = {}
    by_name: dict[str, tuple[str, str | None]] = {}
    by_loinc: dict[str, tuple[str, str | None]] = {}
    all_units: set[str] = set()
    for a in data.get("analytes") or []:
        aid = a["id"]
        base_units = {str(u): float(f) for u, f in (a.get("units") or {}).items()}
        variants = [(None, a)] + [(fid, f) for fid, f in (a.get("forms") or {}).items()]
        for fid, spec in variants:
            units = {str(u): float(f) for u, f in (spec.get("units") or {}).items()} if fid and spec.get("units") \
                else base_units
            pl = spec.get("plausible_si", a.get("plausible_si")) if fid else a.get("plausible_si")
            forms[(aid, fid)] = _Form(
                analyte=aid, form=fid, label=spec.get("label") or a.get("label") or aid,
                si_unit=spec.get("si_unit", a.get("si_unit")) if fid else a.get("si_unit"),
                units={unit_key(u): f for u, f in units.items()}, unit_names=tuple(units),
                plausible=(float(pl[0]), float(pl[1])) if pl else None,
                qualitative=bool(a.get("qualitative")), sources=tuple(spec.get("sources") or a.get("sources") or ()),
                note=spec.get("note") if fid else None,
                unconvertible=frozenset(unit_key(str(u)) for u in (spec.get("unconvertible_units") or ())))
            all_units.update(unit_key(u) for u in units)
            for syn in spec.get("synonyms") or []:
                by_name.setdefault(name_key(str(syn)), (aid, fid))
            for code in spec.get("loinc") or []:
                by_loinc.setdefault(str(code).strip(), (aid, fid))
        by_name.setdefault(name_key(aid), (aid, None))
        by_name.setdefault(name_key(a.get("label") or aid), (aid, None))
    panel_by_name: dict[str, _Panel] = {}
    panel_by_loinc: dict[str, _Panel] = {}
    for p in data.get("panels") or []:
        panel = _Panel(p["id"], p.get("label") or p["id"], tuple(p.get("analytes") or ()), p.get("note"),
                       tuple(p.get("sources") or ()))
        for syn in (p.get("synonyms") or []) + [p.get("label") or "", p["id"]]:
            if syn:
                panel_by_name.setdefault(name_key(str(syn)), panel)
        for code in p.get("loinc") or []:
            panel_by_loinc.setdefault(str(code).strip(), panel)
    intervals: dict[str, list[_Row]] = {}
    for row in kb.get("reference_intervals") or []:
        aid = row["analyte"]
        form = forms.get((aid, None))
        ne = str(row.get("lower") or "").strip().upper() == "NE" or str(row.get("upper") or "").strip().upper() == "NE"
        low = high = None
        if not ne and form is not None:
            factor = form.units.get(unit_key(row["unit"]))
            if factor is None:
                continue  # the validator reports it
            lo, hi = _num(row.get("lower")), _num(row.get("upper"))
            low = None if lo is None else lo * factor
            high = None if hi is None else hi * factor
        a_lo, a_hi = float(row["age_low_days"]), float(row["age_high_days"])
        intervals.setdefault(aid, []).append(_Row(
            low=low, high=high, age_low=a_lo, age_high=a_hi, sex=row.get("sex") or "both",
            priority=int(row.get("priority") or 9), source=row["source"], note=row.get("note") or "", ne=ne,
            band=band_label(a_lo, a_hi)))
    ambiguous: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for amb in data.get("ambiguous_names") or []:
        cands = tuple((str(a), None) for a in amb.get("analytes") or [] if (str(a), None) in forms)
        if cands:
            for n in amb.get("names") or []:
                ambiguous.setdefault(name_key(str(n)), cands)
    compiled = _Compiled(
        forms=forms, by_name=by_name, by_loinc=by_loinc, panel_by_name=panel_by_name,
        panel_by_loinc=panel_by_loinc, all_units=frozenset(all_units),
        intervals={k: tuple(sorted(v, key=lambda r: r.priority)) for k, v in intervals.items()},
        derived={d["id"]: d for d in data.get("derived") or []}, ambiguous=ambiguous)
    kb.cache["labs"] = compiled
    return compiled


# ---------------------------------------------------------------------------------------------
# Recognition
# ---------------------------------------------------------------------------------------------

def _lookup(name: str, loinc: str | None, c: _Compiled) -> tuple[str, tuple[str, str | None] | _Panel | None]:
    """("analyte", (id, form)) | ("panel", panel) | ("none", None). LOINC wins over the name."""
    if loinc:
        code = loinc.strip()
        if code in c.by_loinc:
            return "analyte", c.by_loinc[code]
        if code in c.panel_by_loinc:
            return "panel", c.panel_by_loinc[code]
    kind, hit = _lookup_name(name or "", c)
    if kind != "none":
        return kind, hit
    return _lookup_loose(name or "", c)


def _lookup_name(name: str, c: _Compiled) -> tuple[str, tuple[str, str | None] | _Panel | None]:
    for k in (name_key(name), _stripped_key(name)):
        if not k:
            continue
        if k in c.by_name:
            return "analyte", c.by_name[k]
        if k in c.panel_by_name:
            return "panel", c.panel_by_name[k]
        if k in c.ambiguous:
            return "analyte", c.ambiguous[k][0]
    return "none", None


def ambiguous_candidates(name: str, loinc: str | None, kb: Any) -> tuple[str, ...]:
    """The analytes a name without a LOINC code may stand for when reports use it for several ("Ca++":
    total or ionised calcium); empty for an unambiguous name or a LOINC code the knowledge base knows."""
    c = compile_labs(kb)
    if loinc and (loinc.strip() in c.by_loinc or loinc.strip() in c.panel_by_loinc):
        return ()
    for k in (name_key(name or ""), _stripped_key(name or "")):
        if k in c.by_name or k in c.panel_by_name:
            return ()
        if k in c.ambiguous:
            return tuple(a for a, _f in c.ambiguous[k])
    return ()


def _plausible_candidate(lab: LabResult, hit: tuple[str, str | None], v: float | None,
                         c: _Compiled) -> tuple[str, str | None]:
    """For an ambiguous name (no age needed): the first candidate whose unit and plausible range accept the
    value, so that a value possible for one of them is never refused as impossible."""
    cands = next((c.ambiguous[k] for k in (name_key(lab.analyte), _stripped_key(lab.analyte)) if k in c.ambiguous),
                 None)
    if cands is None or hit not in cands or v is None or not lab.unit:
        return hit
    bare = unit_key(split_unit(lab.unit)[0])
    for cand in cands:
        form = c.forms[cand]
        factor = form.units.get(bare)
        if factor is not None and (form.plausible is None or form.plausible[0] <= v * factor <= form.plausible[1]):
            return cand
    return hit


def _disambiguate(lab: LabResult, hit: tuple[str, str | None], age: float | None, sex: str | None, kb: Any,
                  c: _Compiled) -> tuple[str, str | None]:
    """For a name reports use for several analytes, the candidate whose interval for this age and sex the
    value fits best (inside it, else nearest on a ratio scale); the first candidate without a usable number,
    unit or interval, and on a tie."""
    cands = next((c.ambiguous[k] for k in (name_key(lab.analyte), _stripped_key(lab.analyte)) if k in c.ambiguous),
                 None)
    if cands is None or hit not in cands or (lab.loinc and lab.loinc.strip() in c.by_loinc):
        return hit
    v = _numeric(lab.value)
    if v is None or v <= 0 or not lab.unit:
        return cands[0]
    bare = unit_key(split_unit(lab.unit)[0])
    best, best_d = cands[0], math.inf
    for cand in cands:
        factor = c.forms[cand].units.get(bare)
        iv = pick_interval(cand[0], age, sex, kb)[0] if factor is not None and age is not None else None
        if iv is None or (iv.low is None and iv.high is None):
            continue
        si = v * factor
        d = 0.0
        if iv.low is not None and iv.low > 0 and si < iv.low:
            d = math.log(iv.low / si)
        elif iv.high is not None and iv.high > 0 and si > iv.high:
            d = math.log(si / iv.high)
        if d < best_d - 1e-9:
            best, best_d = cand, d
    return best


_PARENS = re.compile(r"\s*\([^()]*\)")
_LIST_SEP = re.compile(r"\s*(?:,|;|&|\+|/|\band\b)\s*")
# a name that speaks of another specimen is never read as (or split into) serum tests
_OTHER_SPECIMEN = re.compile(r"urin|24[- ]?h|csf|cerebrospinal|stool|faecal|fecal|sweat|synovial|fluid|saliva|aspirat|"
                             r"effusion|pleural|ascit")
_SERUM_WORDS = re.compile(r"serum|plasma|blood")


def _lookup_loose(name: str, c: _Compiled) -> tuple[str, tuple[str, str | None] | _Panel | None]:
    """A name the knowledge base does not list as such: without a parenthesised qualifier ("lipid profile
    (fasting)"), or several tests named together and reported as one ("calcium, phosphorus and alkaline
    phosphatase": normal), read like a panel of the members recognised. Only the serum members are read,
    and nothing is read from a name that speaks of urine or another specimen outside the parentheses
    (``(serum and urine)`` keeps the serum members)."""
    low = name.lower()
    outside = _PARENS.sub(" ", low)
    parens_other = any(_OTHER_SPECIMEN.search(p) and not _SERUM_WORDS.search(p)
                       for p in re.findall(r"\(([^()]*)\)", low))
    if _OTHER_SPECIMEN.search(outside) or parens_other:
        return "none", None
    bare = outside.strip()
    if bare and bare != low.strip():
        kind, hit = _lookup_name(bare, c)
        if kind != "none":
            return kind, hit
    parts = [x for x in _LIST_SEP.split(bare) if x.strip()]
    if len(parts) < 2:
        return "none", None
    members: list[str] = []
    for part in parts:
        kind, hit = _lookup_name(part, c)
        if kind == "analyte":
            members.append(hit[0])  # type: ignore[index]
        elif kind == "panel":
            members.extend(hit.analytes)  # type: ignore[union-attr]
    members = list(dict.fromkeys(members))
    if not members:
        return "none", None
    return "panel", _Panel("named_together", name, tuple(members),
                           "tests named together and reported as one result; only the members recognised are read",
                           ())


def _form_for_unit(hit: tuple[str, str | None], unit: str | None, c: _Compiled) -> tuple[str, str | None]:
    """The form of the analyte whose units accept ``unit`` (e.g. "FGF23" in RU/mL is the C-terminal
    assay); the named form itself when it accepts the unit or no other form does."""
    if not unit:
        return hit
    key = unit_key(split_unit(unit)[0])
    if key in c.forms[hit].units:
        return hit
    for other, form in c.forms.items():
        if other[0] == hit[0] and other != hit and key in form.units:
            return other
    return hit


def resolve_analyte(name: str, loinc: str | None, kb: Any) -> tuple[str, ...]:
    """Analyte ids for a reported name/LOINC: one id, several for a panel, empty when unrecognised."""
    kind, hit = _lookup(name, loinc, compile_labs(kb))
    if kind == "analyte":
        return (hit[0],)  # type: ignore[index]
    if kind == "panel":
        return hit.analytes  # type: ignore[union-attr]
    return ()


# ---------------------------------------------------------------------------------------------
# Values, units, laboratory ranges
# ---------------------------------------------------------------------------------------------

def _numeric(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        s = value.strip().replace(",", ".")
        try:
            v = float(s)
        except ValueError:
            return None
        return v if math.isfinite(v) else None
    return None


_RANGE_RE = re.compile(
    r"^\s*(?P<lo>-?\d+(?:[.,]\d+)?)\s*(?:-|–|—|to|\.\.)\s*(?P<hi>-?\d+(?:[.,]\d+)?)\s*(?P<unit>.*)$", re.IGNORECASE)
_BOUND_RE = re.compile(r"^\s*(?P<op><=|>=|<|>|≤|≥)\s*(?P<v>\d+(?:[.,]\d+)?)\s*(?P<unit>.*)$")


# how reports introduce a laboratory's range: "(N: 15-65)", "[normal 8.5-10.5]", "ref. 15–65", "RR: 1.1-1.3",
# "VN 15-65" (valeurs normales), "normal range: ..."; the brackets and the label are dropped before parsing
_RANGE_LABEL = re.compile(
    r"^\s*(?:(?:n|nr|nl|normal|normals|normal\s+(?:range|values?|limits?)|ref|ref\.|reference|reference\s+"
    r"(?:range|interval|values?)|rr|ri|range|vn|v\.n\.|vr|norm|normwert|normal\s+value)\s*[:=]?\s+|"
    r"(?:n|nr|nl|normal|ref|rr|ri|vn|vr|norm)\s*[:=]\s*)", re.IGNORECASE)
_RANGE_BRACKETS = re.compile(r"^\s*[\(\[]\s*(.*?)\s*[\)\]]\s*$")


def _range_core(text: str) -> str:
    """The range itself, without enclosing brackets and a leading label ("(N: 15-65)" -> "15-65")."""
    s = text.strip()
    for _ in range(2):
        m = _RANGE_BRACKETS.match(s)
        if m:
            s = m.group(1)
        s = _RANGE_LABEL.sub("", s, count=1).strip()
    return s


def parse_range(text: str | None) -> tuple[float | None, float | None, str | None] | None:
    """Parse a laboratory range ("1.6-2.2 mmol/L", "12–65 ng/L", "<5 mg/L", "(N: 15-65)", "N: 8,5-10,5")
    into (low, high, unit)."""
    if not text:
        return None
    text = _range_core(text)
    m = _RANGE_RE.match(text)
    if m:
        unit = m.group("unit").strip() or None
        return float(m.group("lo").replace(",", ".")), float(m.group("hi").replace(",", ".")), unit
    m = _BOUND_RE.match(text)
    if m:
        v = float(m.group("v").replace(",", "."))
        unit = m.group("unit").strip() or None
        return (None, v, unit) if m.group("op") in ("<", "<=", "≤") else (v, None, unit)
    return None


def _lab_range(lab: LabResult) -> tuple[float | None, float | None, str | None] | None:
    if lab.ref_low is not None or lab.ref_high is not None:
        return lab.ref_low, lab.ref_high, None
    return parse_range(lab.reference_range)


def _flag_against(v: float, low: float | None, high: float | None) -> str:
    if low is not None and v < low - _EPS * max(1.0, abs(low)):
        return "low"
    if high is not None and v > high + _EPS * max(1.0, abs(high)):
        return "high"
    return "normal"


def _qualitative_word(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    s = value.strip().lower()
    if s in _POSITIVE:
        return "positive"
    if s in _NEGATIVE:
        return "negative"
    return None


def _fmt(v: float | None) -> str:
    return "?" if v is None else f"{v:.4g}"


def convert(value: float, unit: str, analyte: str, kb: Any, form: str | None = None) -> tuple[float, str]:
    """Convert ``value`` in ``unit`` to the analyte's SI unit; raises KeyError for a unit it does not have."""
    f = compile_labs(kb).forms[(analyte, form)]
    factor = f.units[unit_key(unit)]
    return value * factor, f.si_unit or ""


def from_si(value_si: float, unit: str, analyte: str, kb: Any, form: str | None = None) -> float:
    """Convert a value in the analyte's SI unit to ``unit`` (inverse of :func:`convert`)."""
    return value_si / compile_labs(kb).forms[(analyte, form)].units[unit_key(unit)]


# ---------------------------------------------------------------------------------------------
# check_labs
# ---------------------------------------------------------------------------------------------

def check_labs(labs: Sequence[LabResult], kb: Any) -> list[Issue]:
    """Issues for impossible values and units that do not fit the analyte (errors), or numbers without a unit
    and units the source marks as suspect (warnings). Unrecognised analytes are never errors."""
    c = compile_labs(kb)
    issues: list[Issue] = []
    for lab in labs:
        kind, hit = _lookup(lab.analyte, lab.loinc, c)
        v = _numeric(lab.value)
        if kind == "panel":
            if v is not None:
                issues.append(Issue("warning", "PANEL_VALUE",
                                    f"'{lab.analyte}' is a panel; the single number {lab.value!r} is not interpreted",
                                    f"{lab.where}.value", "report each member test on its own"))
            continue
        if kind != "analyte":
            continue
        hit = _plausible_candidate(lab, hit, v, c)  # type: ignore[arg-type]
        form = c.forms[_form_for_unit(hit, lab.unit, c)]
        issues.extend(_check_range_text(lab, form))
        if v is None:
            continue
        if v < 0:
            issues.append(Issue("error", "IMPOSSIBLE_VALUE",
                                f"impossible value for {lab.analyte} ({form.label}): {lab.value!r} is negative",
                                f"{lab.where}.value", "check the number; a concentration cannot be negative"))
            continue
        if form.qualitative and not form.units:
            continue
        if not lab.unit:
            issues.append(Issue("warning", "MISSING_UNIT",
                                f"{lab.analyte} ({form.label}) = {lab.value!r} has no unit; it cannot be read against an interval",
                                f"{lab.where}.unit", f"give the unit, e.g. {_unit_hint(form)}"))
            continue
        bare, doubtful = split_unit(lab.unit)
        if doubtful:
            issues.append(Issue("warning", "UNIT_AS_PRINTED",
                                f"the unit of {lab.analyte} is marked as printed in the source ({lab.unit!r}); "
                                "the number is not interpreted", f"{lab.where}.unit",
                                "confirm the unit against the original report"))
            continue
        key = unit_key(bare)
        factor = form.units.get(key)
        if factor is None and key in form.unconvertible:
            issues.append(Issue("warning", "UNCONVERTIBLE_UNIT",
                                f"{lab.analyte} in {lab.unit!r}: a method-bound unit with no fixed conversion to "
                                f"{form.si_unit}; the number is not interpreted (the report's reading is used)",
                                f"{lab.where}.unit", f"give the value in {_unit_hint(form)} if it is known"))
            continue
        if factor is None:
            if key in c.all_units:
                issues.append(Issue("error", "UNIT_MISMATCH",
                                    f"unit {lab.unit!r} does not fit {lab.analyte} ({form.label})",
                                    f"{lab.where}.unit", f"units accepted for {form.analyte}: {_unit_hint(form)}"))
            else:
                issues.append(Issue("error", "UNKNOWN_UNIT",
                                    f"unknown unit {lab.unit!r} for {lab.analyte} ({form.label})",
                                    f"{lab.where}.unit", f"use one of: {_unit_hint(form)}"))
            continue
        si = v * factor
        if form.plausible and not (form.plausible[0] <= si <= form.plausible[1]):
            lo, hi = form.plausible
            issues.append(Issue("error", "IMPOSSIBLE_VALUE",
                                f"impossible value for {lab.analyte} ({form.label}): {lab.value:g} {lab.unit} = "
                                f"{si:.4g} {form.si_unit}, outside the physiologically possible "
                                f"{lo:g}-{hi:g} {form.si_unit}",
                                f"{lab.where}.value", "check the number and the unit (a mg/dL vs mmol/L mix-up?)"))
    return issues


def _check_range_text(lab: LabResult, form: _Form) -> list[Issue]:
    rng = _lab_range(lab)
    if rng is None:
        return []
    lo, hi, _ = rng
    if lo is not None and hi is not None and lo > hi:
        return [Issue("error", "IMPOSSIBLE_VALUE",
                      f"reference range of {lab.analyte} ({form.label}) has its lower limit above the upper ({lo:g} > {hi:g})",
                      f"{lab.where}.reference_range", "write the range as low-high")]
    return []


def _unit_hint(form: _Form) -> str:
    return ", ".join(form.unit_names) if form.unit_names else "(qualitative: positive/negative)"


# ---------------------------------------------------------------------------------------------
# read_labs
# ---------------------------------------------------------------------------------------------

_PICKED_MAX = 50_000  # memoised (analyte, age, sex) choices per knowledge base; cleared when full


def pick_interval(analyte: str, age_days: float | None, sex: str | None, kb: Any) -> tuple[Interval | None, str | None]:
    """The knowledge-base interval (in SI) for this age and sex, or (None, why not). A pure function of its
    arguments, memoised per knowledge base (serial results of one patient ask the same question)."""
    memo = kb.cache.setdefault("picked_intervals", {})
    key = (analyte, age_days, sex)
    hit = memo.get(key)
    if hit is None:
        if len(memo) >= _PICKED_MAX:
            memo.clear()
        hit = memo[key] = _pick_interval(analyte, age_days, sex, kb)
    return hit


_SPAN_MAX = 50_000  # memoised (analyte, age, sex) spans per knowledge base; cleared when full


def interval_span(analyte: str, age_days: float | None, sex: str | None, kb: Any) -> tuple[float | None, float | None] | None:
    """The widest (lowest lower, highest upper) limits, in SI, over every source's interval for this age and
    sex in the knowledge base (all priorities; rows for the other sex left out when the sex is known), or
    None. Where the cited sources disagree, a value between the preferred interval's limit and this span is
    abnormal for one source and normal for another: borderline. Memoised like :func:`pick_interval`."""
    memo = kb.cache.setdefault("interval_spans", {})
    key = (analyte, age_days, sex)
    if key in memo:
        return memo[key]
    if len(memo) >= _SPAN_MAX:
        memo.clear()
    span = None
    rows = compile_labs(kb).intervals.get(analyte) or []
    if age_days is not None:
        at_age = [r for r in rows if r.age_low <= age_days < r.age_high and not r.ne
                  and (sex not in ("female", "male") or r.sex in (sex, "both"))]
        if at_age:
            lows = [r.low for r in at_age]
            highs = [r.high for r in at_age]
            span = (None if any(v is None for v in lows) else min(lows),
                    None if any(v is None for v in highs) else max(highs))
    memo[key] = span
    return span


def _pick_interval(analyte: str, age_days: float | None, sex: str | None, kb: Any) -> tuple[Interval | None, str | None]:
    c = compile_labs(kb)
    rows = c.intervals.get(analyte)
    if not rows:
        return None, "no reference interval for this analyte in the knowledge base"
    if age_days is None:
        return None, "age unknown: no age-specific interval applied"
    at_age = [r for r in rows if r.age_low <= age_days < r.age_high]
    if not at_age:
        return None, "no reference interval covers this age"
    form = c.forms[(analyte, None)]
    ne_notes = []
    for prio in sorted({r.priority for r in at_age}):
        tier = [r for r in at_age if r.priority == prio]
        usable = [r for r in tier if not r.ne]
        if not usable:
            ne_notes.extend(f"{r.source}: {r.note}" for r in tier)
            continue
        chosen = _by_sex(usable, sex)
        if chosen is None:
            continue
        low, high, source, band, row_sex, note = chosen
        if ne_notes:
            note = f"{note}; preferred source gives none here ({'; '.join(ne_notes)})"
        return Interval(low=low, high=high, unit=form.si_unit or "", age_band=band, sex=row_sex, source=source,
                        note=note or None), None
    return None, "; ".join(ne_notes) or "no interval established at this age"


def _by_sex(rows: list[_Row], sex: str | None):
    if sex in ("female", "male"):
        for want in (sex, "both"):
            for r in rows:
                if r.sex == want:
                    return r.low, r.high, r.source, r.band, r.sex, r.note
        return None
    for r in rows:
        if r.sex == "both":
            return r.low, r.high, r.source, r.band, "both", r.note
    f = [r for r in rows if r.sex == "female"]
    m = [r for r in rows if r.sex == "male"]
    if f and m:  # sex unknown: the widest of the two intervals
        rf, rm = f[0], m[0]
        low = None if rf.low is None or rm.low is None else min(rf.low, rm.low)
        high = None if rf.high is None or rm.high is None else max(rf.high, rm.high)
        src = rf.source if rf.source == rm.source else f"{rf.source};{rm.source}"
        return low, high, src, rf.band, "both", f"{rf.note}; sex unknown: widest of the female and male intervals"
    return None


def _reported_flag(lab: LabResult) -> str | None:
    rep = (lab.reported_as or "").strip().lower()
    return rep if rep in FLAG_WORDS else None


def read_labs(labs: Sequence[LabResult], age_days: float | None, sex: str | None,
              kb: Any) -> tuple[tuple[LabReading, ...], tuple[DerivedValue, ...]]:
    """One LabReading per recognised analyte (one per member for a panel) and the derived values."""
    c = compile_labs(kb)
    out: list[LabReading] = []
    for lab in labs:
        age = lab.age_days if lab.age_days is not None else age_days
        kind, hit = _lookup(lab.analyte, lab.loinc, c)
        if kind == "panel":
            out.extend(_read_panel(lab, hit, c, age_days, sex, kb))  # type: ignore[arg-type]
        elif kind == "analyte":
            hit = _disambiguate(lab, hit, age, sex, kb, c)  # type: ignore[arg-type]
            out.append(_read_one(lab, c.forms[_form_for_unit(hit, lab.unit, c)], age, sex, kb))
        else:
            out.append(_read_unrecognised(lab))
    readings = tuple(out)
    return readings, _derive(readings, age_days, sex, kb, c)


def _base(lab: LabResult, analyte: str, label: str, **kw: Any) -> LabReading:
    fields: dict[str, Any] = {
        "analyte": analyte, "label": label, "reported_name": lab.analyte, "loinc": lab.loinc, "value": lab.value, "unit": lab.unit,
        "value_si": None, "unit_si": None, "reported_as": lab.reported_as, "flag": "not_interpretable", "interval": None,
        "flag_basis": "none", "where": lab.where, "panel": None, "note": lab.note}
    fields.update(kw)
    return LabReading(**fields)


def _join(*notes: str | None) -> str | None:
    parts = [n for n in notes if n]
    return "; ".join(parts) if parts else None


def _read_unrecognised(lab: LabResult) -> LabReading:
    rep = _reported_flag(lab)
    v = _numeric(lab.value)
    rng = _lab_range(lab)
    if v is not None and rng is not None and (rng[2] is None or lab.unit is None
                                               or unit_key(rng[2]) == unit_key(lab.unit)):
        flag = _flag_against(v, rng[0], rng[1])
        iv = Interval(low=rng[0], high=rng[1], unit=rng[2] or lab.unit or "", age_band="as reported", sex="both",
                      source="reporting laboratory")
        return _base(lab, UNRECOGNISED, lab.analyte, flag=flag, interval=iv, flag_basis="laboratory_interval")
    if rep:
        return _base(lab, UNRECOGNISED, lab.analyte, flag=rep, flag_basis="reported")
    return _base(lab, UNRECOGNISED, lab.analyte, note=_join(lab.note, "analyte not recognised"))


def _read_panel(lab: LabResult, panel: _Panel, c: _Compiled, age: float | None = None, sex: str | None = None,
                kb: Any = None) -> list[LabReading]:
    rep = _reported_flag(lab)
    out = []
    for aid in panel.analytes:
        form = c.forms[(aid, None)]
        if rep == "normal":
            ref_iv = pick_interval(aid, age, sex, kb)[0] if age is not None and kb is not None else None
            out.append(_base(lab, aid, form.label, flag="normal", flag_basis="panel_reported_normal",
                             panel=lab.analyte, interval=ref_iv, note=_join(lab.note, panel.note)))
        elif rep:
            out.append(_base(lab, aid, form.label, flag=rep, flag_basis="panel_reported", panel=lab.analyte,
                             note=_join(lab.note, f"'{lab.analyte}' reported {rep} as a whole; which member is "
                                                  "abnormal is not stated", panel.note)))
        else:
            text = f"panel reported as {lab.value!r}" if lab.value is not None else "panel reported without a result"
            out.append(_base(lab, aid, form.label, panel=lab.analyte, note=_join(lab.note, text, panel.note)))
    return out


def _read_one(lab: LabResult, form: _Form, age: float | None, sex: str | None, kb: Any) -> LabReading:
    rep = _reported_flag(lab)
    label = form.label
    form_note = form.note
    v = _numeric(lab.value)
    if form.qualitative:
        word = _qualitative_word(lab.value) or (rep if rep in ("positive", "negative") else None)
        if word:
            return _base(lab, form.analyte, label, flag=word, flag_basis="reported")
    if v is None:
        if rep:
            # no number: keep the report's word, and show the interval for this age and sex for reference
            ref_iv, _why = pick_interval(form.analyte, age, sex, kb) if age is not None else (None, None)
            return _base(lab, form.analyte, label, flag=rep, flag_basis="reported", interval=ref_iv,
                         note=_join(lab.note, form_note))
        why = "no number and no reported interpretation" if lab.value is None else f"result {lab.value!r} not interpreted"
        return _base(lab, form.analyte, label, note=_join(lab.note, why))
    factor = None
    doubtful = False
    if lab.unit:
        bare, doubtful = split_unit(lab.unit)
        factor = None if doubtful else form.units.get(unit_key(bare))
    if factor is None:
        why = ("unit marked as printed in the source; number not interpreted" if doubtful else
               "no unit given" if not lab.unit else
               f"unit {lab.unit!r} has no fixed conversion; number not interpreted"
               if unit_key(split_unit(lab.unit)[0]) in form.unconvertible else
               f"unit {lab.unit!r} not usable for this analyte")
        if rep:
            return _base(lab, form.analyte, label, flag=rep, flag_basis="reported", note=_join(lab.note, why))
        return _base(lab, form.analyte, label, note=_join(lab.note, why))
    si = v * factor
    common = {"value_si": si, "unit_si": form.si_unit}
    if form.plausible and not (form.plausible[0] <= si <= form.plausible[1]):
        return _base(lab, form.analyte, label, flag_basis="impossible_value",
                     note=_join(lab.note, "impossible value (see input issues)"), **common)
    rng = _lab_range(lab)
    if rng is not None:
        r_factor = factor if rng[2] is None else form.units.get(unit_key(rng[2]))
        if r_factor is not None:
            lo = None if rng[0] is None else rng[0] * r_factor
            hi = None if rng[1] is None else rng[1] * r_factor
            flag = _flag_against(si, lo, hi)
            if form.qualitative:
                flag = "positive" if flag == "high" else "negative"
            iv = Interval(low=lo, high=hi, unit=form.si_unit or "", age_band="as reported by the laboratory",
                          sex=sex or "both", source="reporting laboratory",
                          note=f"laboratory range {lab.reference_range or f'{_fmt(rng[0])}-{_fmt(rng[1])}'}")
            return _base(lab, form.analyte, label, flag=flag, interval=iv, flag_basis="laboratory_interval",
                         note=_join(lab.note, form_note), **common)
    interval, why = pick_interval(form.analyte, age, sex, kb)
    if interval is None:
        if rep:
            return _base(lab, form.analyte, label, flag=rep, flag_basis="reported",
                         note=_join(lab.note, form_note, why), **common)
        return _base(lab, form.analyte, label, note=_join(lab.note, form_note, why), **common)
    flag = _flag_against(si, interval.low, interval.high)
    if rep and rep != flag and rep in ("normal", "high", "low", "abnormal"):
        return _base(lab, form.analyte, label, flag=rep, interval=interval, flag_basis="reported",
                     note=_join(lab.note, form_note, f"the knowledge-base interval ({_fmt(interval.low)}-"
                                f"{_fmt(interval.high)} {interval.unit}, {interval.source}) gives '{flag}'; "
                                "the report's own flag is kept"), **common)
    return _base(lab, form.analyte, label, flag=flag, interval=interval, flag_basis="value_vs_interval",
                 note=_join(lab.note, form_note), **common)


# ---------------------------------------------------------------------------------------------
# Derived values
# ---------------------------------------------------------------------------------------------

def _first_si(readings: Sequence[LabReading], analyte: str, labels: set[str] | None = None) -> LabReading | None:
    """First usable numeric reading of ``analyte`` (optionally only those with one of ``labels``)."""
    for r in readings:
        if (r.analyte == analyte and r.value_si is not None and r.flag_basis != "impossible_value"
                and (labels is None or r.label in labels)):
            return r
    return None


def _derive(readings: Sequence[LabReading], age_days: float | None, sex: str | None, kb: Any,
            c: _Compiled) -> tuple[DerivedValue, ...]:
    out: list[DerivedValue] = []
    measured = {f.label for k, f in c.forms.items() if k[0] == "calcium_total" and k[1] is None}
    corrected_labels = {f.label for k, f in c.forms.items() if k[0] == "calcium_total" and k[1] is not None}
    ca = _first_si(readings, "calcium_total", measured)
    alb = _first_si(readings, "albumin")
    p = _first_si(readings, "phosphate")
    ca_for_product = ca.value_si if ca else None
    ca_basis = "measured total calcium"
    spec = c.derived.get("corrected_calcium")
    if spec and ca is not None and alb is not None:
        corr = ca.value_si + float(spec["coefficient"]) * (float(spec["reference_albumin_g_l"]) - alb.value_si)
        interval, why = pick_interval(spec.get("read_against", "calcium_total"), age_days, sex, kb)
        flag = None if interval is None else _flag_against(corr, interval.low, interval.high)
        threshold = (f"total-calcium interval {_fmt(interval.low)}-{_fmt(interval.high)} {interval.unit} "
                     f"({interval.source}, {interval.age_band})") if interval else f"not flagged: {why}"
        out.append(DerivedValue(id="corrected_calcium", label=spec.get("label", "corrected calcium"),
                                value=round(corr, 4), unit=spec.get("unit", "mmol/L"), flag=flag, threshold=threshold,
                                sources=tuple(spec.get("sources") or ()) + ((interval.source,) if interval else ())))
        ca_for_product = corr
        ca_basis = "albumin-corrected calcium"
    if ca_for_product is None:
        corr_reported = _first_si(readings, "calcium_total", corrected_labels)
        if corr_reported is not None:
            ca_for_product = corr_reported.value_si
            ca_basis = "reported corrected calcium"
    spec = c.derived.get("calcium_phosphate_product")
    if spec and ca_for_product is not None and p is not None:
        ca_mg = ca_for_product / c.forms[("calcium_total", None)].units["mg/dl"]
        p_mg = p.value_si / c.forms[("phosphate", None)].units["mg/dl"]
        product = ca_mg * p_mg
        flag = None
        threshold = "age unknown: KDOQI targets are age-specific; not flagged"
        if age_days is not None:
            for t in spec.get("thresholds") or []:
                if float(t["age_low_days"]) <= age_days < float(t["age_high_days"]):
                    flag = "high" if product >= float(t["max"]) else "normal"
                    threshold = f"{t['label']}; uses {ca_basis}"
                    break
        out.append(DerivedValue(id="calcium_phosphate_product", label=spec.get("label", "Ca x P"),
                                value=round(product, 2), unit=spec.get("unit", "mg2/dL2"), flag=flag,
                                threshold=threshold, sources=tuple(spec.get("sources") or ())))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Status of one analyte
# ---------------------------------------------------------------------------------------------

_STATUS_FALLBACK = {"calcium_total": ("calcium_ionized",)}


def analyte_status(readings: Sequence[LabReading], analyte_id: str) -> str:
    """"normal" | "high" | "low" | "abnormal" | "positive" | "negative" | "not_interpretable" | "not_measured".

    Several readings of one analyte combine: any high (or low) beats normal, high with low gives "abnormal",
    positive beats negative. A reported albumin-corrected calcium is a calcium_total reading; when no total
    calcium was reported at all, ionised calcium stands in for "calcium_total". "not_interpretable" means a
    result exists but cannot be read (no unit, no number, unknown age without a reported flag).
    """
    status = _status_of(readings, analyte_id)
    if status == "not_measured":
        for alt in _STATUS_FALLBACK.get(analyte_id, ()):
            alt_status = _status_of(readings, alt)
            if alt_status != "not_measured":
                return alt_status
    return status


def _status_of(readings: Sequence[LabReading], analyte_id: str) -> str:
    flags = {r.flag for r in readings if r.analyte == analyte_id}
    if not flags:
        return "not_measured"
    if "positive" in flags:
        return "positive"
    high, low = "high" in flags, "low" in flags
    if (high and low) or "abnormal" in flags:
        return "abnormal"
    if high:
        return "high"
    if low:
        return "low"
    if "negative" in flags:
        return "negative"
    if "normal" in flags:
        return "normal"
    return "not_interpretable"
