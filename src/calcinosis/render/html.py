"""HTML rendering: ``assessment_fragment`` (one assessment, embeddable in the web page and reports) and
``render_page`` (a standalone document for ``calcinosis assess --format html``)."""

from __future__ import annotations

from html import escape

from calcinosis.core.model import Assessment
from calcinosis.render.text import age_phrase

CSS = """
.cc-assessment{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b2430;max-width:60rem}
.cc-assessment h2{font-size:1.25rem;margin:.2rem 0 .6rem}.cc-assessment h3{font-size:1.02rem;margin:1.1rem 0 .4rem;
border-bottom:1px solid #d8dee6;padding-bottom:.2rem}
.cc-badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;font-size:.85rem;margin-right:.3rem;background:#e8eef6}
.cc-type{background:#1f5f99;color:#fff}.cc-cert-confirmed{background:#1e7a46;color:#fff}
.cc-cert-probable{background:#c98a00;color:#fff}.cc-cert-possible{background:#8a8f98;color:#fff}
.cc-flag-high,.cc-flag-low,.cc-flag-abnormal,.cc-flag-positive{color:#b3261e;font-weight:600}.cc-flag-normal{color:#1e7a46}
.cc-assessment table{border-collapse:collapse;width:100%;font-size:.9rem}
.cc-assessment td,.cc-assessment th{border-bottom:1px solid #e3e7ec;padding:.25rem .4rem;text-align:left;vertical-align:top}
.cc-essential{color:#b3261e;font-weight:600}.cc-src{color:#5b6b7f;font-size:.8rem}
.cc-strategy{font-size:1.05rem;font-weight:600}.cc-safety{background:#fff4e5;border-left:4px solid #c98a00;padding:.4rem .6rem}
.cc-note{color:#5b6b7f;font-size:.85rem}.cc-use{background:#eef3f8;padding:.5rem .7rem;border-radius:.3rem;font-size:.88rem}
"""


def _src_mod(ids, known=None) -> str:
    """Citation marks; ids that are listed in the assessment's sources link to their entry."""
    flat = [x.strip() for i in ids or () for x in str(i).split(";") if x.strip()]
    if not flat:
        return ""
    return ' <span class="cc-src">[' + ", ".join(
        f'<a href="#ref-{escape(i)}">{escape(i)}</a>' if known is None or i in known else escape(i)
        for i in flat) + "]</span>"


