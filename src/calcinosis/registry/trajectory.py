"""Lesion and patient trajectories: growing, stable, regressing or resolved, allowing for measurement error.

Pure functions over dated measurements. Rules (thresholds and sources in ``kb/data/trajectories.yaml``):
growing = the longest diameter is at least ``growth`` above the smallest prior value (nadir) *and* at least
``min_abs_mm`` larger; regressing = at least ``regression`` below the largest prior value (peak) *and*
``min_abs_mm`` smaller; when both hold, the direction since the previous visit decides (a change within
error keeps the previous state); resolved = recorded as resolved. A patient is resolved when every lesion is,
growing when any lesion grows or a new lesion appears, regressing when any regresses, otherwise stable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from calcinosis.registry.thresholds import Thresholds

GROWING, STABLE, REGRESSING, RESOLVED, NEW = "growing", "stable", "regressing", "resolved", "new"
BASELINE = "baseline"  # first measurement of a lesion recorded at the patient's first visit


@dataclass(frozen=True, slots=True)
class Point:
    """One lesion at one visit."""

    date: dt.date
    age_days: float | None
    longest_mm: float | None
    status: str  # present | ulcerated | resolved


@dataclass(frozen=True, slots=True)
class LesionTrajectory:
    label: str
    states: tuple[str, ...]  # one per point: baseline | new | growing | stable | regressing | resolved
    current: str
    first_seen: dt.date
    is_new: bool  # first recorded after the patient's first visit
    peak_mm: float | None
    peak_date: dt.date | None
    regression_date: dt.date | None  # first visit at which it regressed or resolved after the peak
    resolved_date: dt.date | None
    days_to_regression: int | None  # from first seen to regression_date
    days_to_resolution: int | None


@dataclass(frozen=True, slots=True)
class PatientTrajectory:
    current: str
    per_visit: tuple[tuple[dt.date, str], ...]
    lesions: dict[str, LesionTrajectory] = field(default_factory=dict)
    new_lesions_at_latest: tuple[str, ...] = ()
    days_to_regression: int | None = None
    days_to_resolution: int | None = None
    resolved_date: dt.date | None = None


def _significant(a: float, b: float, rel: float, t: Thresholds) -> bool:
    """True when ``b`` differs from reference ``a`` by at least the relative and the absolute threshold."""
    return abs(b - a) >= t.min_abs_mm and abs(b - a) >= rel * a


def classify_step(prior: list[float], latest: float, previous_state: str, t: Thresholds) -> str:
    """State of a lesion given its prior measured sizes and the latest one."""
    if not prior:
        return NEW
    nadir, peak = min(prior), max(prior)
    grew = latest >= nadir * (1 + t.growth) and latest - nadir >= t.min_abs_mm
    shrank = latest <= peak * (1 - t.regression) and peak - latest >= t.min_abs_mm
    if grew and shrank:
        prev = prior[-1]
        if not (abs(latest - prev) >= t.min_abs_mm):
            return previous_state if previous_state in (GROWING, REGRESSING) else STABLE
        return GROWING if latest > prev else REGRESSING
    if grew:
        return GROWING
    if shrank:
        return REGRESSING
    return STABLE


def lesion_trajectory(label: str, points: list[Point], t: Thresholds, first_visit: dt.date) -> LesionTrajectory:
    pts = sorted(points, key=lambda p: p.date)
    states: list[str] = []
    sizes: list[float] = []
    state = NEW
    peak_mm: float | None = None
    peak_date: dt.date | None = None
    regression_date = resolved_date = None
    for p in pts:
        if p.status == "resolved":
            state = RESOLVED
        elif p.longest_mm is None:
            state = state if state != RESOLVED else STABLE  # present, not measured: no change shown
        else:
            state = classify_step(sizes, p.longest_mm, state, t) if state != RESOLVED else GROWING
            sizes.append(p.longest_mm)
            if peak_mm is None or p.longest_mm > peak_mm:
                peak_mm, peak_date = p.longest_mm, p.date
                regression_date = None
        if state in (REGRESSING, RESOLVED) and regression_date is None:
            regression_date = p.date
        states.append(state)
    first = pts[0].date
    if states[0] == NEW and first <= first_visit:
        states[0] = BASELINE
    if states[-1] == RESOLVED:  # the first visit of the final run of "resolved"
        k = len(states) - 1
        while k > 0 and states[k - 1] == RESOLVED:
            k -= 1
        resolved_date = pts[k].date
    return LesionTrajectory(
        label=label, states=tuple(states), current=states[-1], first_seen=first, is_new=first > first_visit,
        peak_mm=peak_mm, peak_date=peak_date, regression_date=regression_date,
        resolved_date=resolved_date if states[-1] == RESOLVED else None,
        days_to_regression=(regression_date - first).days if regression_date else None,
        days_to_resolution=(resolved_date - first).days if resolved_date and states[-1] == RESOLVED else None,
    )


def _combine(states: list[str], new_here: bool) -> str:
    if not states:
        return STABLE
    if all(s == RESOLVED for s in states):
        return RESOLVED
    if new_here or GROWING in states:
        return GROWING
    if REGRESSING in states:
        return REGRESSING
    return STABLE


def patient_trajectory(series: dict[str, list[Point]], visit_dates: list[dt.date], t: Thresholds) -> PatientTrajectory:
    """Trajectory of every lesion and of the patient, visit by visit."""
    dates = sorted(set(visit_dates))
    if not dates:
        return PatientTrajectory(current=STABLE, per_visit=())
    first_visit = dates[0]
    lesions = {lab: lesion_trajectory(lab, pts, t, first_visit) for lab, pts in series.items() if pts}
    per_visit = []
    # each lesion's state at each of its own dates, then carried forward to later visit dates
    at: dict[str, dict[dt.date, tuple[str, bool]]] = {}
    for lab, lt in lesions.items():
        pts = sorted(series[lab], key=lambda p: p.date)
        at[lab] = {p.date: (st, p.date == lt.first_seen) for p, st in zip(pts, lt.states)}
    current: dict[str, str] = {}
    for i, d in enumerate(dates):
        new_here = False
        for lab, by_date in at.items():
            if d in by_date:
                s, first = by_date[d]
                if s in (NEW, BASELINE):
                    new_here = new_here or (i > 0 and first)
                    s = STABLE
                current[lab] = s
        per_visit.append((d, _combine(list(current.values()), new_here)))
    latest = dates[-1]
    new_latest = tuple(lab for lab, lt in lesions.items() if lt.is_new and lt.first_seen == latest)
    regs = [lt.regression_date for lt in lesions.values() if lt.regression_date]
    now = per_visit[-1][1]
    resolved_date = None
    if now == RESOLVED:
        resolved_date = max(lt.resolved_date for lt in lesions.values() if lt.resolved_date)
    return PatientTrajectory(
        current=now, per_visit=tuple(per_visit), lesions=lesions, new_lesions_at_latest=new_latest,
        days_to_regression=(min(regs) - first_visit).days if regs else None,
        days_to_resolution=(resolved_date - first_visit).days if resolved_date else None,
        resolved_date=resolved_date,
    )
