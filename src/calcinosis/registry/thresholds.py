"""The cited trajectory thresholds, windows and red flags from ``kb/data/trajectories.yaml``, checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from calcinosis.errors import KnowledgeBaseError

FILE = "trajectories.yaml"
RED_FLAG_KINDS = ("trajectory", "finding", "labs")


@dataclass(frozen=True, slots=True)
class Window:
    id: str
    types: tuple[str, ...]
    months_after_onset: float
    label: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RedFlagRule:
    id: str
    kind: str
    label: str
    action: str
    sources: tuple[str, ...]
    finding: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Thresholds:
    growth: float  # relative increase over the nadir
    regression: float  # relative decrease below the peak
    min_abs_mm: float
    growth_sources: tuple[str, ...]
    regression_sources: tuple[str, ...]
    min_abs_sources: tuple[str, ...]
    windows: tuple[Window, ...]
    red_flags: tuple[RedFlagRule, ...]

    def window_for(self, type_: str | None) -> Window:
        for w in self.windows:
            if type_ and type_ in w.types:
                return w
        return next(w for w in self.windows if w.id == "default")

    @property
    def sources(self) -> tuple[str, ...]:
        out: list[str] = []
        for group in (self.growth_sources, self.regression_sources, self.min_abs_sources,
                      *(w.sources for w in self.windows), *(r.sources for r in self.red_flags)):
            out.extend(s for s in group if s not in out)
        return tuple(out)


def _num(problems: list[str], node: Any, key: str, where: str, lo: float, hi: float) -> float:
    v = node.get(key) if isinstance(node, dict) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo < v < hi:
        problems.append(f"{FILE}: {where}.{key}: must be a number between {lo:g} and {hi:g}, got {v!r}")
        return 0.0
    return float(v)


def _sources(problems: list[str], refs: dict, node: Any, key: str, where: str) -> tuple[str, ...]:
    srcs = node.get(key) if isinstance(node, dict) else None
    if not isinstance(srcs, list) or not srcs:
        problems.append(f"{FILE}: {where}: no {key} (every threshold must cite its sources)")
        return ()
    for s in srcs:
        if s not in refs:
            problems.append(f"{FILE}: {where}: unknown source {s!r}")
    return tuple(srcs)


def load_thresholds(kb: Any) -> Thresholds:
    """Read and check the trajectory knowledge; raises KnowledgeBaseError listing every problem."""
    cached = kb.cache.get("registry_thresholds")
    if cached is not None:
        return cached
    data = kb.get("trajectories")
    refs = kb.references
    problems: list[str] = []
    if not isinstance(data, dict):
        raise KnowledgeBaseError([f"{FILE}: missing or not a mapping"])
    m = data.get("measurement") or {}
    growth = _num(problems, m.get("growth"), "relative_increase", "measurement.growth", 0, 5)
    regression = _num(problems, m.get("regression"), "relative_decrease", "measurement.regression", 0, 1)
    min_abs = _num(problems, m, "min_absolute_change_mm", "measurement", 0, 100)
    g_src = _sources(problems, refs, m.get("growth"), "sources", "measurement.growth")
    r_src = _sources(problems, refs, m.get("regression"), "sources", "measurement.regression")
    a_src = _sources(problems, refs, m, "min_absolute_change_sources", "measurement")
    windows = []
    for i, w in enumerate(data.get("windows") or []):
        where = f"windows[{w.get('id', i) if isinstance(w, dict) else i}]"
        if not isinstance(w, dict) or not w.get("id"):
            problems.append(f"{FILE}: {where}: needs an id")
            continue
        windows.append(Window(str(w["id"]), tuple(w.get("applies_to_types") or ()),
                              _num(problems, w, "months_after_onset", where, 0, 240), str(w.get("label", w["id"])),
                              _sources(problems, refs, w, "sources", where)))
    if not any(w.id == "default" for w in windows):
        problems.append(f"{FILE}: windows: no 'default' window")
    rules = []
    for i, r in enumerate(data.get("red_flags") or []):
        where = f"red_flags[{r.get('id', i) if isinstance(r, dict) else i}]"
        if not isinstance(r, dict) or not r.get("id"):
            problems.append(f"{FILE}: {where}: needs an id")
            continue
        if r.get("kind") not in RED_FLAG_KINDS:
            problems.append(f"{FILE}: {where}.kind: must be one of {', '.join(RED_FLAG_KINDS)}")
        if not r.get("action"):
            problems.append(f"{FILE}: {where}: no action")
        rules.append(RedFlagRule(str(r["id"]), str(r.get("kind")), str(r.get("label", r["id"])),
                                 str(r.get("action", "")), _sources(problems, refs, r, "sources", where),
                                 r.get("finding"), tuple(r.get("flags") or ())))
    if problems:
        raise KnowledgeBaseError(problems)
    t = Thresholds(growth, regression, min_abs, g_src, r_src, a_src, tuple(windows), tuple(rules))
    kb.cache["registry_thresholds"] = t
    return t
