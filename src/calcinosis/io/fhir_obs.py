"""Observations (laboratory results and lesion statements) and DiagnosticReports (histology, imaging)."""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any

from calcinosis.core.model import LabResult
from calcinosis.io.fhir_common import (
    Acc,
    Ctx,
    cc_label,
    cc_text,
    codings,
    contains_any,
    days_between,
    first_code,
    note_texts,
    parse_date,
)
from calcinosis.io.fhir_map import norm

_NUM_UNIT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Zµ]*)\s*$")
_INT = re.compile(r"^\s*(\d+)\s*$")


# ------------------------------------------------------------------ lesion statements ("Key: value")

def lesion_key(ctx: Ctx, text: str) -> tuple[str, str] | None:
    """Split "Largest lesion: 20 mm" into (field, value) when the key is a known lesion key."""
    key, sep, value = text.partition(":")
    if not sep:
        return None
    field = ctx.maps.lesion_keys.get(norm(key))
    return (field, value.strip()) if field else None


def apply_lesion(ctx: Ctx, acc: Acc, label: str, field: str, value: Any, unit: str | None = None) -> bool:
    """Record one lesion statement; notes (and returns False) when the value cannot be read."""
    m = ctx.maps
    if field == "age_text":
        acc.age_text = str(value).strip() or acc.age_text
        return True
    if field in ("painful", "ulcerated", "inflammation"):
        v = value if isinstance(value, bool) else {**{w: True for w in m.yes_words},
                                                    **{w: False for w in m.no_words}}.get(norm(value))
        if v is None:
            ctx.note(label, f"{field}: value {value!r} is neither yes nor no; ignored")
            return False
        acc.set_lesion_bool(field, v)
        acc.lesion_described = True
        return True
    if field == "count":
        if (isinstance(value, (int, float)) and not isinstance(value, bool)) or _INT.match(str(value)):
            n = float(value)
            if n < 0 or n != int(n) or n > 100000:
                ctx.error(label, "lesion count", f"impossible lesion count {value!r}", code="IMPOSSIBLE_VALUE")
                return False
            acc.count = (acc.count or 0) + int(n)
        elif str(value).strip():
            acc.count_text = str(value).strip()
        acc.lesion_described = True
        return True
    if field == "max_size_mm":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            num, u = float(value), unit or "mm"
        else:
            mm = _NUM_UNIT.match(str(value))
            if not mm:
                ctx.note(label, f"lesion size {value!r} is not a number with a unit; ignored")
                return False
            num, u = float(mm.group(1).replace(",", ".")), mm.group(2) or unit or "mm"
        factor = m.size_units_mm.get(norm(u))
        if factor is None:
            ctx.note(label, f"lesion size unit {u!r} is not a length unit; ignored")
            return False
        size = num * factor
        if not (0 < size <= 2000):
            ctx.error(label, "lesion size", f"impossible lesion size {size:g} mm", code="IMPOSSIBLE_VALUE")
            return False
        acc.max_size_mm = max(acc.max_size_mm or 0.0, size)
        acc.lesion_described = True
        return True
    return False  # pragma: no cover - fields are checked when the mappings are compiled


# ------------------------------------------------------------------ Observation

