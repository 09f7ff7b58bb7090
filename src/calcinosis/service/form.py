"""Turn the clinician web form into a ``calcinosis-case/1`` object (the case reader then checks it).

Only shape is handled here (numbers parse, tri-state choices map to true/false/null); impossible values are
refused by the case reader, which names the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from calcinosis.errors import InputError, Issue

SRC = "web form"
LAB_ROWS = 8
AGE_UNITS = {"days": 1 / 30.4375, "weeks": 7 / 30.4375, "months": 1.0, "years": 12.0}
TRI = {"": None, "unknown": None, "yes": True, "no": False}
REPORTED = ("", "value", "normal", "high", "low", "abnormal", "positive", "negative")
HISTORY_TRI = ("trauma", "calcium_or_phosphate_agent", "renal_failure", "dialysis", "family_history")


def _text(form: Mapping[str, Any], key: str) -> str | None:
    v = form.get(key)
    if not isinstance(v, str):
        return None
    v = v.strip()
    return v or None


def _split(text: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"[,;\n]", text or "") if p.strip()]


def case_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """Build the case dict; raise InputError listing every field that does not parse."""
    issues: list[Issue] = []

    def bad(field: str, msg: str) -> None:
        issues.append(Issue("error", "FORM_FIELD", msg, f"{SRC}: {field}"))

    def num(key: str, label: str) -> float | None:
        t = _text(form, key)
        if t is None:
            return None
        try:
            return float(t.replace(",", "."))
        except ValueError:
            bad(label, f"not a number: {t!r}")
            return None

    def tri(key: str, label: str) -> bool | None:
        t = (_text(form, key) or "").lower()
        if t not in TRI:
            bad(label, f"choose yes, no or unknown (got {t!r})")
            return None
        return TRI[t]

    age = num("age", "age")
    unit = _text(form, "age_unit") or "months"
    if unit not in AGE_UNITS:
        bad("age unit", f"unknown unit {unit!r} (days, weeks, months or years)")
        unit = "months"
    onset = num("onset_age", "age at onset")
    count_text = _text(form, "lesion_count")
    count: Any = count_text
    if count_text and count_text.isdigit():
        count = int(count_text)
    sex = (_text(form, "sex") or "").lower() or None
    if sex not in (None, "female", "male"):
        bad("sex", f"choose female, male or unknown (got {sex!r})")
        sex = None
    labs = []
    for i in range(LAB_ROWS):
        analyte = _text(form, f"lab_analyte_{i}")
        value_t = _text(form, f"lab_value_{i}")
        unit_t = _text(form, f"lab_unit_{i}")
        rep = (_text(form, f"lab_reported_as_{i}") or "").lower()
        if not (analyte or value_t or unit_t or rep):
            continue
        row = f"laboratory row {i + 1}"
        if not analyte:
            bad(row, "a value was given without the test's name")
            continue
        if rep not in REPORTED:
            bad(f"{row} ({analyte})", f"unknown result kind {rep!r}")
            rep = ""
        value = None
        if value_t is not None:
            try:
                value = float(value_t.replace(",", "."))
            except ValueError:
                bad(f"{row} ({analyte})", f"value is not a number: {value_t!r}")
        labs.append({"analyte": analyte, "value": value, "unit": unit_t,
                     "reported_as": rep or ("value" if value is not None else None), "note": None})
    history = {k: tri(f"h_{k}", k.replace("_", " ")) for k in HISTORY_TRI}
    history["prior_injection_or_infusion"] = _text(form, "h_prior_injection_or_infusion")
    history["connective_tissue_disease"] = _text(form, "h_connective_tissue_disease")
    history["other_conditions"] = _split(_text(form, "h_other_conditions"))
    case = {
        "format": "calcinosis-case/1",
        "id": _text(form, "case_id") or "web-form",
        "age_months": None if age is None else round(age * AGE_UNITS[unit], 4),
        "age_text": None if age is None else f"{_text(form, 'age')} {unit}",
        "sex": sex,
        "onset_age_months": None if onset is None else round(onset * AGE_UNITS[unit], 4),
        "lesion_sites": _split(_text(form, "lesion_sites")),
        "lesion_count": count,
        "lesion_max_size_mm": num("lesion_max_size_mm", "largest lesion (mm)"),
        "painful": tri("painful", "painful"),
        "ulcerated": tri("ulcerated", "ulcerated"),
        "inflammation": tri("inflammation", "inflammation"),
        "lesion_description": _text(form, "lesion_description"),
        "history": history,
        "labs": labs,
        "histology": _text(form, "histology"),
        "imaging": _text(form, "imaging"),
    }
    if issues:
        raise InputError(issues[0].message, where=issues[0].where, issues=issues, code="FORM_FIELD")
    return case
