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
    GROUP = 16  # files per scan query: fewer queries (each has a fixed cost), progress still moves

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
        """Pass 1 (Patient files first, then the others a group of files per query): yields
        (file, lines read, prefiltered rows) for every file."""
        patients = [f for f in files if f.type == "Patient"]
        others = [f for f in files if f.type != "Patient"]
        for f in patients:
            yield f, self.load_patients(f), []
        self.finish_patients()
        for i in range(0, len(others), self.GROUP):
            group = others[i:i + self.GROUP]
            results = self.scan_files(group)
            for f in group:
                n, rows = results.get(str(f.path), (0, []))
                yield f, n, rows

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

    def scan_files(self, group: list[ExportFile]) -> dict[str, tuple[int, list[tuple[str, str]]]]:
        """Count lines, report bad ones, and return the (reference, line) rows the prefilter selects, per file."""
        pat = self.cfg.prefilter.replace("'", "''")
        rows = self.con.execute(f"""
            SELECT filename, status, count(*), list(line) FILTER (WHERE status NOT IN ('OK', 'SIGNAL')),
                   list(ref) FILTER (WHERE status = 'SIGNAL'), list(line) FILTER (WHERE status = 'SIGNAL')
            FROM (
              SELECT filename, line, ref, CASE
                WHEN NOT ok THEN 'MALFORMED_LINE'
                WHEN f[1] IS NULL THEN 'NO_RESOURCE_TYPE'
                WHEN f[1] NOT IN ({self.known}) THEN 'UNKNOWN_TYPE'
                WHEN ref LIKE 'Patient/%' AND ref NOT IN (SELECT ref FROM pids) THEN 'DANGLING_REFERENCE'
                WHEN try_cast(f[4] AS DOUBLE) < 0 THEN 'IMPOSSIBLE_VALUE'
                WHEN regexp_matches(line, '{pat}') THEN 'SIGNAL'
                ELSE 'OK' END AS status
              FROM (SELECT filename, line, ok, f, coalesce(f[2], f[3]) AS ref FROM (
                SELECT filename, line, ok, CASE WHEN ok THEN json_extract_string(line, ['$.resourceType',
                       '$.subject.reference', '$.patient.reference', '$.valueQuantity.value']) END AS f
                FROM (SELECT filename, line, json_valid(line) AS ok
                      FROM {lines_sql([str(f.path) for f in group], filename=True)}
                      WHERE line IS NOT NULL AND trim(line) <> ''))))
            GROUP BY filename, status""").fetchall()
        by_path = {str(f.path): f for f in group}
        out: dict[str, tuple[int, list[tuple[str, str]]]] = {}
        bad: dict[str, list[tuple[str, str, str]]] = {}
        for fname, status, n, bad_lines, refs, lines in sorted(rows, key=lambda r: (r[0], r[1])):
            total, signal_rows = out.get(fname, (0, []))
            if status == "SIGNAL":
                signal_rows = signal_rows + list(zip(refs, lines))
            elif status != "OK":
                bad.setdefault(fname, []).extend(
                    (line, status, _msg(status, "valueQuantity.value")) for line in bad_lines)
            out[fname] = (total + n, signal_rows)
        for fname in sorted(bad):
            self.errors.add_lines(by_path[fname], bad[fname])
        return out

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
