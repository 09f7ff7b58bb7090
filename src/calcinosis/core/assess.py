"""The assessment: Findings + knowledge base (+ an optional HPO ranking computed outside) -> Assessment.

Pure: no file, network, database or clock access; the "as of" date is only recorded.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from calcinosis.core import evidence as _evidence
from calcinosis.core.classify import candidates, classify
from calcinosis.core.differential import differential
from calcinosis.core.genetic import genetic_differential
from calcinosis.core.labs import read_labs
from calcinosis.core.model import Assessment, Findings
from calcinosis.core.plan import make_plan
from calcinosis.core.workup import missing_workup, not_measured

INTENDED_USE = (
    "Decision support for clinicians: this assessment supports, and does not replace, a clinician's "
    "judgement. It is not a diagnosis. Knowledge base not yet reviewed by a clinician."
)


def _cited(c: Any, readings: Any, missing: Any, diff: Any, plan: Any, genetic: Any, kb: Any) -> dict[str, dict[str, str]]:
    """The references cited anywhere in the result, with their citation and URL."""
    ids: set[str] = set()
    for r in c.reasons:
        ids.update(r.sources)
    for r in readings:
        if r.interval is not None and r.interval.source:
            ids.update(x.strip() for x in r.interval.source.split(";"))
    for group in (missing, diff, genetic, plan.options, plan.reasons):
        for x in group:
            ids.update(getattr(x, "sources", ()) or ())
    if plan.follow_up is not None:
        ids.update(plan.follow_up.sources)
        for rf in plan.follow_up.red_flags:
            ids.update(rf.get("sources") or ())
    refs = kb.references
    return {i: {k: str(v) for k, v in refs[i].items()} for i in sorted(ids) if i in refs}


def assess(findings: Findings, kb: Any, *, as_of: str | date | None = None, ranking: Any = None) -> Assessment:
    """Assess one patient. ``ranking``: an HPO disease ranking computed outside the core (optional)."""
    f = findings
    readings, derived = read_labs(f.labs, f.age_days, f.sex, kb)
    ev = _evidence.extract(f, readings, derived, kb)
    types, mimics = candidates(f, ev, kb)
    c = classify(f, ev, kb, types, mimics)
    missing = missing_workup(f, ev, readings, kb, c.type, c.subtype)
    plan = make_plan(f, ev, c, missing, kb)
    diff = differential(f, mimics, kb, c.subtype if c.type == "mimic" else None)
    genetic = tuple(genetic_differential(f, ev, readings, kb, ranking=ranking) or ())
    patient = {
        "age_days": None if f.age_days is None else round(f.age_days, 1),
        "age_months": None if f.age_days is None else round(f.age_days / 30.4375, 2),
        "age_text": f.age_text,
        "sex": f.sex,
        "onset_age_months": None if f.onset_age_days is None else round(f.onset_age_days / 30.4375, 2),
    }
    return Assessment(
        id=f.id,
        as_of=str(as_of) if as_of is not None else None,
        patient=patient,
        lesion_described=f.lesion_described,
        classification=c,
        labs=readings,
        derived=derived,
        not_measured=not_measured(readings, kb, missing),
        missing_workup=missing,
        differential=diff,
        management=plan,
        sources=_cited(c, readings, missing, diff, plan, genetic, kb),
        knowledge=kb.describe(),
        input_notes=tuple(f.notes),
        genetic=genetic,
        intended_use=INTENDED_USE,
    )
