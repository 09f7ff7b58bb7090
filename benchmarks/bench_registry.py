"""Registry benchmark: visits written per second on SQLite and PostgreSQL, side by side in one run, each as a
ratio to bare INSERTs through the same driver; and the time to build the report of a 50-visit patient.

Run: /work/venv/bin/python benchmarks/bench_registry.py [--visits 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import tempfile
import time
import uuid
from pathlib import Path

from calcinosis.registry.api import init_registry, open_registry
from calcinosis.registry.inputs import LesionInput, PatientInput, VisitInput
from calcinosis.registry.pgtemp import TempCluster, pg_bin_dir

BIRTH = dt.date(2000, 1, 1)
TODAY = dt.date(2030, 1, 1)


def write_path(url: str, n: int, patients: int = 1) -> float:
    """Visits per second through the registry's write path (validation, audit, trajectory, one lesion),
    ``n`` visits spread over ``patients`` patients (each write re-reads its patient's history)."""
    init_registry(url)
    with open_registry(url, today=TODAY, actor="bench") as reg:
        for p in range(patients):
            reg.add_patient(PatientInput(f"bench-{p:03d}", birth_date=BIRTH))
        t0 = time.perf_counter()
        for i in range(n):
            reg.add_visit(f"bench-{i % patients:03d}",
                          VisitInput(BIRTH + dt.timedelta(days=i // patients + 1), (LesionInput("back", 6.0, 4.0),)),
                          reassess="never")
        return n / (time.perf_counter() - t0)


def bare_inserts(url: str, n: int) -> float:
    """Visits per second as bare driver INSERTs (visit + measurement rows, one transaction each)."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(u.database, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        ph, begin = "?", "BEGIN IMMEDIATE"
        conn.execute("CREATE TABLE bv (id INTEGER PRIMARY KEY, uid TEXT UNIQUE, d TEXT, f TEXT)")
        conn.execute("CREATE TABLE bm (id INTEGER PRIMARY KEY, v INTEGER, l REAL, s REAL, st TEXT)")
        cur = conn.cursor()
    else:
        import psycopg

        conn = psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database, autocommit=True)
        ph, begin = "%s", "BEGIN"
        conn.execute("CREATE TABLE bv (id SERIAL PRIMARY KEY, uid TEXT UNIQUE, d DATE, f JSON)")
        conn.execute("CREATE TABLE bm (id SERIAL PRIMARY KEY, v INTEGER, l REAL, s REAL, st TEXT)")
        cur = conn.cursor()
    t0 = time.perf_counter()
    for i in range(n):
        cur.execute(begin)
        cur.execute(f"INSERT INTO bv (uid, d, f) VALUES ({ph}, {ph}, {ph})",
                    (uuid.uuid4().hex, (BIRTH + dt.timedelta(days=i)).isoformat(), "{}"))
        cur.execute(f"INSERT INTO bm (v, l, s, st) VALUES ({ph}, {ph}, {ph}, {ph})", (i, 6.0, 4.0, "present"))
        cur.execute("COMMIT")
    rate = n / (time.perf_counter() - t0)
    conn.close()
    return rate


def report_time(url: str) -> dict[str, float]:
    """Seconds to build the HTML and the PDF report of a patient with 50 visits (2 lesions each)."""
    with open_registry(url, today=TODAY, actor="bench") as reg:
        reg.add_patient(PatientInput("bench-50", birth_date=BIRTH))
        for i in range(50):
            size = 5.0 + (i % 10)
            reg.add_visit("bench-50", VisitInput(BIRTH + dt.timedelta(days=30 * (i + 1)),
                                                 (LesionInput("back", size, 3.0), LesionInput("arm", 4.0 + i % 3, 2.0))),
                          reassess="auto" if i == 0 else "never")
        reg.report_html("bench-50")  # warm imports (matplotlib, the core) once
        t0 = time.perf_counter()
        html = reg.report_html("bench-50")
        t1 = time.perf_counter()
        from calcinosis.registry.report import html_to_pdf

        html_to_pdf(html)
        t2 = time.perf_counter()
    return {"html_s": t1 - t0, "pdf_s": t2 - t0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--visits", type=int, default=300)
    args = ap.parse_args()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as d:
        urls = {"sqlite": (f"sqlite:///{Path(d) / 'reg.sqlite'}", f"sqlite:///{Path(d) / 'bare.sqlite'}",
                           f"sqlite:///{Path(d) / 'rep.sqlite'}", f"sqlite:///{Path(d) / 'spread.sqlite'}")}
        cluster = None
        if pg_bin_dir():
            cluster = TempCluster()
            cluster.start()
            urls["postgresql"] = (cluster.create_database("reg"), cluster.create_database("bare"),
                                  cluster.create_database("rep"), cluster.create_database("spread"))
        try:
            for name, (reg_url, bare_url, rep_url, spread_url) in urls.items():
                bare = bare_inserts(bare_url, args.visits)
                ours = write_path(reg_url, args.visits)
                spread = write_path(spread_url, args.visits, patients=max(1, args.visits // 10))
                init_registry(rep_url)
                results[name] = {"visits_per_s_one_patient": round(ours, 1),
                                 "visits_per_s_10_per_patient": round(spread, 1),
                                 "bare_inserts_per_s": round(bare, 1),
                                 "ratio_to_bare_one_patient": round(ours / bare, 3),
                                 "ratio_to_bare_10_per_patient": round(spread / bare, 3),
                                 **{k: round(v, 3) for k, v in report_time(rep_url).items()}}
        finally:
            if cluster:
                cluster.stop()
    print(json.dumps({"machine": f"{platform.machine()} {platform.python_version()}", "date": dt.date.today().isoformat(),
                      "visits": args.visits, "results": results}, indent=2))


if __name__ == "__main__":
    main()
