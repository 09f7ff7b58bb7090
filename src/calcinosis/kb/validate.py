"""Validators of the whole knowledge base. Each returns a list of problems naming file and entry."""

from __future__ import annotations

from typing import Any

# One validator module per knowledge area; importing them registers their validators.
from calcinosis.kb import validate_core, validate_fhir, validate_genetic, validate_labs  # noqa: F401
from calcinosis.kb.loader import validator

REQUIRED_FILES = ("manifest", "references")


@validator
def required_files(data: dict[str, Any]) -> list[str]:
    return [f"{name}.yaml: missing" for name in REQUIRED_FILES if name not in data]


@validator
def references_complete(data: dict[str, Any]) -> list[str]:
    problems = []
    refs = data.get("references") or {}
    if not isinstance(refs, dict):
        return ["references.yaml: must be a mapping of reference id -> {citation, url}"]
    for rid, ref in refs.items():
        if not isinstance(ref, dict):
            problems.append(f"references.yaml: {rid}: must be a mapping")
            continue
        if not ref.get("citation"):
            problems.append(f"references.yaml: {rid}: no citation")
        if not (ref.get("url") or ref.get("doi")):
            problems.append(f"references.yaml: {rid}: neither url nor doi")
    return problems


def _walk(node: Any, path: str):
    """Yield (path, mapping) for every mapping in a nested structure."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            ident = v.get("id") if isinstance(v, dict) else None
            yield from _walk(v, f"{path}[{ident or i}]")


@validator
def sources_exist(data: dict[str, Any]) -> list[str]:
    """Every ``sources`` list anywhere names known reference ids (CSV files use a ``source`` column)."""
    refs = data.get("references") or {}
    problems = []
    for fname, content in data.items():
        if fname == "references":
            continue
        if isinstance(content, list) and content and isinstance(content[0], dict) and "source" in content[0]:
            for i, row in enumerate(content, start=2):
                for sid in str(row.get("source") or "").split(";"):
                    sid = sid.strip()
                    if not sid:
                        problems.append(f"{fname}.csv: line {i}: no source")
                    elif sid not in refs:
                        problems.append(f"{fname}.csv: line {i}: unknown source '{sid}'")
            continue
        for path, mapping in _walk(content, ""):
            srcs = mapping.get("sources")
            if srcs is None:
                continue
            if not isinstance(srcs, list):
                problems.append(f"{fname}: {path}: sources must be a list")
                continue
            for sid in srcs:
                if sid not in refs:
                    problems.append(f"{fname}: {path}: unknown source '{sid}'")
    return problems
