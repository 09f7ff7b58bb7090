"""The Spark engine (PySpark, ``local[*]`` by default): the same passes as DuckDB, the same Python rules.

Candidates are assessed inside Spark with ``mapInPandas`` calling the single-patient reader and core."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from calcinosis.errors import require
from calcinosis.screening.duck import BAD_CODES, _msg
from calcinosis.screening.export import ErrorLog, ExportFile


def get_session(master: str = "local[*]"):
    """One session per process (reused): no UI, driver bound to 127.0.0.1."""
    require("pyspark", "spark")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (SparkSession.builder.master(master).appName("calcinosis-screen")
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate())


class SparkEngine:
    name = "spark"

    def __init__(self, cfg: Any, as_of: Any, errors: ErrorLog, *, master: str = "local[*]"):
        self.cfg, self.as_of, self.errors = cfg, as_of, errors
        self.spark = get_session(master)
        self.spark.sparkContext.setLogLevel("ERROR")
        self._lines = None
        self._patients = None

    def _text(self, files: list[ExportFile]):
        from pyspark.sql import functions as F

        df = self.spark.read.text([str(f.path) for f in files])
        df = df.withColumn("file", F.element_at(F.split(F.input_file_name(), "/"), -1))
        return df.filter(F.col("value").isNotNull() & (F.trim("value") != ""))

    def scan(self, files: list[ExportFile]) -> Iterator[tuple[ExportFile, int, list[tuple[str, str]]]]:
        from pyspark.sql import functions as F

        g = F.get_json_object
        df = self._text(files)
        df = (df.withColumn("ok", F.col("value").startswith("{") & g("value", "$").isNotNull())
                .withColumn("rt", g("value", "$.resourceType"))
                .withColumn("ref", F.coalesce(g("value", "$.subject.reference"), g("value", "$.patient.reference")))
                .withColumn("pid", F.when(F.col("rt") == "Patient", g("value", "$.id"))))
        df = df.cache()
        self._lines = df
        pats = df.filter(F.col("ok") & (F.col("rt") == "Patient") & F.col("pid").isNotNull()).select(
            F.col("pid").alias("id"), g("value", "$.birthDate").alias("birth"), g("value", "$.gender").alias("gender"))
        self._patients = pats.cache()
        pids = self._patients.select(F.concat(F.lit("Patient/"), F.col("id")).alias("pref")).distinct()
        known = sorted(self.cfg.known_types)
        b = F.col("birth")
        bd = F.to_date(F.when(F.length(b) == 4, F.concat(b, F.lit("-01-01")))
                       .when(F.length(b) == 7, F.concat(b, F.lit("-01"))).otherwise(F.substring(b, 1, 10)))
        as_of = F.lit(self.as_of.isoformat()).cast("date")
        birth_bad = df.filter(F.col("ok") & (F.col("rt") == "Patient")).withColumn("birth", g("value", "$.birthDate"))
        birth_bad = birth_bad.filter(b.isNotNull() & (bd.isNull() | (bd > as_of) | (bd < F.add_months(as_of, -1560))))
        joined = df.join(pids, df.ref == pids.pref, "left")
        status = (F.when(~F.col("ok"), "MALFORMED_LINE").when(F.col("rt").isNull(), "NO_RESOURCE_TYPE")
                  .when(~F.col("rt").isin(known), "UNKNOWN_TYPE")
                  .when((F.col("rt") != "Patient") & F.col("ref").startswith("Patient/") & F.col("pref").isNull(),
                        "DANGLING_REFERENCE")
                  .when(g("value", "$.valueQuantity.value").cast("double") < 0, "IMPOSSIBLE_VALUE")
                  .when(F.col("rt").isin(sorted(self.cfg.signal_types)) & F.col("value").rlike(self.cfg.prefilter),
                        "SIGNAL")
                  .otherwise("OK"))
        flagged = joined.withColumn("status", status)
        counts = dict(flagged.groupBy("file").count().collect())
        rows = flagged.filter(F.col("status") != "OK").select("file", "status", "value", "ref").collect()
        rows += [(r.file, "IMPOSSIBLE_VALUE", r.value, None) for r in birth_bad.select("file", "value").collect()]
        by_file: dict[str, list[Any]] = {}
        for r in rows:
            by_file.setdefault(r[0], []).append(r)
        for f in files:
            sig, bad = [], []
            for _, st, value, ref in by_file.get(f.name, []):
                if st == "SIGNAL":
                    sig.append((ref, value))
                else:
                    field = "birthDate" if f.type == "Patient" else "valueQuantity.value"
                    bad.append((value, st, _msg(st, field) if st in BAD_CODES else st))
            self.errors.add_lines(f, bad)
            yield f, int(counts.get(f.name, 0)), sig

    def patient_info(self, pids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        from pyspark.sql import functions as F

        if not pids:
            return {}
        want = self.spark.createDataFrame([(p,) for p in pids], "id string")
        got = self._patients.join(want, "id").groupBy("id").agg(F.min("birth"), F.min("gender")).collect()
        return {r[0]: (r[1], r[2]) for r in got}

    def assess(self, files: list[ExportFile], cands: dict[str, Any], *, workers: int = 1, kb: Any = None):
        """Gather each candidate's lines and assess them in Spark's Python workers (``mapInPandas``)."""
        from pyspark.sql import functions as F

        from calcinosis.kb import load_kb

        if not cands:
            return
        kb = kb or load_kb()
        cfg, as_of = self.cfg, self.as_of
        cdf = self.spark.createDataFrame([(f"Patient/{p}", p, ";".join(c.signals)) for p, c in cands.items()],
                                         "ref string, pid string, signals string")
        lines = self._lines.withColumn("ref2", F.when(F.col("rt") == "Patient",
                                                      F.concat(F.lit("Patient/"), F.col("pid")))
                                       .otherwise(F.col("ref"))).filter(F.col("ok")).select("value", "ref2")
        grouped = (lines.join(F.broadcast(cdf), lines.ref2 == cdf.ref)
                   .groupBy("pid", "signals").agg(F.collect_list("value").alias("lines")))

        def run(batches):
            import pandas as pd

            from calcinosis.screening.assess_one import Candidate, assess_candidate

            for pdf in batches:
                out = []
                for pid, sigs, lns in zip(pdf["pid"], pdf["signals"], pdf["lines"]):
                    cand = Candidate(pid, tuple(s for s in sigs.split(";") if s))
                    row, extra = assess_candidate(cand, sorted(lns), cfg, as_of, kb)
                    out.append((pid, None if row is None else json.dumps(row), extra))
                yield pd.DataFrame(out, columns=["pid", "row", "extra"])

        res = grouped.mapInPandas(run, "pid string, row string, extra string").collect()
        for r in sorted(res, key=lambda r: r.pid):
            yield r.pid, (None if r.row is None else json.loads(r.row)), r.extra

    def close(self) -> None:
        for df in (self._lines, self._patients):
            if df is not None:
                df.unpersist()
