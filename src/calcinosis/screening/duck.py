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

# A line is read when it is not blank. ``trim`` is costly on every line (it is Unicode-aware), so it runs only
# on the rare lines that do not open with "{" (same result: a line starting with "{" is never blank).
NON_BLANK = "line IS NOT NULL AND (starts_with(line, '{') OR trim(line) <> '')"


def lines_sql(files: list[str], filename: bool = False) -> str:
    src = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
    return _LINES.format(src=src, extra=", filename=true" if filename else "")


def parsed(paths: list[str]) -> str:
    """One JSON parse per line: the listed paths as strings, or NULL when the line is not valid JSON.

    ``try(json_extract_string(...))`` gives NULL exactly where ``json_valid`` is false (the same reader and flags;
    a valid line always gives a list); ``json_valid`` still decides the rare NULL rows, so the result cannot
    differ from validating first and extracting after."""
    return "try(json_extract_string(line, [" + ", ".join("'" + p + "'" for p in paths) + "]))"


def _sql_list(items: list[str] | frozenset[str]) -> str:
    return ", ".join("'" + t.replace("'", "''") + "'" for t in sorted(items))


class DuckEngine:
    name = "duckdb"
    GROUP = 16  # files reported together (errors added, then the files yielded): as it always was
    QUERY_BYTES = 512 << 20  # files read per query, by size: each query has a fixed cost (the Patient-id hash
    #                          table of the dangling-reference check is built again), progress still moves

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
        self.known = _sql_list(cfg.known_types)
        # the prefilter regex runs only on lines of a type some signal reads (the rules test the type first)
        self.signal_types = _sql_list(cfg.signal_types)
        self.on_scanned: Callable[[ExportFile, int], None] | None = None
        self._kept: dict[str, list[tuple[str, str]]] = {}  # file -> (reference, line) kept for known candidates
        self._kept_for: dict[str, frozenset[str]] = {}  # file -> the candidates whose lines it kept

    def scan(self, files: list[ExportFile]) -> Iterator[tuple[ExportFile, int, list[tuple[str, str]]]]:
        """Pass 1: yields (file, lines read, prefiltered rows) for every file, in the order of ``files``.

        Patient files first (ids, birth dates), then the others, a query per batch of files of one type (see
        below for the order). Files are reported (errors added, file yielded) in the order and groups of
        ``files`` whatever order they were read in, so --max-errors stops at the same file with the same errors.
        ``on_scanned(file, lines)``, when set, is called as each file is read (the progress display)."""
        patients = [f for f in files if f.type == "Patient"]
        others = [f for f in files if f.type != "Patient"]
        for group in self._batches(patients):
            counts, bad = self.load_patients(group)
            for f in group:
                # errors are added file by file, as each file is reported (--max-errors stops at the same file)
                self.errors.add_lines(f, bad.get(str(f.path), []))
                self._scanned(f, counts.get(str(f.path), 0))
                yield f, counts.get(str(f.path), 0), []
        self.finish_patients()
        from calcinosis.screening.run import decide_candidates

        # Read the files most likely to hold signals first (types read by more signals, then the smaller
        # types), then the files of other types. After each batch the candidates found so far are known, and
        # the following batches keep those candidates' lines: the gathering pass then reads again only what
        # was read before a candidate was known (the Patient and Condition files, in practice).
        nsig = {t: sum(t in s.resource_types for s in self.cfg.signals) for t in {f.type for f in others}}
        size: dict[str, int] = {}
        for f in others:
            size[f.type] = size.get(f.type, 0) + f.path.stat().st_size
        order = sorted(range(len(others)), key=lambda i: (-nsig[others[i].type], size[others[i].type], i))
        results: dict[str, tuple[int, list[tuple[str, str]], list[tuple[str, str, str]]]] = {}
        known: set[str] = set()
        self._kept, self._kept_for = {}, {}
        for group in self._batches([others[i] for i in order]):
            if known:
                self.con.execute("CREATE OR REPLACE TEMP TABLE keep_refs AS SELECT unnest(?::VARCHAR[]) AS ref",
                                 [sorted(known)])
            res = self.scan_files(group, keep=bool(known))
            results.update(res)
            for f in group:
                self._kept_for[str(f.path)] = frozenset(known)
            rows = [r for f in group for r in res.get(str(f.path), (0, [], []))[1]]
            if rows:  # candidates are decided resource by resource: the union over batches is the whole
                known |= {"Patient/" + p for p in decide_candidates(rows, self, self.cfg, self.as_of)}
        for i in range(0, len(others), self.GROUP):
            group = others[i:i + self.GROUP]
            for f in sorted(group, key=lambda f: str(f.path)):
                self.errors.add_lines(f, results.get(str(f.path), (0, [], []))[2])
            for f in group:
                n, rows, _ = results.get(str(f.path), (0, [], []))
                yield f, n, rows

    def _batches(self, files: list[ExportFile]) -> Iterator[list[ExportFile]]:
        """Files read per query: up to ``QUERY_BYTES``, one resource type (file name) per query."""
        batch: list[ExportFile] = []
        size = 0
        for f in files:
            if batch and (size >= self.QUERY_BYTES or f.type != batch[-1].type):
                yield batch
                batch, size = [], 0
            batch.append(f)
            size += f.path.stat().st_size
        if batch:
            yield batch

    def _scanned(self, f: ExportFile, n: int) -> None:
        if self.on_scanned is not None:
            self.on_scanned(f, n)

    def assess(self, files: list[ExportFile], cands: dict[str, Any], *, workers: int = 1, kb: Any = None):
        """Pass 2 and the assessment: gather each candidate's lines, assess in this process (or workers)."""
        from calcinosis.screening.run import assess_local

        yield from assess_local(self.gather(files, sorted(cands)), cands, self.as_of, workers, kb, self.cfg)

    # -- pass 1 -------------------------------------------------------------------------------------------
    def load_patients(self, group: list[ExportFile]) -> tuple[dict[str, int], dict[str, list[tuple[str, str, str]]]]:
        """Load the Patient files of a group (id, birth date, sex); returns lines per file and bad lines per file."""
        src = lines_sql([str(f.path) for f in group], filename=True)
        as_of = self.as_of.isoformat()
        self.con.execute(f"""
            CREATE OR REPLACE TEMP TABLE pf AS
            SELECT filename, line, CASE WHEN f IS NULL THEN json_valid(line) ELSE true END AS ok, f
            FROM (SELECT filename, line, {parsed(['$.resourceType', '$.id', '$.birthDate', '$.gender'])} AS f
                  FROM {src} WHERE {NON_BLANK})""")
        self.con.execute("""INSERT INTO patients SELECT f[2], f[3], f[4] FROM pf
                            WHERE ok AND f[1] = 'Patient' AND f[2] IS NOT NULL""")
        bad: dict[str, list[tuple[str, str, str]]] = {}
        for fname, line, code in self.con.execute(f"""
            SELECT filename, line, CASE WHEN NOT ok THEN 'MALFORMED_LINE'
                              WHEN f[1] IS NULL THEN 'NO_RESOURCE_TYPE'
                              WHEN f[1] NOT IN ({self.known}) THEN 'UNKNOWN_TYPE'
                              ELSE 'IMPOSSIBLE_VALUE' END AS code
            FROM (SELECT *, try_cast(CASE length(f[3]) WHEN 4 THEN f[3] || '-01-01' WHEN 7 THEN f[3] || '-01'
                                     ELSE left(f[3], 10) END AS DATE) AS bd FROM pf)
            WHERE NOT ok OR f[1] IS NULL OR f[1] NOT IN ({self.known})
               OR (f[1] = 'Patient' AND f[3] IS NOT NULL AND (bd IS NULL OR bd > DATE '{as_of}'
                   OR bd < DATE '{as_of}' - INTERVAL 130 YEAR))""").fetchall():
            bad.setdefault(fname, []).append((line, code, _msg(code, "birthDate")))
        counts = dict(self.con.execute("SELECT filename, count(*) FROM pf GROUP BY filename").fetchall())
        self.con.execute("DROP TABLE pf")
        return {k: int(v) for k, v in counts.items()}, bad

    def finish_patients(self) -> None:
        self.con.execute("CREATE TEMP TABLE pids AS SELECT DISTINCT 'Patient/' || id AS ref FROM patients")

    def scan_files(self, group: list[ExportFile], keep: bool = False
                   ) -> dict[str, tuple[int, list[tuple[str, str]], list[tuple[str, str, str]]]]:
        """Count lines, find bad ones, and return per file (lines, the (reference, line) rows the prefilter
        selects, the bad lines as (line, code, message)). ``keep``: also keep the lines of the patients in
        ``keep_refs`` (read by ``gather``)."""
        pat = self.cfg.prefilter.replace("'", "''")
        kept = "ok AND ref IN (SELECT ref FROM keep_refs)" if keep else "false"
        rows = self.con.execute(f"""
            SELECT filename, status, count(*), list(line) FILTER (WHERE status NOT IN ('OK', 'SIGNAL')),
                   list(ref) FILTER (WHERE status = 'SIGNAL'), list(line) FILTER (WHERE status = 'SIGNAL'),
                   list(ref) FILTER (WHERE kept), list(line) FILTER (WHERE kept)
            FROM (
              SELECT filename, line, ref, {kept} AS kept, CASE
                WHEN NOT ok THEN 'MALFORMED_LINE'
                WHEN f[1] IS NULL THEN 'NO_RESOURCE_TYPE'
                WHEN f[1] NOT IN ({self.known}) THEN 'UNKNOWN_TYPE'
                WHEN ref LIKE 'Patient/%' AND ref NOT IN (SELECT ref FROM pids) THEN 'DANGLING_REFERENCE'
                WHEN try_cast(f[4] AS DOUBLE) < 0 THEN 'IMPOSSIBLE_VALUE'
                WHEN f[1] IN ({self.signal_types}) AND regexp_matches(line, '{pat}') THEN 'SIGNAL'
                ELSE 'OK' END AS status
              FROM (SELECT filename, line, CASE WHEN f IS NULL THEN json_valid(line) ELSE true END AS ok, f,
                           coalesce(f[2], f[3]) AS ref FROM (
                SELECT filename, line, {parsed(['$.resourceType', '$.subject.reference', '$.patient.reference',
                                                '$.valueQuantity.value'])} AS f
                FROM {lines_sql([str(f.path) for f in group], filename=True)}
                WHERE {NON_BLANK})))
            GROUP BY filename, status""").fetchall()
        out: dict[str, tuple[int, list[tuple[str, str]], list[tuple[str, str, str]]]] = {}
        for fname, status, n, bad_lines, refs, lines, kept_refs, kept_lines in sorted(rows, key=lambda r: r[:2]):
            total, signal_rows, bad = out.get(fname, (0, [], []))
            if status == "SIGNAL":
                signal_rows = signal_rows + list(zip(refs, lines))
            elif status != "OK":
                bad = bad + [(line, status, _msg(status, "valueQuantity.value")) for line in bad_lines]
            if kept_refs:
                self._kept.setdefault(fname, []).extend(zip(kept_refs, kept_lines))
            out[fname] = (total + n, signal_rows, bad)
        for f in group:
            self._scanned(f, out.get(str(f.path), (0, [], []))[0])
        return out

    def patient_info(self, pids: list[str]) -> dict[str, tuple[str | None, str | None]]:
        if not pids:
            return {}
        return {r[0]: (r[1], r[2]) for r in self.con.execute(
            "SELECT id, min(birth), min(gender) FROM patients WHERE id IN (SELECT unnest(?::VARCHAR[])) GROUP BY id",
            [list(pids)]).fetchall()}

    # -- pass 2 -------------------------------------------------------------------------------------------
    def gather(self, files: list[ExportFile], pids: list[str]) -> Iterator[tuple[str, list[str]]]:
        """Yield (patient id, raw lines) for each candidate, in patient-id order."""
        cand_refs = ["Patient/" + p for p in pids]
        self.con.execute("CREATE OR REPLACE TEMP TABLE cand AS SELECT unnest(?::VARCHAR[]) AS ref", [cand_refs])
        pfiles = [str(f.path) for f in files if f.type == "Patient"]
        # a file read before some candidate was known is read again (for every candidate, its kept lines set
        # aside); the others give the lines they kept in pass 1
        cset = set(cand_refs)
        ofiles = [str(f.path) for f in files
                  if f.type != "Patient" and cset - self._kept_for.get(str(f.path), frozenset())]
        again = set(ofiles)
        kept = [row for path, rows in self._kept.items() if path not in again for row in rows]
        self.con.execute("CREATE OR REPLACE TEMP TABLE kept(ref VARCHAR, line VARCHAR)")
        if kept:
            refs, lines = zip(*kept)
            self.con.execute("INSERT INTO kept SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[])",
                             [list(refs), list(lines)])
        parts = ["SELECT ref, line FROM kept"]
        if pfiles:
            # (invalid lines give NULL and are left out, as the scan reported them)
            parts.append(f"""SELECT 'Patient/' || {parsed(['$.id'])}[1] AS ref, line FROM
                {lines_sql(pfiles)} WHERE line IS NOT NULL""")
        if ofiles:
            parts.append(f"""SELECT coalesce(f[1], f[2]) AS ref, line FROM (SELECT line,
                {parsed(['$.subject.reference', '$.patient.reference'])} AS f FROM
                {lines_sql(ofiles)} WHERE line IS NOT NULL)""")
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
