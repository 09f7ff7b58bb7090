"""The work-up still missing: what is not known yet, why it matters, what result would change the conclusion."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from calcinosis.core.evidence import Evidence
from calcinosis.core.model import Findings, LabReading, WorkupItem


def _keys(classification_type: str | None, subtype: str | None, extra: Iterable[str] = ()) -> set[str]:
    keys = {k for k in (classification_type, subtype) if k}
    keys.update(extra)
    return keys


def item_done(item: dict[str, Any], readings: Iterable[LabReading], ev: Evidence) -> bool:
    analytes = set(item.get("analytes") or ())
    if analytes and any(r.analyte in analytes and r.flag != "not_interpretable" for r in readings):
        return True
    return any(ev.known(c) and (ev.present(c) or item.get("kind") == "history")
               for c in item.get("satisfied_by_concepts") or ())


def missing_workup(f: Findings, ev: Evidence, readings: tuple[LabReading, ...], kb: Any,
                   ctype: str | None, subtype: str | None, also: Iterable[str] = ()) -> tuple[WorkupItem, ...]:
    """Items not yet done that matter for the leading type/subtype (essential) or are recommended."""
    keys = _keys(ctype, subtype, also)
    out: list[WorkupItem] = []
    for item in kb.data["workup"]["items"]:
        if "when_age_max_days" in item and (f.age_days is None or f.age_days >= item["when_age_max_days"]):
            continue
        if "when_all" in item and not all(ev.present(c) for c in item["when_all"]):
            continue
        essential = bool(keys & set(item.get("essential_for") or ()))
        recommended = bool(keys & set(item.get("recommended_for") or ()))
        if not (essential or recommended) and ctype is not None:
            continue
        if ctype is None and not item.get("essential_for"):
            continue
        if item_done(item, readings, ev):
            continue
        out.append(WorkupItem(
            id=item["id"], label=item["label"], why=item["why"], would_change=item["would_change"],
            essential=essential, loinc=tuple(item.get("loinc") or ()), sources=tuple(item.get("sources") or ())))
    out.sort(key=lambda w: (not w.essential,))
    return tuple(out)


def not_measured(readings: tuple[LabReading, ...], kb: Any,
                 missing: tuple[WorkupItem, ...] = ()) -> tuple[str, ...]:
    """Labels of the laboratory tests not reported at all (unknown is not normal): the core set, and any
    other test the missing work-up asks for."""
    wanted = set(kb.data["workup"].get("core_labs") or ()) | {w.id for w in missing}
    out = []
    for item in kb.data["workup"]["items"]:
        if item.get("kind") != "lab" or item["id"] not in wanted:
            continue
        analytes = set(item.get("analytes") or ())
        if not any(r.analyte in analytes for r in readings):
            out.append(item["label"])
    return tuple(out)
