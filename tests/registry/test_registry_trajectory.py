"""Trajectory rules on hand-made series (thresholds: +20 % and 2 mm over the nadir, -30 % and 2 mm below the peak)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from calcinosis.errors import KnowledgeBaseError
from calcinosis.kb import load_kb
from calcinosis.registry.thresholds import load_thresholds
from calcinosis.registry.trajectory import Point, lesion_trajectory, patient_trajectory


@pytest.fixture(scope="module")
def t():
    return load_thresholds(load_kb())


def states(sizes, t):
    d0 = dt.date(2020, 1, 1)
    pts = [Point(d0 + dt.timedelta(days=30 * i), None, s, "resolved" if s is None else "present")
           for i, s in enumerate(sizes)]
    return lesion_trajectory("x", pts, t, d0).states


@pytest.mark.parametrize("sizes, expected", [
    ([10, 12.5], "growing"),        # +25 %, +2.5 mm
    ([10, 11.5], "stable"),         # +15 %: within measurement error
    ([4, 5], "stable"),             # +25 % but only 1 mm
    ([12, 7], "regressing"),        # -42 %, -5 mm
    ([12, 9], "stable"),            # -25 %
    ([5, 20, 12], "regressing"),    # both rules hold; it fell since the last visit
    ([5, 20, 12, 12.5], "regressing"),  # +0.5 mm since the last visit: within error, state kept
    ([5, 20, 6, 8], "growing"),     # re-growth of 2 mm from the last visit, 60 % over the nadir
    ([8, 10, None], "resolved"),
])
def test_lesion_state(sizes, expected, t):
    assert states(sizes, t)[-1] == expected


def test_thresholds_are_cited(t):
    refs = load_kb().references
    assert t.growth == 0.20 and t.regression == 0.30 and t.min_abs_mm == 2.0
    assert "reg_recist11" in t.growth_sources and "reg_recist11" in t.regression_sources
    assert all(s in refs for s in t.sources)


def test_new_lesion_and_time_to_regression(t):
    d = [dt.date(2020, 1, 1), dt.date(2020, 2, 1), dt.date(2020, 3, 1)]
    series = {"a": [Point(d[0], 0, 10, "present"), Point(d[1], 0, 10, "present"), Point(d[2], 0, 5, "present")],
              "b": [Point(d[2], 0, 4, "present")]}
    pt = patient_trajectory(series, d, t)
    assert pt.new_lesions_at_latest == ("b",)
    assert pt.lesions["b"].is_new and not pt.lesions["a"].is_new
    assert pt.current == "growing"  # a new lesion counts as growth of the disease (RECIST)
    assert pt.lesions["a"].days_to_regression == (d[2] - d[0]).days


def test_broken_trajectories_file_reports_every_problem():
    kb = copy.copy(load_kb())
    data = copy.deepcopy(kb.data)
    data["trajectories"]["measurement"]["growth"]["relative_increase"] = -1
    data["trajectories"]["measurement"]["regression"]["sources"] = ["no_such_ref"]
    data["trajectories"]["windows"] = [w for w in data["trajectories"]["windows"] if w["id"] != "default"]
    kb.data, kb.cache = data, {}
    with pytest.raises(KnowledgeBaseError) as ei:
        load_thresholds(kb)
    text = str(ei.value)
    assert "measurement.growth.relative_increase" in text
    assert "unknown source 'no_such_ref'" in text
    assert "no 'default' window" in text