def _number(ctx: Ctx, label: str, path: str, v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        ctx.error(label, path, f"must be a number, got {v!r}")
        return None
    if not math.isfinite(x):
        ctx.error(label, path, f"impossible value {v!r}", code="IMPOSSIBLE_VALUE")
        return None
    return x


_UCUM_ANNOTATION = re.compile(r"\{([^{}]*)\}")
_UCUM_TIMED = re.compile(r"/\((\d+)\.(h|d)\)")


def ucum_as_written(code: str) -> str:
    """A UCUM code in the notation reports print: annotations ``{RU}/mL`` -> ``RU/mL``,
    ``mL/min/{1.73_m2}`` -> ``mL/min/1.73m2``, timed ``mg/(24.h)`` -> ``mg/24h``; other codes unchanged."""
    s = _UCUM_ANNOTATION.sub(lambda m: m.group(1).replace("_", ""), code)
    return _UCUM_TIMED.sub(lambda m: f"/{m.group(1)}{m.group(2)}", s)


def _unit(q: dict) -> str | None:
    """UCUM code (as written, see ``ucum_as_written``) when the quantity is coded in UCUM, else the printed unit."""
    if q.get("system") == "http://unitsofmeasure.org" and q.get("code"):
        return ucum_as_written(str(q["code"]))
    u = q.get("unit") or q.get("code")
    return str(u).strip() if u else None


def _value(ctx: Ctx, obs: dict, label: str) -> tuple[float | str | None, str | None]:
    """(value, unit) of an Observation's value[x]; None when data are absent."""
    if "valueQuantity" in obs:
        q = obs["valueQuantity"] or {}
        if q.get("value") is None:
            return None, _unit(q)
        x = _number(ctx, label, "valueQuantity.value", q["value"])
        comp = q.get("comparator")
        if x is not None and comp:
            return f"{comp}{x:g}", _unit(q)
        return x, _unit(q)
    if "valueInteger" in obs:
        return _number(ctx, label, "valueInteger", obs["valueInteger"]), None
    if "valueString" in obs:
        s = str(obs["valueString"]).strip()
        return s or None, None
    if "valueCodeableConcept" in obs:
        return cc_label(ctx.maps, obs["valueCodeableConcept"]), None
    if "valueBoolean" in obs:
        return ("true" if obs["valueBoolean"] else "false"), None
    for key in ("valueRange", "valueRatio", "valueSampledData", "valueTime", "valueDateTime", "valuePeriod"):
        if key in obs:
            ctx.note(label, f"{key} is not read; value left unknown")
            return None, None
    return None, None


def _reference_range(ctx: Ctx, obs: dict, label: str, unit: str | None):
    rr = obs.get("referenceRange") or []
    if not rr or not isinstance(rr[0], dict):
        return None, None, None
    r = rr[0]
    lo = r.get("low") or {}
    hi = r.get("high") or {}
    low = _number(ctx, label, "referenceRange[0].low.value", lo["value"]) if lo.get("value") is not None else None
    high = _number(ctx, label, "referenceRange[0].high.value", hi["value"]) if hi.get("value") is not None else None
    text = r.get("text")
    if not text and (low is not None or high is not None):
        u = _unit(lo) or _unit(hi) or unit or ""
        text = f"{'' if low is None else f'{low:g}'}-{'' if high is None else f'{high:g}'} {u}".strip()
    return low, high, text


def _categories(obs: dict) -> set[str]:
    out = set()
    for cc in obs.get("category") or ():
        for c in (cc or {}).get("coding") or ():
            if isinstance(c, dict) and c.get("code"):
                out.add(norm(c["code"]))
        if isinstance(cc, dict) and cc.get("text"):
            out.add(norm(cc["text"]))
    return out


def read_observation(ctx: Ctx, acc: Acc, obs: dict, label: str) -> None:
    m = ctx.maps
    if ctx.skipped_status(obs, m.obs_ignored, label):
        return
    name = cc_text(obs.get("code"))
    cs = codings(m, obs.get("code"))
    loinc = next((c for s, c, _ in cs if s == "loinc"), None)
    if name is None and not cs:
        ctx.note(label, "no code or text saying what was observed; ignored")
        return
    # A lesion statement as an exam Observation ("Largest lesion" = 20 mm)?
    field = m.lesion_keys.get(norm(name)) if name else None
    value, unit = _value(ctx, obs, label)
    if field:
        if value is not None:
            apply_lesion(ctx, acc, label, field, value, unit)
        return
    cats = _categories(obs)
    if cats and not (cats & m.lab_categories):
        ctx.note(label, f"category {', '.join(sorted(cats))} is not laboratory; ignored")
        return
    if not name:
        name = f"LOINC {loinc}" if loinc else f"{cs[0][0]} {cs[0][1]}"
    reported = None
    for cc in obs.get("interpretation") or ():
        code = first_code(cc)
        if code and code.upper() in m.interpretation:
            reported = m.interpretation[code.upper()]
            break
        t = norm(cc_text(cc) or "")
        if t in ("normal", "high", "low", "abnormal", "positive", "negative"):
            reported = t
            break
    if reported is None and value is not None:
        reported = "value"
    if "dataAbsentReason" in obs:
        value = None
    if value is None and reported is None:
        ctx.note(label, "neither a value nor an interpretation; kept as not reported")
    low, high, rr_text = _reference_range(ctx, obs, label, unit)
    notes = note_texts(obs)
    sampled = None
    taken = parse_date(obs.get("effectiveDateTime")) if ctx.birth is not None else None
    if taken is not None and ctx.as_of is not None and taken[0] != ctx.as_of:
        sampled = days_between(ctx.birth, taken[0])
    acc.labs.append(LabResult(
        analyte=name, value=value, unit=unit, reported_as=reported,
        note="; ".join(notes) or None, loinc=loinc, reference_range=rr_text, ref_low=low, ref_high=high,
        age_days=sampled, where=f"{ctx.src}: {label}"))


# ------------------------------------------------------------------ DiagnosticReport

def _presented_text(ctx: Ctx, report: dict, label: str) -> str | None:
    parts = []
    for i, att in enumerate(report.get("presentedForm") or ()):
        if not isinstance(att, dict) or not str(att.get("contentType", "")).startswith("text/"):
            continue
        data = att.get("data")
        if not data:
            continue
        try:
            parts.append(base64.b64decode(data, validate=True).decode("utf-8").strip())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            ctx.error(label, f"presentedForm[{i}].data", "not base64-encoded UTF-8 text")
    return "\n".join(p for p in parts if p) or None


def report_kind(ctx: Ctx, report: dict) -> str | None:
    """"histology", "imaging" or None: by category codes, then report code, then words."""
    m = ctx.maps
    for cc in list(report.get("category") or ()) + [report.get("code")]:
        cs = [(s, c) for s, c, _ in codings(m, cc)]
        if m.pathology.match(cs, None):
            return "histology"
        if m.imaging.match(cs, None):
            return "imaging"
    texts = " ".join(t for t in [cc_text(c) for c in report.get("category") or ()] + [cc_text(report.get("code"))]
                     if t)
    if contains_any(texts, m.pathology_words):
        return "histology"
    if contains_any(texts, m.imaging_words):
        return "imaging"
    return None


def read_report(ctx: Ctx, acc: Acc, report: dict, label: str) -> None:
    m = ctx.maps
    if ctx.skipped_status(report, m.report_ignored, label):
        return
    kind = report_kind(ctx, report)
    if kind is None:
        ctx.note(label, "neither pathology nor imaging (by category, code or name); ignored")
        return
    text = report.get("conclusion")
    text = text.strip() if isinstance(text, str) and text.strip() else None
    if text is None:
        coded = [cc_label(m, cc) for cc in report.get("conclusionCode") or ()]
        coded = [c for c in coded if c]
        text = "; ".join(coded) or _presented_text(ctx, report, label)
        if text and cc_text(report.get("code")):
            text = f"{cc_text(report.get('code'))}: {text}"
    if not text:
        ctx.note(label, "no conclusion, conclusionCode or text presentedForm; ignored")
        return
    (acc.histology if kind == "histology" else acc.imaging).append(text)
