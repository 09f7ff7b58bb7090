"""Shared helpers of the screening tests: a small synthetic export and its screen, made once per session."""

from __future__ import annotations

import csv
import json
from pathlib import Path

SEED = 7
PATIENTS = 2000
SEEDED_PER_1000 = 20.0  # ~40 seeded cases, every one of the 18 templates at least twice
RISK_PER_1000 = 10.0


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return {r["patient_id"]: r for r in csv.DictReader(fh)}


def patient_resources(export: Path, pid: str) -> list[dict]:
    """All resources of one patient, read naively line by line (independent of both engines)."""
    out = []
    for p in sorted(export.glob("*.ndjson")):
        for line in p.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            ref = (r.get("subject") or r.get("patient") or {}).get("reference")
            if (r["resourceType"] == "Patient" and r["id"] == pid) or ref == f"Patient/{pid}":
                out.append(r)
    return out
