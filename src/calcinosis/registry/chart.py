"""Chart of lesion size against age (PNG or SVG) with the observation window and events marked.

matplotlib is imported lazily with the Agg backend (no display needed).
"""

from __future__ import annotations

import io
from typing import Any

from calcinosis.errors import require

_EVENT_STYLE = {"red_flag": ("#c0392b", "--"), "plan_change": ("#8e44ad", "-."), "resolved": ("#27ae60", ":"),
                "new_lesion": ("#d35400", ":")}


def render_chart(timeline: dict[str, Any], fmt: str = "png") -> bytes:
    """Render ``Registry.patient_timeline(...)`` as a PNG or SVG chart."""
    if fmt not in ("png", "svg"):
        raise ValueError(fmt)
    mpl = require("matplotlib", "registry")
    mpl.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 4.2), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    ages_all: list[float] = []
    for le in timeline["lesions"]:
        xs, ys = [], []
        resolved_x = []
        for m in le["measurements"]:
            if m["age_months"] is None:
                continue
            ages_all.append(m["age_months"])
            if m["status"] == "resolved":
                resolved_x.append(m["age_months"])
                xs.append(m["age_months"])
                ys.append(0.0)
            elif m["longest_mm"] is not None:
                xs.append(m["age_months"])
                ys.append(m["longest_mm"])
        line = ax.plot(xs, ys, marker="o", label=f"{le['label']} ({le['trajectory']})")[0]
        if resolved_x:
            ax.plot(resolved_x, [0.0] * len(resolved_x), marker="X", markersize=10, linestyle="none",
                    color=line.get_color())
        ulc = [m["age_months"] for m in le["measurements"] if m["status"] == "ulcerated" and m["longest_mm"]]
        if ulc:
            ax.plot(ulc, [m["longest_mm"] for m in le["measurements"] if m["status"] == "ulcerated" and m["longest_mm"]],
                    marker="s", markersize=9, linestyle="none", markerfacecolor="none", color="#c0392b")
    onset = timeline["patient"].get("onset_age_months")
    end = timeline["window"].get("end_age_months")
    if onset is not None and end is not None:
        ax.axvspan(onset, end, color="#3498db", alpha=0.12,
                   label=f"expected course window ({timeline['window']['months_after_onset']:g} mo from onset)")
    seen: set[str] = set()
    for e in timeline["events"]:
        if e.get("age_months") is None:
            continue
        color, style = _EVENT_STYLE.get(e["kind"], ("grey", ":"))
        label = None if e["kind"] in seen else e["kind"].replace("_", " ")
        seen.add(e["kind"])
        ax.axvline(e["age_months"], color=color, linestyle=style, linewidth=1.2, label=label)
    ax.set_xlabel("age (months)")
    ax.set_ylabel("longest diameter (mm)")
    ax.set_ylim(bottom=-1)
    if ages_all:
        lo = min(ages_all + ([onset] if onset is not None else []))
        hi = max(ages_all + ([end] if end is not None else []))
        ax.set_xlim(lo - 0.5, hi + 0.5)
    traj = timeline["trajectory"]
    title = f"Lesion size by age - trajectory: {traj['current']}"
    if traj.get("resolved_date"):
        title += f" (resolved {traj['resolved_date']})"
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()
