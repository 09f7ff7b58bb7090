"""Read any supported input file: tell the format apart by content, then hand it to its reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from calcinosis.core.model import Findings
from calcinosis.errors import InputError, UnknownFormatError


def detect_format(obj: Any) -> str:
    """Return "case", "phenopacket" or "fhir"; raise UnknownFormatError otherwise."""
    if isinstance(obj, dict):
        if obj.get("format") == "calcinosis-case/1":
            return "case"
        rt = obj.get("resourceType")
        if rt is not None:
            if rt == "Bundle":
                return "fhir"
            raise UnknownFormatError(
                f"FHIR resourceType {rt!r} is not supported here", where="resourceType",
                hint="give a FHIR R4 Bundle (type collection, searchset, transaction or document)")
        if "phenotypicFeatures" in obj or ("metaData" in obj and "subject" in obj) or "phenotypic_features" in obj:
            return "phenopacket"
        if isinstance(obj.get("format"), str):
            raise UnknownFormatError(f"unknown format {obj['format']!r}", where="format",
                                     hint="expected \"calcinosis-case/1\", a Phenopacket v2 or a FHIR R4 Bundle")
    raise UnknownFormatError(
        "unknown input format", where="(top level)",
        hint="expected a calcinosis-case/1 object, a GA4GH Phenopacket v2 or a FHIR R4 Bundle")


def read_obj(obj: Any, src: str = "<input>", *, kb: Any = None, as_of: str | None = None) -> Findings:
    """Turn a parsed JSON value into Findings, checking impossible values against the knowledge base."""
    try:
        fmt = detect_format(obj)
    except InputError as exc:
        exc.issues = [type(i)(i.level, i.code, i.message, f"{src}: {i.where}", i.suggestion) for i in exc.issues]
        raise
    if fmt == "case":
        from calcinosis.io.case import read_case

        findings = read_case(obj, src)
    elif fmt == "phenopacket":
        from calcinosis.io.phenopacket import read_phenopacket

        findings = read_phenopacket(obj, src)
    else:
        from calcinosis.io.fhir_in import read_bundle

        findings = read_bundle(obj, src, as_of=as_of, kb=kb)
    if kb is not None:
        from calcinosis.core.checks import check_findings

        issues = [i for i in check_findings(findings, kb) if i.level == "error"]
        if issues:
            raise InputError(issues[0].message, where=issues[0].where, issues=issues, code=issues[0].code)
    return findings


def read_path(path: str | Path, *, kb: Any = None, as_of: str | None = None) -> Findings:
    """Read one input file. Raises InputError naming the file (and field or line) on bad input."""
    p = Path(path)
    src = str(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", where=src, code="FILE_NOT_FOUND") from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", where=src, code="FILE_NOT_FOUND") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", where=src, code="BAD_ENCODING") from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", where=src, code="FILE_UNREADABLE") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                         where=src, code="MALFORMED_JSON",
                         hint="check the file with a JSON validator") from None
    return read_obj(obj, src, kb=kb, as_of=as_of)
