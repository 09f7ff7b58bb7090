"""Reader for the ``calcinosis-case/1`` JSON format (see docs/case-format.md).

``null`` always means unknown. Wrong types and impossible values raise InputError naming the field.
"""

from __future__ import annotations

import math
from typing import Any

from calcinosis.core.model import Findings, History, LabResult, Lesion
from calcinosis.errors import InputError, Issue

FORMAT = "calcinosis-case/1"
MAX_AGE_MONTHS = 130 * 12
DAYS_PER_MONTH = 30.4375

_BOOL_WORDS = {"true": True, "yes": True, "y": True, "present": True, "false": False, "no": False, "n": False,
               "absent": False}
_UNKNOWN_WORDS = {"", "unknown", "null", "none", "not reported", "not stated", "n/a", "na", "nr", "unspecified",
                  "not known", "undetermined"}
_REPORTED_AS = {
    "value": "value", "normal": "normal", "high": "high", "low": "low", "abnormal": "abnormal",
    "positive": "positive", "negative": "negative",
    # synonyms as reports word them
    "elevated": "high", "raised": "high", "increased": "high", "above normal": "high",
    "decreased": "low", "reduced": "low", "below normal": "low", "within normal limits": "normal",
    "wnl": "normal", "unremarkable": "normal", "detected": "positive", "not detected": "negative",
}


class _Collector:
    def __init__(self, src: str):
        self.src = src
        self.issues: list[Issue] = []

    def err(self, field: str, message: str, suggestion: str | None = None, code: str = "CASE_FIELD") -> None:
        self.issues.append(Issue("error", code, message, f"{self.src}: {field}", suggestion))


def _opt_str(c: _Collector, obj: dict, key: str, field: str | None = None) -> str | None:
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if not isinstance(v, str):
        c.err(field or key, f"must be a string or null, got {type(v).__name__}")
        return None
    v = v.strip()
    return v or None


def _opt_bool(c: _Collector, obj: dict, key: str, field: str) -> bool | None:
    v = obj.get(key)
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[v.strip().lower()]
    if isinstance(v, str) and v.strip().lower() in _UNKNOWN_WORDS:
        return None
    c.err(field, f"must be true, false or null, got {v!r}")
    return None


def _opt_num(c: _Collector, obj: dict, key: str, field: str, lo: float, hi: float, what: str) -> float | None:
    v = obj.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        c.err(field, f"must be a number or null, got {v!r}")
        return None
    if not math.isfinite(v) or v < lo or v > hi:
        c.err(field, f"impossible {what}: {v!r} (allowed {lo:g} to {hi:g})", code="IMPOSSIBLE_VALUE")
        return None
    return float(v)


def _str_list(c: _Collector, obj: dict, key: str, field: str) -> tuple[str, ...]:
    v = obj.get(key)
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    if not isinstance(v, list):
        c.err(field, f"must be a list of strings, got {type(v).__name__}")
        return ()
    out = []
    for i, x in enumerate(v):
        if isinstance(x, str):
            if x.strip():
                out.append(x.strip())
        elif x is not None:
            c.err(f"{field}[{i}]", f"must be a string, got {type(x).__name__}")
    return tuple(out)