def assessment_fragment(a: Assessment) -> str:
    """One assessment as an HTML fragment (a <section>), with reasons, labs, work-up, mimics, plan, sources."""
    c = a.classification
    e = escape

    def _src(ids) -> str:
        return _src_mod(ids, a.sources)

    h: list[str] = [f'<section class="cc-assessment" data-type="{e(c.type or "none")}" data-strategy="{e(a.management.strategy)}">']
    p = a.patient
    age = age_phrase(p)
    h.append(f"<h2>Assessment {e(a.id)}</h2><p class=\"cc-note\">{e(age)}, sex {e(p.get('sex') or 'not stated')}"
             + (f"; as of {e(a.as_of)}" if a.as_of else "") + "</p>")
    h.append("<h3>Classification</h3>")
    if c.type is None:
        h.append(f'<p id="cc-type">{e(c.summary)}</p>')
    else:
        h.append(f'<p id="cc-type"><span class="cc-badge cc-type">{e(c.type)}</span>'
                 + (f'<span class="cc-badge" id="cc-subtype">{e(c.subtype_label or c.subtype or "")}</span>' if c.subtype else "")
                 + f'<span class="cc-badge cc-cert-{e(c.certainty or "")}">{e(c.certainty or "")}</span></p>')
        h.append(f"<p>{e(c.summary)}</p><ul>")
        for r in c.reasons:
            facts = "; ".join(r.facts[:2])
            h.append(f"<li>{'+' if r.weight > 0 else '−'} {e(r.statement)}{_src(r.sources)}"
                     + (f'<br><span class="cc-note">{e(facts)}</span>' if facts else "") + "</li>")
        h.append("</ul>")
        h.append('<p class="cc-note">Ranked: ' + ", ".join(f"{e(t.type)} {t.score:g}" for t in c.ranked) + "</p>")
    h.append("<h3>Laboratory results against age- and sex-specific intervals</h3>")
    if a.labs:
        h.append("<table><tr><th>Test</th><th>Result</th><th>SI</th><th>Interval</th><th>Flag</th></tr>")
        for r in a.labs:
            val = r.value if r.value is not None else (r.reported_as or "")
            unit = r.unit if r.value is not None and r.unit else ""
            si = f"{r.value_si:.3g} {r.unit_si}" if r.value_si is not None else ""
            iv = ""
            if r.interval is not None:
                lo = "" if r.interval.low is None else f"{r.interval.low:.3g}"
                hi = "" if r.interval.high is None else f"{r.interval.high:.3g}"
                iv = f"{lo}–{hi} {e(r.interval.unit)} ({e(r.interval.age_band)}, {e(r.interval.sex)}){_src([r.interval.source])}"
            panel = f' <span class="cc-note">panel: {e(r.panel)}</span>' if r.panel else ""
            h.append(f"<tr><td>{e(r.label)}{panel}</td><td>{e(str(val))} {e(unit or '')}</td><td>{e(si)}</td>"
                     f"<td>{iv}</td><td class=\"cc-flag-{e(r.flag)}\">{e(r.flag.replace('_', ' '))}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p>No laboratory results reported.</p>")
    for d in a.derived:
        h.append(f"<p>{e(d.label)}: {d.value:g} {e(d.unit)} {e(d.flag or '')} {e(d.threshold or '')}</p>")
    if a.not_measured:
        h.append(f'<p class="cc-note">Not measured: {e("; ".join(a.not_measured))}</p>')
    h.append("<h3>Missing work-up</h3>")
    if not a.missing_workup:
        h.append("<p>None: the essential work-up for this conclusion is complete.</p>")
    else:
        h.append("<ul>")
        for w in a.missing_workup:
            tag = '<span class="cc-essential">essential</span>' if w.essential else "recommended"
            h.append(f"<li>{tag}: <b>{e(w.label)}</b> — {e(w.why)} <i>Would change:</i> {e(w.would_change)}{_src(w.sources)}</li>")
        h.append("</ul>")
    h.append("<h3>Differential: mimics and the test that separates each</h3><table>"
             "<tr><th>Mimic</th><th>Score</th><th>Separating test</th></tr>")
    for d in a.differential:
        h.append(f"<tr><td>{e(d.name)}</td><td>{d.score:g}</td><td>{e(d.separating_test)}{_src(d.sources)}</td></tr>")
    h.append("</table>")
    if a.genetic:
        h.append("<h3>Genetic causes to consider</h3><ul>")
        for g in a.genetic:
            genes = f" — genes: {e(', '.join(g.genes))}" if g.genes else ""
            h.append(f"<li><b>{e(g.name)}</b>{genes}. {e(g.separating_test)}{_src(g.sources)}</li>")
        h.append("</ul>")
    m = a.management
    h.append("<h3>Management plan</h3>")
    h.append(f'<p class="cc-strategy" id="cc-strategy">{e(m.strategy.replace("_", " "))}</p>')
    if m.safety:
        h.append(f'<p class="cc-safety">{e(m.safety)}</p>')
    h.append("<ul>" + "".join(f"<li>{e(s)}</li>" for s in m.steps) + "</ul>")
    if m.follow_up:
        h.append("<p><b>Follow-up schedule</b></p><ul>" + "".join(f"<li>{e(s)}</li>" for s in m.follow_up.schedule) + "</ul>")
        if m.follow_up.expected_course:
            h.append(f'<p class="cc-note">Expected course: {e(m.follow_up.expected_course)}</p>')
        h.append("<p><b>Red flags that end watchful waiting</b></p><ul>"
                 + "".join(f"<li>{e(r['trigger'])} → {e(r['action'])}{_src(r.get('sources') or [])}</li>"
                           for r in m.follow_up.red_flags) + "</ul>")
    if m.options:
        h.append("<p><b>Options and evidence</b></p><ul>"
                 + "".join(f"<li>{e(o.name)} — {e(o.evidence)}{_src(o.sources)}</li>" for o in m.options) + "</ul>")
    h.append("<h3>Sources</h3><ol class=\"cc-src\">")
    for rid, ref in a.sources.items():
        url = ref.get("url", "")
        h.append(f'<li id="ref-{e(rid)}">[{e(rid)}] {e(ref.get("citation", ""))} '
                 + (f'<a href="{e(url)}">{e(url)}</a>' if url else "") + "</li>")
    h.append("</ol>")
    h.append(f'<p class="cc-note">Knowledge base {e(a.knowledge.get("version", ""))} ({e(a.knowledge.get("hash", ""))})'
             + (f"; HPO {e(a.knowledge['hpo_release'])}" if a.knowledge.get("hpo_release") else "") + "</p>")
    h.append(f'<p class="cc-use">{e(a.intended_use)}</p></section>')
    return "\n".join(h)


def render_page(assessments: list[Assessment], title: str = "Calcinosis cutis assessment") -> str:
    body = "\n<hr>\n".join(assessment_fragment(a) for a in assessments)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
            f"<style>body{{margin:2rem}}{CSS}</style></head><body>{body}</body></html>\n")
