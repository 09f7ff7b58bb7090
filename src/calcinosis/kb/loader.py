"""Load and validate the knowledge base (YAML and CSV files in ``kb/data``).

Validation checks the whole knowledge base and reports every problem at once, naming file and entry.
The version comes from ``manifest.yaml``; the content hash is a SHA-256 over every data file.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from calcinosis.errors import KnowledgeBaseError

try:  # the C loader is ~10x faster
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass
class KnowledgeBase:
    """The loaded knowledge base. ``data`` maps a file's stem to its parsed content."""

    version: str
    content_hash: str
    data: dict[str, Any]
    files: tuple[str, ...]
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def references(self) -> dict[str, dict[str, str]]:
        return self.data.get("references", {})

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def describe(self) -> dict[str, str]:
        d = {"version": self.version, "hash": self.content_hash}
        hpo = self.cache.get("hpo_release")
        if hpo:
            d["hpo_release"] = hpo
        return d


Validator = Callable[[dict[str, Any]], list[str]]
_VALIDATORS: list[Validator] = []


def validator(fn: Validator) -> Validator:
    """Register a whole-KB validator: ``fn(data) -> list of problems`` ("file: entry: what")."""
    _VALIDATORS.append(fn)
    return fn


def _data_dir() -> Path:
    return Path(str(resources.files("calcinosis.kb") / "data"))


def _parse(name: str, text: str) -> Any:
    if name.endswith((".yaml", ".yml")):
        return yaml.load(text, Loader=_Loader)
    if name.endswith(".csv"):
        rows = list(csv.DictReader(io.StringIO(text)))
        return rows
    raise ValueError(f"unsupported knowledge file {name}")


def read_dir(path: Path) -> tuple[dict[str, Any], list[str], str, list[str]]:
    """Read every data file below ``path``; returns (data, problems, sha256, file names)."""
    data: dict[str, Any] = {}
    problems: list[str] = []
    h = hashlib.sha256()
    names: list[str] = []
    for p in sorted(path.iterdir()):
        if p.suffix not in (".yaml", ".yml", ".csv") or p.name.startswith("."):
            continue
        raw = p.read_bytes()
        h.update(p.name.encode() + b"\0" + raw + b"\0")
        names.append(p.name)
        try:
            data[p.stem] = _parse(p.name, raw.decode("utf-8"))
        except Exception as exc:
            problems.append(f"{p.name}: cannot be parsed: {exc}")
    # references_<area>.yaml files extend references.yaml (one file per knowledge area)
    merged = dict(data.get("references") or {})
    for stem in sorted(k for k in data if k.startswith("references_")):
        extra = data.pop(stem) or {}
        for rid, ref in extra.items():
            old = merged.get(rid)
            if old is not None:
                same = isinstance(ref, dict) and (old.get("url"), old.get("doi")) == (ref.get("url"), ref.get("doi"))
                if not same:
                    problems.append(f"{stem}.yaml: {rid}: reference id already used for another source "
                                    f"({old.get('url') or old.get('doi')})")
                continue  # the first definition wins
            merged[rid] = ref
    data["references"] = merged
    return data, problems, h.hexdigest(), names


def validate_data(data: dict[str, Any]) -> list[str]:
    """Run every registered validator; return all problems (empty when valid)."""
    from calcinosis.kb import validate as _v  # noqa: F401 - registers the validators

    problems: list[str] = []
    for fn in _VALIDATORS:
        try:
            problems.extend(fn(data))
        except Exception as exc:
            problems.append(f"validator {fn.__name__} crashed: {exc!r}")
    return problems


def load_kb(path: str | Path | None = None, *, validate: bool = True) -> KnowledgeBase:
    """Load (and by default validate) the knowledge base; raises KnowledgeBaseError listing every problem."""
    if path is None:
        return _load_default(validate)
    return _load(Path(path), validate)


@lru_cache(maxsize=2)
def _load_default(validate: bool) -> KnowledgeBase:
    return _load(_data_dir(), validate)


def _load(path: Path, validate: bool) -> KnowledgeBase:
    if not path.is_dir():
        raise KnowledgeBaseError([f"{path}: not a directory"])
    data, problems, digest, names = read_dir(path)
    if validate:
        problems.extend(validate_data(data))
    if problems:
        raise KnowledgeBaseError(problems)
    manifest = data.get("manifest") or {}
    version = str(manifest.get("version", "0"))
    return KnowledgeBase(version=version, content_hash=digest[:16], data=data, files=tuple(names))


def census(kb: KnowledgeBase) -> dict[str, int]:
    """Counts per kind of knowledge, pinned in a test so that a content change shows up as a diff."""
    out: dict[str, int] = {}
    for name in sorted(kb.data):
        v = kb.data[name]
        if isinstance(v, list):
            out[name] = len(v)
        elif isinstance(v, dict):
            # a file is a mapping of sections; count entries of each list/dict section
            for k, sec in v.items():
                if isinstance(sec, (list, dict)):
                    out[f"{name}.{k}"] = len(sec)
    return out
