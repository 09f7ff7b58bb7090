"""The differential: mimics ranked by their score, each with the features for and against it and the test
that separates it; age-specific must-consider mimics are always listed."""

from __future__ import annotations

from typing import Any

from calcinosis.core.classify import Candidate
from calcinosis.core.model import DifferentialItem, Findings


def differential(f: Findings, mimics: list[Candidate], kb: Any, chosen_subtype: str | None,
                 limit: int = 8) -> tuple[DifferentialItem, ...]:
    spec = {m["id"]: m for m in kb.data["mimics"]["mimics"]}
    always: set[str] = set()
    age = f.age_days
    for rule in kb.data["mimics"].get("always_consider") or []:
        if "age_max_days" in rule and (age is None or age >= rule["age_max_days"]):
            continue
        if "age_min_days" in rule and (age is None or age < rule["age_min_days"]):
            continue
        always.update(rule["mimics"])
    items = []
    for c in mimics:
        if c.id == chosen_subtype:
            continue
        if c.score <= 0 and c.id not in always:
            continue
        m = spec[c.id]
        items.append(DifferentialItem(
            id=c.id, name=m["label"], score=round(max(c.score, 0.0), 2), kind="mimic",
            features_for=tuple(f"{r.statement} ({'; '.join(r.facts)})" if r.facts else r.statement
                               for r in c.reasons if r.weight > 0),
            features_against=tuple(r.statement for r in c.reasons if r.weight < 0),
            separating_test=m["separating_test"], sources=tuple(m.get("sources") or ()),
            genes=tuple(m.get("genes") or ())))
    items.sort(key=lambda d: (-d.score, d.id))
    return tuple(items[:limit])
