"""Validators of the laboratory knowledge (analytes.yaml, reference_intervals.csv); every problem at once."""

from __future__ import annotations

from typing import Any

from calcinosis.core.labs import name_key, unit_key
from calcinosis.kb.loader import validator

REQUIRED_ANALYTES = (
    "calcium_total", "calcium_ionized", "phosphate", "alp", "vitd25", "vitd125", "pth", "magnesium", "creatinine",
    "urea", "albumin", "cholesterol_total", "ldl", "hdl", "triglycerides", "ck", "aldolase", "crp", "esr",
    "uric_acid", "fgf23", "tsh", "ana", "anti_jo1", "anti_nxp2", "anti_mda5", "anti_scl70", "urine_calcium",
    "urine_phosphate", "wbc", "glucose",
)
# Analytes whose reference intervals must cover every age from 0 to 130 years for both sexes.
COVERAGE_REQUIRED = ("calcium_total", "phosphate", "alp", "pth", "vitd25", "creatinine", "albumin", "magnesium",
                     "calcium_ionized")
MAX_AGE_DAYS = 130 * 365.25
SEXES = ("female", "male", "both")
F_AN = "analytes.yaml"
F_RI = "reference_intervals.csv"


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_units(where: str, units: Any) -> list[str]:
    if not isinstance(units, dict):
        return [f"{F_AN}: {where}: units must be a mapping of unit -> factor to SI"]
    return [f"{F_AN}: {where}: unit {u!r}: factor must be a positive number, got {f!r}"
            for u, f in units.items() if not _is_num(f) or f <= 0]


def _check_analyte(a: dict[str, Any], i: int) -> list[str]:
    aid = a.get("id") or f"#{i}"
    where = f"analytes[{aid}]"
    problems = []
    for key in ("id", "label"):
        if not a.get(key):
            problems.append(f"{F_AN}: {where}: no {key}")
    if not isinstance(a.get("loinc"), list) or (not a.get("loinc") and not a.get("loinc_note")):
        problems.append(f"{F_AN}: {where}: needs a list of LOINC codes (or a loinc_note saying why there is none)")
    if not a.get("sources"):
        problems.append(f"{F_AN}: {where}: no sources")
    if not a.get("synonyms"):
        problems.append(f"{F_AN}: {where}: no synonyms")
    qualitative = bool(a.get("qualitative"))
    if not qualitative:
        if not a.get("si_unit"):
            problems.append(f"{F_AN}: {where}: no si_unit")
        pl = a.get("plausible_si")
        if not (isinstance(pl, list) and len(pl) == 2 and all(_is_num(x) for x in pl) and pl[0] < pl[1]):
            problems.append(f"{F_AN}: {where}: plausible_si must be [min, max] with min < max")
        units = a.get("units") or {}
        if a.get("si_unit") and a["si_unit"] not in units:
            problems.append(f"{F_AN}: {where}: the SI unit {a['si_unit']!r} is not among its units")
        elif a.get("si_unit") and units.get(a["si_unit"]) != 1:
            problems.append(f"{F_AN}: {where}: the SI unit {a['si_unit']!r} must have factor 1")
    problems.extend(_check_units(where, a.get("units") or {}))
    for fid, f in (a.get("forms") or {}).items():
        if not isinstance(f, dict):
            problems.append(f"{F_AN}: {where}.forms[{fid}]: must be a mapping")
            continue
        if not f.get("synonyms") and not f.get("loinc"):
            problems.append(f"{F_AN}: {where}.forms[{fid}]: needs synonyms or LOINC codes")
        if "units" in f:
            problems.extend(_check_units(f"{where}.forms[{fid}]", f["units"]))
    return problems


