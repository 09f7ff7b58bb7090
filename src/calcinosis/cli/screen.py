"""`calcinosis screen`: screen a FHIR Bulk Data export folder for calcinosis cutis candidates."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = """Screen a FHIR Bulk Data export (Type.ndjson / Type.N.ndjson, gzipped or not) for calcinosis cutis.

Candidates (calcification codes, calcified-nodule findings, risk contexts; see kb/data/screening.yaml) are
assessed by the same reader and core as `calcinosis assess`. Writes screen.csv, screen.parquet,
assessments.ndjson, errors.csv and summary.html to --out.

Example:

  calcinosis synth --patients 2000 --out export --seed 1 && calcinosis screen export --out screen
"""


def register(app: typer.Typer) -> None:
    @app.command("screen", help=HELP)
    def screen_cmd(
        export_dir: Path = typer.Argument(..., help="Bulk Data export folder."),
        out: Path = typer.Option(..., "--out", help="Output folder."),
        engine: str = typer.Option("duckdb", "--engine", help="duckdb (embedded) or spark."),
        as_of: str = typer.Option(None, "--as-of", help="Screen as of this date (YYYY-MM-DD); default: the "
                                  "manifest's transactionTime, else today."),
        master: str = typer.Option(None, "--master", help="Spark master URL (default local[*])."),
        max_errors: int = typer.Option(100, "--max-errors", min=0, help="Stop (exit 2) past this many input errors."),
        workers: int = typer.Option(1, "--workers", min=1, help="Processes assessing candidates (duckdb engine)."),
        no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar on stderr."),
        fhir_validate: bool = typer.Option(False, "--fhir-validate", help="Validate each candidate's resources "
                                           "whole against the FHIR R4 models before reading (slower; a "
                                           "non-conformant element makes the candidate not assessable)."),
    ) -> None:
        import sys

        from calcinosis.screening.run import screen

        s = screen(export_dir, out, engine=engine, as_of=as_of, master=master, max_errors=max_errors,
                   progress=not no_progress, workers=workers, fhir_validate=fhir_validate)
        print(f"screened {s.patients} patients ({s.resources} resources, {s.files} files) as of {s.as_of}: "
              f"{s.candidates} candidates, {s.assessed} assessed, {s.errors} input errors", file=sys.stderr)
        for code, n in s.error_counts.items():
            print(f"  {code}: {n} (see {s.outputs['errors']})", file=sys.stderr)
        print(s.outputs["csv"])
