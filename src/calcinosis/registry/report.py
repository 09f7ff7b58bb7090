"""Visit report of a patient in HTML and PDF: the latest assessment, the chart, the trajectory table and
the intended-use statement. WeasyPrint is imported lazily for the PDF.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
from html import escape
from typing import Any

from calcinosis import INTENDED_USE
from calcinosis.errors import require

CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #222; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; } h2 { font-size: 12pt; margin: 14pt 0 4pt 0; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; }
th, td { border: 1px solid #bbb; padding: 2pt 4pt; text-align: left; font-size: 9pt; }
th { background: #eee; }
.intended-use { border: 1px solid #c0392b; padding: 4pt 6pt; background: #fdf2f0; }
.plan-change { border-left: 3px solid #8e44ad; padding-left: 6pt; }
.chart img { width: 100%; }
.muted { color: #666; }
"""


def _assessment_part(reg: Any, patient_id: str, snap: Any, visits: list[Any], stored: list[dict]) -> str:
    if not stored:
        return "<p class='muted'>No assessment stored yet.</p>"
    last = stored[-1]
    from calcinosis.core.assess import assess
    from calcinosis.registry import followup
    from calcinosis.render.html import assessment_fragment

    as_of = dt.date.fromisoformat(last["as_of"])
    visit = next((v for v in visits if v.date == as_of), None)
    if visit is None:
        return "<p class='muted'>The visit of the latest assessment is missing.</p>"
    # the stored JSON is the record; the fragment is rendered from the same inputs and date
    result = assess(followup.build_findings(snap, visit), reg.kb, as_of=as_of.isoformat())
    note = ""
    if (result.knowledge or {}).get("hash") not in (None, last["kb_hash"]):
        note = (f"<p class='muted'>Re-rendered with knowledge base {escape(str(result.knowledge.get('version')))}; "
                f"the stored assessment used {escape(last['kb_version'])} ({escape(last['kb_hash'])}).</p>")
    return f"<p>Assessment of the visit on {as_of.isoformat()}.</p>{note}" + assessment_fragment(result)


def _plan_part(tl: dict[str, Any]) -> str:
    plan = tl["current_plan"]
    if not plan:
        return ""
    rows = "".join(f"<tr><td>{escape(f['label'])}</td><td>{escape(f['detail'])}</td><td>{escape(f['action'])}</td>"
                   f"<td>{escape(', '.join(f['sources']))}</td></tr>" for f in plan["red_flags"])
    flags = (f"<table><tr><th>red flag</th><th>detail</th><th>action</th><th>sources</th></tr>{rows}</table>"
             if rows else "")
    return (f"<div class='plan-change'><p><b>Current plan</b> ({escape(plan['as_of'])}): "
            f"{escape(str(plan['effective_strategy']))}. {escape(str(plan['why'] or ''))}</p>{flags}</div>")


def _trajectory_table(tl: dict[str, Any]) -> str:
    head = ("<tr><th>lesion</th><th>date</th><th>age (months)</th><th>longest x second (mm)</th><th>count</th>"
            "<th>status</th><th>trajectory</th></tr>")
    rows = []
    for le in tl["lesions"]:
        for m in le["measurements"]:
            size = "" if m["longest_mm"] is None else f"{m['longest_mm']:g}" + (
                f" x {m['second_mm']:g}" if m["second_mm"] else "")
            rows.append(f"<tr><td>{escape(le['label'])}</td><td>{m['date']}</td><td>{m['age_months'] or ''}</td>"
                        f"<td>{size}</td><td>{m['count'] or ''}</td><td>{m['status']}</td>"
                        f"<td>{m['trajectory']}</td></tr>")
    summary = "".join(
        f"<tr><td>{escape(le['label'])}</td><td>{le['trajectory']}</td><td>{le['first_seen']}</td>"
        f"<td>{'yes' if le['new'] else 'no'}</td><td>{le['peak_mm'] or ''}</td>"
        f"<td>{le['days_to_regression'] if le['days_to_regression'] is not None else ''}</td>"
        f"<td>{le['resolved_date'] or ''}</td></tr>" for le in tl["lesions"])
    t = tl["trajectory"]
    th = tl["thresholds"]
    return (f"<p>Patient trajectory: <b>{t['current']}</b>"
            + (f", resolved on {t['resolved_date']} ({t['days_to_resolution']} days after the first visit)"
               if t["resolved_date"] else "")
            + (f"; time to regression {t['days_to_regression']} days" if t["days_to_regression"] is not None else "")
            + ".</p>"
            "<table><tr><th>lesion</th><th>trajectory</th><th>first seen</th><th>new</th><th>peak (mm)</th>"
            f"<th>days to regression</th><th>resolved</th></tr>{summary}</table>"
            f"<table>{head}{''.join(rows)}</table>"
            f"<p class='muted'>Growing: at least {th['growth']:.0%} above the smallest prior size and "
            f"{th['min_absolute_change_mm']:g} mm; regressing: at least {th['regression']:.0%} below the largest prior "
            f"size and {th['min_absolute_change_mm']:g} mm (sources: {escape(', '.join(th['sources']))}).</p>")


def report_html(reg: Any, patient_id: str) -> str:
    tl = reg.patient_timeline(patient_id)
    snap, visits, stored = reg.snapshot(patient_id)
    from calcinosis.registry.chart import render_chart

    png = base64.b64encode(render_chart(tl, "png")).decode("ascii")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Follow-up report {escape(patient_id)}</title><style>{CSS}</style></head><body>"
        f"<h1>Calcinosis cutis follow-up report</h1>"
        f"<p>Patient (pseudonymous id): <b>{escape(patient_id)}</b>; sex: {escape(str(tl['patient']['sex'] or 'unknown'))}; "
        f"visits: {len(tl['visits'])}.</p>"
        f"<p class='intended-use'>{escape(INTENDED_USE)}</p>"
        f"<h2>Plan</h2>{_plan_part(tl)}"
        f"<h2>Lesion size by age</h2><div class='chart'><img alt='lesion size by age' "
        f"src='data:image/png;base64,{png}'></div>"
        f"<h2>Trajectory</h2>{_trajectory_table(tl)}"
        f"<h2>Assessment</h2>{_assessment_part(reg, patient_id, snap, visits, stored)}"
        "</body></html>")


class _DropAnchorNoise(logging.Filter):
    """WeasyPrint logs an ERROR for each in-page link whose anchor it cannot place; the PDF is fine."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No anchor #")


def html_to_pdf(html: str) -> bytes:
    weasyprint = require("weasyprint", "registry")
    wlog = logging.getLogger("weasyprint")
    f = _DropAnchorNoise()
    wlog.addFilter(f)
    try:
        return weasyprint.HTML(string=html).write_pdf()
    finally:
        wlog.removeFilter(f)
