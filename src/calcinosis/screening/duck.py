"""The DuckDB engine (embedded default): streams the export's NDJSON files with SQL, never loading it whole."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from calcinosis.errors import require
from calcinosis.screening.export import ErrorLog, ExportFile

_LINES = ("read_csv({src}, columns={{'line': 'VARCHAR'}}, delim=e'\\x01', quote='', escape='', header=false, "
          "auto_detect=false, compression='auto', strict_mode=false, max_line_size=16000000{extra})")

BAD_CODES = {
    "MALFORMED_LINE": "malformed NDJSON line (not a JSON object)",
    "NO_RESOURCE_TYPE": "line has no resourceType",
    "UNKNOWN_TYPE": "resource of an unknown type, skipped",
    "DANGLING_REFERENCE": "reference to a Patient that is not in the export",
    "IMPOSSIBLE_VALUE": "impossible value",
}


def lines_sql(files: list[str], filename: bool = False) -> str:
    src = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    return _LINES.format(src=src, extra=", filename=true" if filename else "")


class DuckEngine:
    name = "duckdb"

    def __init__(self, cfg: Any, as_of: Any, errors: ErrorLog, *, threads: int | None = None,
                 memory_limit: str = "1GB"):
        duckdb = require("duckdb", "screen")
        self.cfg, self.as_of, self.errors = cfg, as_of, errors
        self.con = duckdb.connect()
        self.con.execute(f"SET memory_limit='{memory_limit}'")
        self.con.execute("SET preserve_insertion_order=false")
        self.con.execute("SET enable_progress_bar=false")
        if threads:
            self.con.execute(f"SET threads={int(threads)}")
        self.con.execute("CREATE TEMP TABLE patients(id VARCHAR, birth VARCHAR, gender VARCHAR)")
        known = ", ".join("'" + t + "'" for t in sorted(cfg.known_types))
        self.known = known

    def scan(self, files: list[ExportFile]) -> Iterator[tuple[ExportFile, int, list[tuple[str, str]]]]:
        """Pass 1, file by file (Patient files first): yields (file, lines read, prefiltered rows)."""
        patients_done = False
        for f in files:
            if f.type == "Patient" and not patients_done:
                yield f, self.load_patients(f), []
                continue
            if not patients_done:
                self.finish_patients()
                patients_done = True
            n, rows = self.scan_file(f)
            yield f, n, rows
        if not patients_done:
            self.finish_patients()

    def assess(self, files: list[ExportFile], cands: dict[str, Any], *, workers: int = 1, kb: Any = None):
        """Pass 2 and the assessment: gather each candidate's lines, assess in this process (or workers)."""
        from calcinosis.screening.run import assess_local

        yield from assess_local(self.gather(files, sorted(cands)), cands, self.as_of, workers, kb)

    # -- pass 1 -------------------------------------------------------------------------------------------
    def load_patients(self, f: ExportFile) -> int:
        src = lines_sql([str(f.path)])
        as_of = self.as_of.isoformat()
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE pf AS
            SELECT line, ok, CASE WHEN ok THEN json_extract_string(line, ['$.resourceType', '$.id',
                   '$.birthDate', '$.gender']) END AS f
            FROM (SELECT line, json_valid(line) AS ok FROM {src} WHERE line IS NOT NULL AND trim(line) <> '')""")
        self.con.execute("""INSERT INTO patients SELECT f[2], f[3], f[4] FROM pf
                            WHERE ok AND f[1] = 'Patient' AND f[2] IS NOT NULL""")
        bad = self.con.execute(f"""
            SELECT line, CASE WHEN NOT ok THEN 'MALFORMED_LINE'
                              WHEN f[1] IS NULL THEN 'NO_RESOURCE_TYPE'
                              WHEN f[1] NOT IN ({self.known}) THEN 'UNKNOWN_TYPE'
                              ELSE 'IMPOSSIBLE_VALUE' END AS code
            FROM (SELECT *, try_cast(CASE length(f[3]) WHEN 4 THEN f[3] || '-01-01' WHEN 7 THEN f[3] || '-01'
                                     ELSE left(f[3], 10) END AS DATE) AS bd FROM pf)
            WHERE NOT ok OR f[1] IS NULL OR f[1] NOT IN ({self.known})
               OR (f[1] = 'Patient' AND f[3] IS NOT NULL AND (bd IS NULL OR bd > DATE '{as_of}'
                   OR bd < DATE '{as_of}' - INTERVAL 130 YEAR))""").fetchall()
        n = self.con.execute("SELECT count(*) FROM pf").fetchone()[0]
        self.con.execute("DROP TABLE pf")
        self.errors.add_lines(f, [(line, code, _msg(code, "birthDate")) for line, code in bad])
        return int(n)

    def finish_patients(self) -> None:
        self.con.execute("CREATE TEMP TABLE pids AS SELECT DISTINCT 'Patient/' || id AS ref FROM patients")

    def scan_file(self, f: ExportFile) -> tuple[int, list[tuple[str, str]]]:
        """Count lines, report bad ones, and return the (reference, line) rows the prefilter selects."""
        pat = self.cfg.prefilter.replace("'", "''")
        rows = self.con.execute(f"""
            SELECT status, count(*), list(line) FILTER (WHERE status NOT IN ('OK', 'SIGNAL')),
                   list(ref) FILTER (WHERE status = 'SIGNAL'), list(line) FILTER (WHERE status = 'SIGNAL')
            FROM (
              SELECT line, ref, CASE
                WHEN NOT ok THEN 'MALFORMED_LINE'
                WHEN f[1] IS NULL THEN 'NO_RESOURCE_TYPE'
                WHEN f[1] NOT IN ({self.known}) THEN 'UNKNOWN_TYPE'
                WHEN ref LIKE 'Patient/%' AND ref NOT IN (SELECT ref FROM pids) THEN 'DANGLING_REFERENCE'
                WHEN try_cast(f[4] AS DOUBLE) < 0 THEN 'IMPOSSIBLE_VALUE'
                WHEN regexp_matches(line, '{pat}') THEN 'SIGNAL'
                ELSE 'OK' END AS status
              FROM (SELECT line, ok, f, coalesce(f[2], f[3]) AS ref FROM (
                SELECT line, ok, CASE WHEN ok THEN json_extract_string(line, ['$.resourceType',
                       '$.subject.reference', '$.patient.reference', '$.valueQuantity.value']) END AS f
                FROM (SELECT line, json_valid(line) AS ok FROM {lines_sql([str(f.path)])}
                      WHERE line IS NOT NULL AND trim(line) <> ''))))
            GROUP BY status""").fetchall()
        total, signal_rows, bad = 0, [], []
        for status, n, bad_lines, refs, lines in rows:
            total += n
            if status == "SIGNAL":
                signal_rows.extend(zip(refs, lines))
            elif status != "OK":
                bad.extend((line, status, _msg(status, "valueQuantity.value")) for line in bad_lines)
        self.errors.add_lines(f, bad)
        return total, signal_rows

    def patient_info(self, pids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        if not pids:
            return {}
        self.con.execute("CREATE OR REPLACE TEMP TABLE want(id VARCHAR)")
        self.con.executemany("INSERT INTO want VALUES (?)", [(p,) for p in pids])
        return {r[0]: (r[1], r[2]) for r in self.con.execute(
            "SELECT id, min(birth), min(gender) FROM patients WHERE id IN (SELECT id FROM want) GROUP BY id"
        ).fetchall()}

    # -- pass 2 -------------------------------------------------------------------------------------------
    def gather(self, files: list[ExportFile], pids: list[str]) -> Iterator[tuple[str, list[str]]]:
        """Yield (patient id, raw lines) for each candidate, in patient-id order."""
        self.con.execute("CREATE OR REPLACE TEMP TABLE cand(ref VARCHAR)")
        self.con.executemany("INSERT INTO cand VALUES (?)", [("Patient/" + p,) for p in pids])
        pfiles = [str(f.path) for f in files if f.type == "Patient"]
        ofiles = [str(f.path) for f in files if f.type != "Patient"]
        parts = []
        if pfiles:
            parts.append(f"""SELECT 'Patient/' || json_extract_string(line, '$.id') AS ref, line FROM
                {lines_sql(pfiles)} WHERE line IS NOT NULL AND json_valid(line)""")
        if ofiles:
            parts.append(f"""SELECT coalesce(f[1], f[2]) AS ref, line FROM (SELECT line,
                json_extract_string(line, ['$.subject.reference', '$.patient.reference']) AS f FROM
                {lines_sql(ofiles)} WHERE line IS NOT NULL AND json_valid(line))""")
        cur = self.con.execute(f"""SELECT ref, list(line ORDER BY line) FROM ({' UNION ALL '.join(parts)})
                                   WHERE ref IN (SELECT ref FROM cand) GROUP BY ref ORDER BY ref""")
        while True:
            batch = cur.fetchmany(500)
            if not batch:
                break
            for ref, lines in batch:
                yield ref[len("Patient/"):], lines

    def close(self) -> None:
        self.con.close()


def _msg(code: str, field: str) -> str:
    if code == "IMPOSSIBLE_VALUE":
        return f"impossible value in {field}"
    return BAD_CODES.get(code, code)


def count_floor(files: list[str], con: Any = None, progress: Callable[[int], None] | None = None) -> int:
    """The benchmark floor: DuckDB's bare count(*) of the same NDJSON files."""
    duckdb = require("duckdb", "screen")
    c = con or duckdb.connect()
    return int(c.execute(f"SELECT count(*) FROM read_json_objects({files!r}, format='newline_delimited')")
               .fetchone()[0])
