"""The HTML summary of a screen: counts by type and age band, work-up completeness, overdue follow-up."""

from __future__ import annotations

import html
import io
from collections import Counter
from pathlib import Path
from typing import Any

from calcinosis.core.model import TYPES

_NONE = "(no type)"


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _plots(rows: list[dict[str, Any]], cfg: Any) -> list[tuple[str, str]]:
    from calcinosis.errors import require

    mpl = require("matplotlib", "screen")
    mpl.use("Agg")
    mpl.rcParams["svg.hashsalt"] = "calcinosis-screen"
    import matplotlib.pyplot as plt

    out = []
    types = [t for t in TYPES if any(r["type"] == t for r in rows)] + (
        [_NONE] if any(not r["type"] for r in rows) else [])
    bands = [b for b, _ in cfg.age_bands] + ["unknown"]
    bands = [b for b in bands if any(r["age_band"] == b for r in rows)]
    # 1. counts by type and age band (stacked)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    bottom = [0] * len(bands)
    for t in types:
        vals = [sum(1 for r in rows if (r["type"] or _NONE) == t and r["age_band"] == b) for b in bands]
        ax.bar(bands, vals, bottom=bottom, label=t)
        bottom = [x + y for x, y in zip(bottom, vals)]
    ax.set_ylabel("candidates")
    ax.set_title("Candidates by type and age band")
    ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    if types:
        ax.legend(fontsize=8)
    out.append(("Candidates by type and age band", _svg(fig)))
    # 2. work-up completeness by type
    fig, ax = plt.subplots(figsize=(8, 3.2))
    comp = [sum(1 for r in rows if (r["type"] or _NONE) == t and not r["missing_workup"]) for t in types]
    inc = [sum(1 for r in rows if (r["type"] or _NONE) == t and r["missing_workup"]) for t in types]
    ax.barh(types, comp, label="work-up complete", color="#4c9a2a")
    ax.barh(types, inc, left=comp, label="work-up items missing", color="#d9822b")
    ax.set_xlabel("candidates")
    ax.set_title("Work-up completeness")
    ax.legend(fontsize=8)
    out.append(("Work-up completeness", _svg(fig)))
    # 3. watchful waiting follow-up
    ww = Counter(r["follow_up"] for r in rows if r["strategy"] == "watchful_waiting")
    fig, ax = plt.subplots(figsize=(6, 2.8))
    keys = [k for k in ("done", "overdue", "not_due", "no_date", "no_schedule") if ww.get(k)]
    ax.bar(keys, [ww[k] for k in keys], color=["#d62728" if k == "overdue" else "#1f77b4" for k in keys])
    ax.set_ylabel("patients")
    ax.set_title("Watchful waiting: scheduled follow-up visit")
    out.append(("Watchful waiting follow-up", _svg(fig)))
    return out


def _table(header: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def write_html(path: Path, rows: list[dict[str, Any]], summary: Any, cfg: Any) -> None:
    above = [r for r in rows if r["certainty"] in ("confirmed", "probable")]
    overdue = [r for r in rows if r["follow_up"] == "overdue"]
    by_type = Counter((r["type"] or _NONE, r["certainty"] or "-") for r in rows)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Calcinosis screen</title>",
        "<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;"
        "text-align:left}svg{max-width:100%;height:auto}</style></head><body>",
        "<h1>Calcinosis cutis screen</h1>",
        "<p>Decision support: candidates for clinician review, not diagnoses.</p>",
        _table(["as of", "engine", "files", "resources", "patients", "candidates", "assessed",
                "probable or confirmed", "input errors", "knowledge base"],
               [[summary.as_of, summary.engine, summary.files, summary.resources, summary.patients,
                 summary.candidates, summary.assessed, len(above), summary.errors, summary.knowledge]]),
        "<h2>Type and certainty</h2>",
        _table(["type", "certainty", "candidates"], [[t, c, n] for (t, c), n in sorted(by_type.items())]),
    ]
    for title, svg in _plots(rows, cfg):
        parts.append(f"<h2>{html.escape(title)}</h2><figure>{svg}</figure>")
    parts.append("<h2>Watchful waiting with no follow-up visit in the schedule's window</h2>")
    parts.append(_table(["patient", "type", "subtype", "presented", "visit due"],
                        [[r["patient_id"], r["type"], r["subtype"], r["presentation_date"], r["follow_up_due"]]
                         for r in overdue]) if overdue else "<p>None.</p>")
    if summary.error_counts:
        parts.append("<h2>Input errors</h2>")
        parts.append(_table(["code", "count"], [[k, v] for k, v in summary.error_counts.items()]))
        parts.append("<p>Each one, with file and line, is listed in errors.csv.</p>")
    parts.append("</body></html>\n")
    path.write_text("".join(parts), encoding="utf-8")
