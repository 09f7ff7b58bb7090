"""Plain-text rendering for a clinician: conclusions first, each with reasons and sources."""

from __future__ import annotations

import textwrap

from calcinosis.core.model import Assessment

W = 100


def _wrap(s: str, indent: str = "  ") -> str:
    return textwrap.fill(s, W, initial_indent=indent, subsequent_indent=indent + "  ")


def _src(ids: tuple[str, ...] | list[str]) -> str:
    return f" [{', '.join(ids)}]" if ids else ""


def age_phrase(patient: dict) -> str:
    """Age as a clinician says it: days for neonates, months under 2 years, years after."""
    d, m = patient.get("age_days"), patient.get("age_months")
    if m is None:
        return "age unknown"
    if d is not None and d < 31:
        return f"{d:.0f} days"
    if m < 24:
        return f"{m:g} months"
    return f"{m / 12:.1f} years"


def render_text(a: Assessment, *, verbose: bool = False) -> str:
    c = a.classification
    out: list[str] = []
    p = a.patient
    age = age_phrase(p)
    out.append(f"Calcinosis cutis assessment — {a.id}")
    out.append(f"Patient: {age}, sex {p.get('sex') or 'not stated'}" + (f"; as of {a.as_of}" if a.as_of else ""))
    out.append("")
    out.append("CLASSIFICATION")
    if c.type is None:
        out.append(_wrap(c.summary))
    else:
        sub = f" — {c.subtype_label} ({c.subtype})" if c.subtype else ""
        out.append(f"  Type: {c.type}{sub}")
        out.append(f"  Certainty: {c.certainty}")
        out.append(_wrap(c.summary))
        out.append("  Reasons:")
        for r in c.reasons:
            sign = "+" if r.weight > 0 else "−"
            out.append(_wrap(f"{sign} {r.statement}{_src(r.sources)}", "    "))
            for fact in r.facts[:2]:
                out.append(_wrap(f"· {fact}", "        "))
        out.append("  Ranked types: " + ", ".join(f"{t.type} {t.score:g}" for t in c.ranked))
    out.append("")
    out.append("LABORATORY (read against intervals for age and sex)")
    if not a.labs:
        out.append("  No laboratory results reported.")
    for r in a.labs:
        val = r.value if r.value is not None else r.reported_as
        si = f" = {r.value_si:.3g} {r.unit_si}" if r.value_si is not None and r.unit_si and r.unit != r.unit_si else ""
        iv = ""
        if r.interval is not None:
            lo = "" if r.interval.low is None else f"{r.interval.low:.3g}"
            hi = "" if r.interval.high is None else f"{r.interval.high:.3g}"
            iv = f"; interval {lo}–{hi} {r.interval.unit} ({r.interval.age_band}, {r.interval.sex}) [{r.interval.source}]"
        panel = f" (panel '{r.panel}')" if r.panel else ""
        unit = f" {r.unit}" if r.unit and r.value is not None else ""
        out.append(_wrap(f"{r.label}: {val}{unit}{si} → {r.flag.upper()}{panel}{iv}"))
    for d in a.derived:
        out.append(_wrap(f"{d.label}: {d.value:g} {d.unit}" + (f" → {d.flag}" if d.flag else "")
                         + (f" ({d.threshold})" if d.threshold else "")))
    if a.not_measured:
        out.append(_wrap("Not measured: " + "; ".join(a.not_measured)))
    out.append("")
    out.append("MISSING WORK-UP")
    if not a.missing_workup:
        out.append("  None: the essential work-up for this conclusion is complete.")
    for w in a.missing_workup:
        tag = "ESSENTIAL" if w.essential else "recommended"
        out.append(_wrap(f"[{tag}] {w.label}: {w.why} Would change: {w.would_change}{_src(w.sources)}"))
    out.append("")
    out.append("DIFFERENTIAL (mimics, with the test that separates each)")
    for d in a.differential:
        out.append(_wrap(f"{d.name} (score {d.score:g}) — test: {d.separating_test}{_src(d.sources)}"))
        for ff in d.features_for[:2]:
            out.append(_wrap(f"for: {ff}", "      "))
    if a.genetic:
        out.append("")
        out.append("GENETIC CAUSES TO CONSIDER")
        for g in a.genetic:
            genes = f" — genes: {', '.join(g.genes)}" if g.genes else ""
            out.append(_wrap(f"{g.name}{genes}; test: {g.separating_test}{_src(g.sources)}"))
    out.append("")
    m = a.management
    out.append("MANAGEMENT PLAN")
    out.append(f"  Strategy: {m.strategy.replace('_', ' ')}")
    if m.safety:
        out.append(_wrap(f"Safety: {m.safety}"))
    for s in m.steps:
        out.append(_wrap(f"- {s}"))
    if m.follow_up:
        out.append("  Follow-up schedule:")
        for s in m.follow_up.schedule:
            out.append(_wrap(f"· {s}", "    "))
        if m.follow_up.expected_course:
            out.append(_wrap(f"Expected course: {m.follow_up.expected_course}", "    "))
        out.append("  Red flags that end watchful waiting:")
        for rf in m.follow_up.red_flags:
            out.append(_wrap(f"· {rf['trigger']} → {rf['action']}", "    "))
    if m.options:
        out.append("  Options and evidence:")
        for o in m.options:
            out.append(_wrap(f"· {o.name} — evidence: {o.evidence}{_src(o.sources)}", "    "))
    if m.red_flags_present:
        out.append(_wrap("Red flags present now: " + ", ".join(m.red_flags_present)))
    if a.input_notes and verbose:
        out.append("")
        out.append("INPUT NOTES")
        for n in a.input_notes:
            out.append(_wrap(n))
    out.append("")
    out.append("SOURCES")
    for rid, ref in a.sources.items():
        out.append(_wrap(f"[{rid}] {ref.get('citation', '')} {ref.get('url', '')}"))
    out.append("")
    out.append(f"Knowledge base {a.knowledge.get('version')} ({a.knowledge.get('hash')})"
               + (f"; HPO {a.knowledge['hpo_release']}" if a.knowledge.get("hpo_release") else ""))
    out.append(_wrap(a.intended_use, ""))
    return "\n".join(out) + "\n"