@validator
def labs_analytes(data: dict[str, Any]) -> list[str]:
    """analytes.yaml: required ids, LOINC, SI unit, unit factors, plausible ranges, sources, unique names."""
    doc = data.get("analytes")
    if doc is None:
        return [f"{F_AN}: missing"]
    if not isinstance(doc, dict) or not isinstance(doc.get("analytes"), list):
        return [f"{F_AN}: must hold an 'analytes' list"]
    problems: list[str] = []
    ids: dict[str, int] = {}
    names: dict[str, str] = {}
    loincs: dict[str, str] = {}

    def claim(table: dict[str, str], key: str, owner: str, what: str) -> None:
        if key in table and table[key] != owner:
            problems.append(f"{F_AN}: {what} {key!r} is used by both {table[key]} and {owner}")
        table.setdefault(key, owner)

    for i, a in enumerate(doc["analytes"]):
        if not isinstance(a, dict):
            problems.append(f"{F_AN}: analytes[{i}]: must be a mapping")
            continue
        problems.extend(_check_analyte(a, i))
        aid = str(a.get("id"))
        if aid in ids:
            problems.append(f"{F_AN}: analytes[{aid}]: duplicate id")
        ids[aid] = i
        for fid, spec in [(None, a)] + list((a.get("forms") or {}).items()):
            owner = aid if fid is None else f"{aid}.{fid}"
            for syn in (spec.get("synonyms") or []) if isinstance(spec, dict) else []:
                if not isinstance(syn, str) or syn != syn.lower():
                    problems.append(f"{F_AN}: analytes[{owner}]: synonym {syn!r} must be a lower-case string")
                    continue
                claim(names, name_key(syn), owner, "name")
            for code in (spec.get("loinc") or []) if isinstance(spec, dict) else []:
                claim(loincs, str(code), owner, "LOINC code")
    for rid in REQUIRED_ANALYTES:
        if rid not in ids:
            problems.append(f"{F_AN}: required analyte {rid!r} missing")
    for i, p in enumerate(doc.get("panels") or []):
        pid = p.get("id") or f"#{i}"
        if not p.get("sources"):
            problems.append(f"{F_AN}: panels[{pid}]: no sources")
        if not p.get("analytes"):
            problems.append(f"{F_AN}: panels[{pid}]: no analytes")
        for m in p.get("analytes") or []:
            if m not in ids:
                problems.append(f"{F_AN}: panels[{pid}]: unknown analyte {m!r}")
        for syn in p.get("synonyms") or []:
            claim(names, name_key(str(syn)), f"panel {pid}", "name")
        for code in p.get("loinc") or []:
            claim(loincs, str(code), f"panel {pid}", "LOINC code")
    for i, amb in enumerate(doc.get("ambiguous_names") or []):
        where = f"ambiguous_names[{i}]"
        if not isinstance(amb, dict):
            problems.append(f"{F_AN}: {where}: must be a mapping")
            continue
        if not amb.get("sources"):
            problems.append(f"{F_AN}: {where}: no sources")
        if len(amb.get("analytes") or []) < 2:
            problems.append(f"{F_AN}: {where}: needs at least two candidate analytes")
        for m in amb.get("analytes") or []:
            if m not in ids:
                problems.append(f"{F_AN}: {where}: unknown analyte {m!r}")
        for n in amb.get("names") or []:
            if not isinstance(n, str) or n != n.lower():
                problems.append(f"{F_AN}: {where}: name {n!r} must be a lower-case string")
            elif name_key(n) in names:
                problems.append(f"{F_AN}: {where}: name {n!r} is also a name of {names[name_key(n)]}")
    for i, d in enumerate(doc.get("derived") or []):
        did = d.get("id") or f"#{i}"
        if not d.get("sources"):
            problems.append(f"{F_AN}: derived[{did}]: no sources")
    return problems


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


@validator
def labs_intervals(data: dict[str, Any]) -> list[str]:
    """reference_intervals.csv: known analytes and units, lower < upper, inside the plausible range, no age gaps."""
    rows = data.get("reference_intervals")
    if rows is None:
        return [f"{F_RI}: missing"]
    doc = data.get("analytes") or {}
    analytes = {a.get("id"): a for a in doc.get("analytes") or [] if isinstance(a, dict)}
    problems: list[str] = []
    spans: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for n, row in enumerate(rows, start=2):
        where = f"{F_RI}: line {n} ({row.get('analyte')})"
        a = analytes.get(row.get("analyte"))
        if a is None:
            problems.append(f"{where}: unknown analyte")
            continue
        units = {unit_key(u): f for u, f in (a.get("units") or {}).items()}
        factor = units.get(unit_key(row.get("unit") or ""))
        if factor is None:
            problems.append(f"{where}: unit {row.get('unit')!r} is not a unit of {a['id']}")
        lo_age, hi_age = _float(row.get("age_low_days")), _float(row.get("age_high_days"))
        if lo_age is None or hi_age is None or not (0 <= lo_age < hi_age <= MAX_AGE_DAYS + 1e-6):
            problems.append(f"{where}: age band must satisfy 0 <= age_low_days < age_high_days <= {MAX_AGE_DAYS:g}")
            continue
        if row.get("sex") not in SEXES:
            problems.append(f"{where}: sex must be one of {', '.join(SEXES)}")
            continue
        if _float(row.get("priority")) is None:
            problems.append(f"{where}: priority must be a number")
        lower, upper = (row.get("lower") or "").strip(), (row.get("upper") or "").strip()
        if lower.upper() == "NE" or upper.upper() == "NE":
            if not (lower.upper() == upper.upper() == "NE") or not (row.get("note") or "").strip():
                problems.append(f"{where}: a not-established row needs NE in both limits and a note")
        else:
            lo, hi = _float(lower) if lower else None, _float(upper) if upper else None
            if (lower and lo is None) or (upper and hi is None) or (lo is None and hi is None):
                problems.append(f"{where}: lower/upper must be numbers (or NE), at least one given")
                continue
            if lo is not None and hi is not None and not lo < hi:
                problems.append(f"{where}: lower {lo:g} is not below upper {hi:g}")
            pl = a.get("plausible_si")
            if factor is not None and pl:
                for v in (lo, hi):
                    if v is not None and not (pl[0] <= v * factor <= pl[1]):
                        problems.append(f"{where}: limit {v:g} {row.get('unit')} lies outside the plausible range "
                                        f"{pl[0]:g}-{pl[1]:g} {a.get('si_unit')}")
        for sex in (("female", "male") if row["sex"] == "both" else (row["sex"],)):
            spans.setdefault((a["id"], sex), []).append((lo_age, hi_age))
    for aid in COVERAGE_REQUIRED:
        for sex in ("female", "male"):
            for gap in _gaps(spans.get((aid, sex), [])):
                problems.append(f"{F_RI}: {aid} ({sex}): no row covers ages {gap[0]:g} to {gap[1]:g} days "
                                "(add an interval or an NE row with a note)")
    return problems


def _gaps(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    gaps = []
    reached = 0.0
    for lo, hi in sorted(spans):
        if lo > reached + 1e-6:
            gaps.append((reached, lo))
        reached = max(reached, hi)
    if reached < MAX_AGE_DAYS - 1e-6:
        gaps.append((reached, MAX_AGE_DAYS))
    return gaps
