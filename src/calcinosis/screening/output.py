"""Write a screen's results: CSV and Parquet tables (sorted, deterministic), assessments, errors, HTML summary."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from calcinosis.screening.assess_one import COLUMNS


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in COLUMNS})
    return buf.getvalue().encode("utf-8")


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    """Parquet through DuckDB (part of the screen extra); every column is text except age_days."""
    from calcinosis.errors import require

    duckdb = require("duckdb", "screen")
    con = duckdb.connect()
    # one list parameter per column, unnested side by side (executemany inserts cost ~0.7 ms a row)
    sel = ", ".join(f'unnest(${i + 1})::{"BIGINT" if c == "age_days" else "VARCHAR"} AS "{c}"'
                    for i, c in enumerate(COLUMNS))
    cols = [[(None if (c == "age_days" and r[c] == "") else r[c]) for r in rows] for c in COLUMNS]
    if rows:
        con.execute(f"CREATE TABLE t AS SELECT {sel}", cols)
    else:
        coldefs = ", ".join(f'"{c}" {"BIGINT" if c == "age_days" else "VARCHAR"}' for c in COLUMNS)
        con.execute(f"CREATE TABLE t ({coldefs})")
    target = str(path).replace("'", "''")
    con.execute(f"COPY (SELECT * FROM t ORDER BY patient_id) TO '{target}' (FORMAT parquet)")
    con.close()


def write_outputs(out: Path, results: list[tuple[dict[str, Any], str]], errors: Any, summary: Any,
                  cfg: Any) -> dict[str, str]:
    from calcinosis.screening.report import write_html

    out.mkdir(parents=True, exist_ok=True)
    results = sorted(results, key=lambda r: r[0]["patient_id"])
    rows = [r for r, _ in results]
    paths = {
        "csv": out / "screen.csv",
        "parquet": out / "screen.parquet",
        "assessments": out / "assessments.ndjson",
        "errors": out / "errors.csv",
        "html": out / "summary.html",
        "summary": out / "summary.json",
    }
    paths["csv"].write_bytes(_csv_bytes(rows))
    write_parquet(rows, paths["parquet"])
    with open(paths["assessments"], "w", encoding="utf-8") as fh:
        fh.writelines(js + "\n" for _, js in results)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["where", "code", "message"])
    for i in errors.sorted_issues():
        w.writerow([i.where, i.code, i.message])
    paths["errors"].write_text(buf.getvalue(), encoding="utf-8")
    outs = {k: str(v) for k, v in paths.items()}
    summary.outputs = outs
    doc = {k: v for k, v in vars(summary).items()}
    paths["summary"].write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    write_html(paths["html"], rows, summary, cfg)
    return outs
