"""`calcinosis synth`: write a synthetic FHIR R4 Bulk Data export with seeded calcinosis cases."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = """Write a synthetic FHIR R4 Bulk Data export (NDJSON + manifest.json + ground_truth.csv).

Background patients have unrelated resources; seeded patients are modelled on the 18 published cases
(varied ages, dates, sides, lab values); risk-context patients (CKD/dialysis, JDM, neonatal IV calcium)
have no lesion. Deterministic for a seed.

Example:

  calcinosis synth --patients 2000 --out export --seed 1
"""


def register(app: typer.Typer) -> None:
    @app.command("synth", help=HELP)
    def synth_cmd(
        patients: int = typer.Option(..., "--patients", min=1, help="Number of patients."),
        out: Path = typer.Option(..., "--out", help="Output folder (its *.ndjson files are replaced)."),
        seed: int = typer.Option(1, "--seed", help="Random seed."),
        workers: int = typer.Option(1, "--workers", min=1, help="Processes writing chunks."),
        seeded: float = typer.Option(None, "--seeded-per-1000", min=0, help="Seeded cases per 1,000 patients."),
        risk: float = typer.Option(None, "--risk-per-1000", min=0, help="Risk-context patients per 1,000."),
        as_of: str = typer.Option(None, "--as-of", help="Export date (YYYY-MM-DD)."),
        gz: bool = typer.Option(False, "--gzip", help="Write .ndjson.gz files."),
    ) -> None:
        import datetime as dt
        import sys

        from calcinosis.errors import InputError
        from calcinosis.screening.synth import synth

        if as_of is not None:
            try:
                dt.date.fromisoformat(as_of)
            except ValueError:
                raise InputError(f"--as-of must be YYYY-MM-DD, got {as_of!r}", where="--as-of") from None
        r = synth(patients, out, seed=seed, workers=workers, as_of=as_of, seeded_per_1000=seeded,
                  risk_per_1000=risk, gz=gz)
        print(f"wrote {r['patients']} patients ({r['seeded']} seeded, {r['risk_only']} risk-only) in "
              f"{r['files']} files", file=sys.stderr)
        print(str(out))