def read_case(obj: Any, src: str = "<input>") -> Findings:
    """Turn a parsed ``calcinosis-case/1`` JSON object into Findings (raises InputError with every issue)."""
    c = _Collector(src)
    if not isinstance(obj, dict):
        raise InputError("a case must be a JSON object", where=src, code="CASE_NOT_OBJECT")
    fmt = obj.get("format")
    if fmt is not None and fmt != FORMAT:
        c.err("format", f"unknown format {fmt!r}", f"expected {FORMAT!r}", code="UNKNOWN_FORMAT")
    cid = obj.get("id")
    if cid is None:
        cid = src.rsplit("/", 1)[-1].removesuffix(".json")
    elif not isinstance(cid, (str, int)) or isinstance(cid, bool):
        c.err("id", "must be a string")
        cid = "case"
    age_m = _opt_num(c, obj, "age_months", "age_months", 0, MAX_AGE_MONTHS, "age")
    onset_m = _opt_num(c, obj, "onset_age_months", "onset_age_months", 0, MAX_AGE_MONTHS, "age at onset")
    # An onset after the age at presentation is possible (lesions that appear during follow-up): kept as given.
    sex_raw = obj.get("sex")
    sex: str | None = None
    if sex_raw is not None:
        s = str(sex_raw).strip().lower() if isinstance(sex_raw, str) else None
        if s in ("female", "f", "girl", "woman"):
            sex = "female"
        elif s in ("male", "m", "boy", "man"):
            sex = "male"
        elif s in _UNKNOWN_WORDS or s in ("other", "intersex", "indeterminate", "ambiguous"):
            sex = None
        else:
            c.err("sex", f"unknown sex {sex_raw!r}", "use \"female\", \"male\" or null")

    count_raw = obj.get("lesion_count")
    count: int | None = None
    count_text: str | None = None
    if isinstance(count_raw, bool):
        c.err("lesion_count", "must be an integer, a string or null")
    elif isinstance(count_raw, (int, float)):
        if count_raw < 0 or count_raw > 100000 or not math.isfinite(count_raw) or count_raw != int(count_raw):
            c.err("lesion_count", f"impossible lesion count {count_raw!r}", code="IMPOSSIBLE_VALUE")
        else:
            count = int(count_raw)
    elif isinstance(count_raw, str):
        count_text = count_raw.strip() or None
    elif count_raw is not None:
        c.err("lesion_count", "must be an integer, a string or null")

    lesion = Lesion(
        sites=_str_list(c, obj, "lesion_sites", "lesion_sites"),
        count=count,
        count_text=count_text,
        max_size_mm=_opt_num(c, obj, "lesion_max_size_mm", "lesion_max_size_mm", 0.01, 2000, "lesion size (mm)"),
        painful=_opt_bool(c, obj, "painful", "painful"),
        ulcerated=_opt_bool(c, obj, "ulcerated", "ulcerated"),
        inflammation=_opt_bool(c, obj, "inflammation", "inflammation"),
        description=_opt_str(c, obj, "lesion_description"),
    )

    h = obj.get("history")
    if h is None:
        h = {}
    if not isinstance(h, dict):
        c.err("history", "must be an object or null")
        h = {}
    history = History(
        trauma=_opt_bool(c, h, "trauma", "history.trauma"),
        prior_injection_or_infusion=_opt_str(c, h, "prior_injection_or_infusion", "history.prior_injection_or_infusion"),
        calcium_or_phosphate_agent=_opt_bool(c, h, "calcium_or_phosphate_agent", "history.calcium_or_phosphate_agent"),
        renal_failure=_opt_bool(c, h, "renal_failure", "history.renal_failure"),
        dialysis=_opt_bool(c, h, "dialysis", "history.dialysis"),
        connective_tissue_disease=_opt_str(c, h, "connective_tissue_disease", "history.connective_tissue_disease"),
        family_history=_opt_bool(c, h, "family_history", "history.family_history"),
        other_conditions=_str_list(c, h, "other_conditions", "history.other_conditions"),
        medications=_str_list(c, h, "medications", "history.medications"),
    )

    labs_raw = obj.get("labs")
    labs: list[LabResult] = []
    if labs_raw is None:
        labs_raw = []
    if not isinstance(labs_raw, list):
        c.err("labs", "must be a list")
        labs_raw = []
    for i, lab in enumerate(labs_raw):
        where = f"labs[{i}]"
        if not isinstance(lab, dict):
            c.err(where, "must be an object")
            continue
        analyte = lab.get("analyte")
        if not isinstance(analyte, str) or not analyte.strip():
            c.err(f"{where}.analyte", "must be a non-empty string")
            continue
        value = lab.get("value")
        if isinstance(value, bool) or not (value is None or isinstance(value, (int, float, str))):
            c.err(f"{where}.value", f"must be a number, a string or null, got {type(value).__name__}")
            continue
        if isinstance(value, float) and not math.isfinite(value):
            c.err(f"{where}.value", f"impossible value {value!r}", code="IMPOSSIBLE_VALUE")
            continue
        if isinstance(value, str):
            try:
                value = float(value.replace(",", "."))
            except ValueError:
                value = value.strip() or None
        rep = lab.get("reported_as")
        if rep is not None:
            if not isinstance(rep, str):
                c.err(f"{where}.reported_as", "must be a string")
                rep = None
            else:
                word = rep.strip().lower()
                rep = _REPORTED_AS.get(word)
                if rep is None and word not in _UNKNOWN_WORDS:
                    c.err(f"{where}.reported_as", f"unknown value {word!r}",
                          "use value, normal, high, low, abnormal, positive or negative")
        unit = lab.get("unit")
        if unit is not None and not isinstance(unit, str):
            c.err(f"{where}.unit", "must be a string or null")
            unit = None
        note = lab.get("note")
        rr = lab.get("reference_range")
        labs.append(LabResult(
            analyte=analyte.strip(),
            value=value,
            unit=unit.strip() if isinstance(unit, str) and unit.strip() else None,
            reported_as=rep,
            note=note if isinstance(note, str) else None,
            loinc=lab.get("loinc") if isinstance(lab.get("loinc"), str) else None,
            reference_range=rr if isinstance(rr, str) else None,
            where=f"{src}: {where}",
        ))

    age_text = _opt_str(c, obj, "age_text")
    age_days = None if age_m is None else age_m * DAYS_PER_MONTH
    notes: tuple[str, ...] = ()
    if age_days is None and age_text:
        from calcinosis.io.age_text import age_days_from_text

        got = age_days_from_text(age_text)
        if got is not None and got[0] <= MAX_AGE_MONTHS * DAYS_PER_MONTH:
            age_days, how = got
            notes = (f"age_months is null; {how}",)
    findings = Findings(
        id=str(cid),
        age_days=age_days,
        age_text=age_text,
        sex=sex,
        onset_age_days=None if onset_m is None else onset_m * DAYS_PER_MONTH,
        lesion=lesion,
        history=history,
        labs=tuple(labs),
        histology=_opt_str(c, obj, "histology"),
        imaging=_opt_str(c, obj, "imaging"),
        source_format=FORMAT,
        source_name=src,
        notes=notes,
    )
    if c.issues:
        raise InputError(c.issues[0].message, where=c.issues[0].where, issues=c.issues,
                         code=c.issues[0].code)
    return findings
