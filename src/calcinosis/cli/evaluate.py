"""``calcinosis evaluate DIR --expected FILE``: accuracy against an answer key."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from calcinosis.errors import InputError


def evaluate_dir(directory: Path, expected: dict, as_of: str | None = None) -> dict:
    """Assess every case in ``directory`` and compare with the answer key; returns the report as data."""
    from calcinosis.core.assess import assess
    from calcinosis.io.read import read_path
    from calcinosis.kb import load_kb

    kb = load_kb()
    rows = []
    errors = []
    for path in sorted(directory.glob("*.json")):
        dropped: list[str] = []
        try:
            f = read_path(path, kb=kb, as_of=as_of)
        except InputError as exc:
            f = _without_refused_labs(path, exc, kb, as_of)
            if f is None:
                errors.append({"file": str(path), "error": str(exc)})
                continue
            dropped = [str(i) for i in exc.issues]
            print(f"warning: {path}: refused lab result(s) left out of the evaluation: " + "; ".join(dropped),
                  file=sys.stderr)
        key = expected.get(f.id) or expected.get(path.stem)
        if key is None:
            errors.append({"file": str(path), "error": f"no answer for id {f.id!r}"})
            continue
        a = assess(f, kb, as_of=as_of)
        c = a.classification
        accept = set(key.get("accept_types") or [key["type"]])
        words = key.get("subtype_words")
        sub_text = f"{c.subtype or ''} {c.subtype_label or ''}".lower().replace("_", " ")
        sub_hit = None if not words else any(w.lower() in sub_text for w in words)
        ww = a.management.strategy == "watchful_waiting"
        rows.append({
            "id": f.id, "expected_type": key["type"], "accept_types": sorted(accept), "type": c.type,
            "type_ok": c.type in accept, "subtype": c.subtype, "subtype_words": words, "subtype_ok": sub_hit,
            "certainty": c.certainty, "strategy": a.management.strategy,
            "authors_management": key.get("authors_management"),
            "watchful_waiting_unsafe": bool(key.get("watchful_waiting_unsafe")),
            "unsafe_waiting": ww and bool(key.get("watchful_waiting_unsafe")),
            "refused_labs": dropped,
        })
    n = len(rows)
    sub_rows = [r for r in rows if r["subtype_ok"] is not None]
    labels = sorted({r["expected_type"] for r in rows} | {str(r["type"]) for r in rows})
    confusion = {e: {p: 0 for p in labels} for e in labels}
    for r in rows:
        confusion[r["expected_type"]][str(r["type"])] += 1
    return {
        "cases": n,
        "type_correct": sum(r["type_ok"] for r in rows),
        "type_accuracy": round(sum(r["type_ok"] for r in rows) / n, 4) if n else None,
        "subtype_cases": len(sub_rows),
        "subtype_hits": sum(bool(r["subtype_ok"]) for r in sub_rows),
        "unsafe_waiting_cases": len([r for r in rows if r["watchful_waiting_unsafe"]]),
        "watchful_waiting_where_unsafe": sum(r["unsafe_waiting"] for r in rows),
        "confusion": confusion,
        "rows": rows,
        "errors": errors,
    }


def _without_refused_labs(path: Path, exc: InputError, kb, as_of):
    """For a case file refused only because of some lab results (impossible value, unknown unit), the case
    without those results (they count as not measured); None when anything else is wrong."""
    import re

    from calcinosis.io.read import read_obj

    idx = set()
    for issue in exc.issues:
        m = re.search(r"labs\[(\d+)\]", issue.where)
        if m is None:
            return None
        idx.add(int(m.group(1)))
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        obj["labs"] = [lab for i, lab in enumerate(obj.get("labs") or []) if i not in idx]
        return read_obj(obj, str(path), kb=kb, as_of=as_of)
    except (InputError, ValueError, AttributeError, TypeError):
        return None


def render_report(rep: dict) -> str:
    lines = [f"{'case':32} {'expected':14} {'got':14} {'ok':3} {'subtype':32} {'sub':4} {'strategy':22} unsafe-WW"]
    for r in rep["rows"]:
        sub = "-" if r["subtype_ok"] is None else ("yes" if r["subtype_ok"] else "NO")
        lines.append(f"{r['id'][:32]:32} {r['expected_type']:14} {r['type']!s:14} {'✓' if r['type_ok'] else '✗':3} "
                     f"{str(r['subtype'])[:32]:32} {sub:4} {r['strategy']:22} {'UNSAFE' if r['unsafe_waiting'] else ''}")
    lines.append("")
    lines.append(f"Type accuracy: {rep['type_correct']}/{rep['cases']} ({(rep['type_accuracy'] or 0) * 100:.1f} %)")
    lines.append(f"Subtype hits: {rep['subtype_hits']}/{rep['subtype_cases']}")
    lines.append(f"Watchful waiting advised where unsafe: {rep['watchful_waiting_where_unsafe']} "
                 f"(of {rep['unsafe_waiting_cases']} cases where it is unsafe)")
    lines.append("")
    lines.append("Confusion matrix (rows: expected, columns: assessed)")
    labels = list(rep["confusion"])
    lines.append(" " * 14 + "".join(f"{lbl[:11]:>12}" for lbl in labels))
    for e in labels:
        lines.append(f"{e[:13]:14}" + "".join(f"{rep['confusion'][e][p]:>12}" for p in labels))
    for err in rep["errors"]:
        lines.append(f"error: {err['file']}: {err['error']}")
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate_cmd(
        directory: Path = typer.Argument(..., help="Folder of case files."),
        expected: Path = typer.Option(..., "--expected", help="Answer key (format of dev-expected.json)."),
        fmt: str = typer.Option("text", "--format", "-f", help="text | json"),
        as_of: str = typer.Option(None, "--as-of", help="Assessment date for FHIR inputs."),
    ) -> None:
        """Run every case and print accuracy against an answer key.

        Example:

          calcinosis evaluate ../shared/cases/dev --expected ../shared/cases/dev-expected.json
        """
        if fmt not in ("text", "json"):
            raise typer.BadParameter("choose text or json", param_hint="--format")
        if not directory.is_dir():
            raise InputError("not a directory", where=str(directory), code="NOT_A_DIRECTORY")
        try:
            key = json.loads(expected.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("file not found", where=str(expected), code="FILE_NOT_FOUND") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON: {exc.msg} at line {exc.lineno}", where=str(expected),
                             code="MALFORMED_JSON") from None
        if not isinstance(key, dict):
            raise InputError("the answer key must be a JSON object keyed by case id", where=str(expected))
        rep = evaluate_dir(directory, key, as_of)
        if fmt == "json":
            print(json.dumps(rep, indent=2))
        else:
            sys.stdout.write(render_report(rep))
        if rep["errors"]:
            raise typer.Exit(2)
