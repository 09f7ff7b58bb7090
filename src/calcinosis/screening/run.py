"""Run a screen: discover the export, let the engine scan and gather, decide candidates, assess, write."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from calcinosis.errors import InputError
from calcinosis.screening import rules
from calcinosis.screening.assess_one import Candidate, assess_candidate
from calcinosis.screening.config import ScreenConfig, load_config
from calcinosis.screening.export import ErrorLog, discover
from calcinosis.screening.progress import ScreenProgress


@dataclass
class ScreenSummary:
    engine: str
    as_of: str
    files: int = 0
    resources: int = 0
    patients: int = 0
    candidates: int = 0
    assessed: int = 0
    errors: int = 0
    error_counts: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    knowledge: str = ""


def default_as_of(root: Path) -> dt.date:
    """The export's transactionTime (from its manifest) when present, else today."""
    mf = root / "manifest.json"
    if mf.is_file():
        try:
            d = rules.parse_date(json.loads(mf.read_text(encoding="utf-8")).get("transactionTime"))
        except (ValueError, AttributeError):
            d = None
        if d:
            return d
    return dt.date.today()


def parse_as_of(value: str | None, root: Path) -> dt.date:
    if value is None:
        return default_as_of(root)
    d = rules.parse_date(value)
    if d is None or len(value) < 10:
        raise InputError(f"--as-of must be a date YYYY-MM-DD, got {value!r}", where="--as-of", code="BAD_OPTION")
    return d


def decide_candidates(signal_rows: list[tuple[str, str]], engine: Any, cfg: ScreenConfig,
                      as_of: dt.date) -> dict[str, Candidate]:
    """Apply the exact rules to the prefiltered rows; returns candidates by patient id."""
    from calcinosis.screening.assess_one import parse_lines

    by_pid: dict[str, list[str]] = defaultdict(list)
    for ref, line in signal_rows:
        if isinstance(ref, str) and ref.startswith("Patient/"):
            by_pid[ref[len("Patient/"):]].append(line)
    info = engine.patient_info(sorted(by_pid))
    out: dict[str, Candidate] = {}
    for pid in sorted(by_pid):
        if pid not in info:
            continue  # dangling: already reported
        birth = rules.parse_date(info[pid][0])
        sigs: set[str] = set()
        for res in parse_lines(by_pid[pid]):
            sigs.update(rules.resource_signals(res, cfg, birth, as_of))
        if sigs:
            out[pid] = Candidate(pid, tuple(sorted(sigs)))
    return out


# --- local assessment (DuckDB engine), optionally in worker processes --------------------------------------
_W: dict[str, Any] = {}


def _init_worker(as_of: dt.date, kb: Any = None, cfg: ScreenConfig | None = None) -> None:
    if kb is None:
        from calcinosis.kb import load_kb

        kb = load_kb()
    _W.update(kb=kb, cfg=cfg or load_config(kb), as_of=as_of)


def _work(item: tuple[Candidate, list[str]]) -> tuple[str, dict[str, Any] | None, str]:
    cand, lines = item
    row, extra = assess_candidate(cand, lines, _W["cfg"], _W["as_of"], _W["kb"])
    return cand.pid, row, extra


def assess_local(groups: Iterator[tuple[str, list[str]]], cands: dict[str, Candidate], as_of: dt.date,
                 workers: int, kb: Any = None,
                 cfg: ScreenConfig | None = None) -> Iterator[tuple[str, dict[str, Any] | None, str]]:
    items = ((cands[pid], lines) for pid, lines in groups if pid in cands)
    _init_worker(as_of, kb, cfg)  # forked workers inherit it
    if workers <= 1:
        yield from map(_work, items)
        return
    import multiprocessing as mp

    with mp.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(_work, items, chunksize=8)


def make_engine(engine: str, cfg: ScreenConfig, as_of: dt.date, errors: ErrorLog, master: str | None):
    if engine == "duckdb":
        from calcinosis.screening.duck import DuckEngine

        return DuckEngine(cfg, as_of, errors)
    if engine == "spark":
        from calcinosis.screening.spark import SparkEngine

        return SparkEngine(cfg, as_of, errors, master=master or "local[*]")
    raise InputError(f"unknown engine {engine!r}", where="--engine", code="BAD_OPTION",
                     hint="use duckdb or spark")


def screen(export_dir: str | Path, out: str | Path, *, engine: str = "duckdb", as_of: str | None = None,
           master: str | None = None, max_errors: int = 100, progress: bool = True, workers: int = 1,
           kb: Any = None, fhir_validate: bool = False) -> ScreenSummary:
    """Screen a Bulk Data export folder and write the tables, the HTML summary and the error list to ``out``.
    ``fhir_validate``: validate each candidate's resources whole against the FHIR R4 models first."""
    from calcinosis.kb import load_kb
    from calcinosis.screening.output import write_outputs

    root = Path(export_dir)
    files = discover(root)
    as_of_d = parse_as_of(as_of, root)
    kb = kb or load_kb()
    cfg = replace(load_config(kb), fhir_validate=fhir_validate)
    errors = ErrorLog(max_errors)
    summary = ScreenSummary(engine=engine, as_of=as_of_d.isoformat(), files=len(files),
                            knowledge=cfg.kb_version)
    eng = make_engine(engine, cfg, as_of_d, errors, master)
    try:
        with ScreenProgress(progress) as pr:
            pr.task("files", "files read", len(files))
            pr.task("res", "resources read", None)
            pr.task("cand", "candidates assessed", None)
            signal_rows: list[tuple[str, str]] = []

            def scanned(f, n):
                pr.advance("files", 1, info=f.name)
                pr.advance("res", n)

            live = hasattr(eng, "on_scanned")  # the engine reports files as it reads them (maybe out of order)
            if live:
                eng.on_scanned = scanned
            for f, n, rows in eng.scan(files):
                summary.resources += n
                if f.type == "Patient":
                    summary.patients += n
                signal_rows.extend(rows)
                if not live:
                    scanned(f, n)
                errors.check()
            cands = decide_candidates(signal_rows, eng, cfg, as_of_d)
            summary.candidates = len(cands)
            pr.total("cand", len(cands))
            results = []
            for pid, row, extra in eng.assess(files, cands, workers=workers, kb=kb):
                if row is None:
                    errors.add("NOT_ASSESSABLE", extra, f"Patient/{pid}")
                    errors.check()
                else:
                    results.append((row, extra))
                pr.advance("cand", 1)
            summary.assessed = len(results)
    finally:
        eng.close()
    summary.errors = len(errors.issues)
    summary.error_counts = dict(sorted(errors.counts.items()))
    summary.outputs = write_outputs(Path(out), results, errors, summary, cfg)
    return summary

