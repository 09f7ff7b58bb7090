"""Evaluate knowledge-base criteria (weighted, concept-based) against the evidence."""

from __future__ import annotations

from typing import Any

from calcinosis.core.evidence import Evidence
from calcinosis.core.model import Reason


def matches(crit: dict[str, Any], ev: Evidence, age_days: float | None) -> tuple[bool, tuple[str, ...]]:
    """Does the criterion hold? Returns (holds, the input facts it used)."""
    if "age_min_days" in crit and (age_days is None or age_days < crit["age_min_days"]):
        return False, ()
    if "age_max_days" in crit and (age_days is None or age_days >= crit["age_max_days"]):
        return False, ()
    if any(ev.present(u) for u in crit.get("unless") or ()):
        return False, ()
    facts: list[str] = []
    if "concept" in crit:
        c = crit["concept"]
        if crit.get("when", "present") == "absent":
            if not ev.absent(c):
                return False, ()
        elif not ev.present(c):
            return False, ()
        facts.extend(ev.facts[c].evidence)
    if "all" in crit:
        for c in crit["all"]:
            if not ev.present(c):
                return False, ()
            facts.extend(ev.facts[c].evidence)
    if "any" in crit:
        hit = [c for c in crit["any"] if ev.present(c)]
        if not hit:
            return False, ()
        for c in hit:
            facts.extend(ev.facts[c].evidence)
    # de-duplicate, keep order
    seen: dict[str, None] = {}
    for f in facts:
        seen.setdefault(f, None)
    return True, tuple(seen)[:4]


def score(criteria: list[dict[str, Any]], ev: Evidence, age_days: float | None) -> tuple[float, list[Reason], bool]:
    """Sum of the weights of the criteria that hold, the reasons, and whether a confirming one held."""
    total = 0.0
    reasons: list[Reason] = []
    confirmed = False
    for crit in criteria:
        ok, facts = matches(crit, ev, age_days)
        if not ok:
            continue
        w = float(crit.get("weight", 0))
        total += w
        confirmed = confirmed or bool(crit.get("confirms"))
        reasons.append(Reason(statement=crit.get("statement", crit["id"]), criterion=crit["id"], facts=facts,
                              sources=tuple(crit.get("sources") or ()), weight=w))
    return total, reasons, confirmed
