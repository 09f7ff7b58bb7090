"""A Bulk Data export folder: its NDJSON files (plain or gzipped, with or without a manifest) and its errors."""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from calcinosis.errors import InputError, Issue

_NAME = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)(?:\.(?P<n>\d+))?\.ndjson(?P<gz>\.gz)?$")


@dataclass(frozen=True, order=True)
class ExportFile:
    type: str
    part: int
    path: Path

    @property
    def gz(self) -> bool:
        return self.path.suffix == ".gz"

    @property
    def name(self) -> str:
        return self.path.name


def _from_manifest(root: Path) -> list[ExportFile] | None:
    mf = root / "manifest.json"
    if not mf.is_file():
        return None
    try:
        doc = json.loads(mf.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"manifest is not valid JSON ({exc})", where=str(mf), code="BAD_MANIFEST") from None
    out = doc.get("output") if isinstance(doc, dict) else None
    if not isinstance(out, list):
        raise InputError("manifest has no 'output' list (Bulk Data export manifest expected)",
                         where=f"{mf}: output", code="BAD_MANIFEST")
    files = []
    for i, item in enumerate(out):
        url = str((item or {}).get("url") or "")
        name = url.rstrip("/").rsplit("/", 1)[-1]
        p = root / name
        if not name or not p.is_file():
            raise InputError(f"file listed in the manifest is missing: {name or '(no url)'}",
                             where=f"{mf}: output[{i}].url", code="FILE_NOT_FOUND")
        m = _NAME.match(name)
        rtype = str((item or {}).get("type") or (m.group("type") if m else ""))
        files.append(ExportFile(rtype, int(m.group("n") or 0) if m else i, p))
    return files


def discover(root: str | Path) -> list[ExportFile]:
    """List the export's files, Patient files first; raise InputError (exit 2) for a missing/empty folder."""
    p = Path(root)
    if not p.exists():
        raise InputError("export folder not found", where=str(p), code="FILE_NOT_FOUND")
    if not p.is_dir():
        raise InputError("not a folder (give the Bulk Data export folder)", where=str(p), code="FILE_NOT_FOUND")
    files = _from_manifest(p)
    if files is None:
        files = []
        for f in p.iterdir():
            m = _NAME.match(f.name)
            if m and f.is_file():
                files.append(ExportFile(m.group("type"), int(m.group("n") or 0), f))
    if not files:
        raise InputError("no NDJSON files in the export folder (expected Type.ndjson or Type.N.ndjson[.gz])",
                         where=str(p), code="EMPTY_EXPORT")
    return sorted(files, key=lambda f: (f.type != "Patient", f.type, f.part, f.name))


def open_text(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def locate_lines(path: Path, wanted: dict[str, int]) -> dict[str, list[int]]:
    """Line numbers (1-based, in file order) of the given raw lines, as many occurrences of each as asked for
    (a bad line repeated in a file is reported at each of its lines); used only for the few bad lines."""
    found: dict[str, list[int]] = {}
    left = sum(wanted.values())
    with open_text(path) as fh:
        for no, line in enumerate(fh, start=1):
            s = line.rstrip("\r\n")
            if s in wanted and len(found.setdefault(s, [])) < wanted[s]:
                found[s].append(no)
                left -= 1
                if left == 0:
                    break
    return found


@dataclass
class ErrorLog:
    """Counts bad input (file, line, code, message) and stops the run past ``max_errors``."""

    max_errors: int
    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, code: str, message: str, where: str) -> None:
        self.issues.append(Issue("error", code, message, where))
        self.counts[code] = self.counts.get(code, 0) + 1

    def add_lines(self, f: ExportFile, bad: list[tuple[str, str, str]]) -> None:
        """``bad`` = (raw line, code, message); resolves line numbers once per file."""
        if not bad:
            return
        wanted: dict[str, int] = {}
        for t, _c, _m in bad:
            wanted[t] = wanted.get(t, 0) + 1
        where = {t: iter(nos) for t, nos in locate_lines(f.path, wanted).items()}
        rows = sorted(((next(where.get(t, iter(())), 0), c, m) for t, c, m in bad))
        for no, code, msg in rows:
            self.add(code, msg, f"{f.name}: line {no}" if no else f.name)

    def check(self) -> None:
        if len(self.issues) > self.max_errors:
            first = "; ".join(str(i) for i in self.issues[:3])
            raise InputError(
                f"too many input errors: {len(self.issues)} > --max-errors {self.max_errors} (first: {first})",
                where="", code="TOO_MANY_ERRORS", hint="fix the export or raise --max-errors",
                issues=[Issue("error", "TOO_MANY_ERRORS",
                              f"stopped after {len(self.issues)} input errors (--max-errors {self.max_errors})",
                              "", "fix the export or raise --max-errors")] + self.issues[:20])

    def sorted_issues(self) -> list[Issue]:
        return sorted(self.issues, key=lambda i: (i.where.split(": line ")[0], _line_no(i.where), i.code))


def _line_no(where: str) -> int:
    try:
        return int(where.rsplit("line ", 1)[1])
    except (IndexError, ValueError):
        return 0
