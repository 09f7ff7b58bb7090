"""``calcinosis rank FILE``: rank rare and genetic causes by HPO similarity (needs the ``hpo`` extra)."""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum
from typing import Any

import typer

HELP = """Rank rare and genetic diseases of skin/soft-tissue calcification and ossification for one input
(case file, Phenopacket v2 or FHIR Bundle) by HPO similarity, each with matched, missing and contrary
features and the genes to test. Needs the 'hpo' extra (hpo3).

Example:

  calcinosis rank tests/genetics/fixtures/lucas2020_pxe_12y.json --format json --top 5
"""


def rank_document(path: str, *, top: int = 10) -> dict[str, Any]:
    """Read ``path``, map it to HPO terms and rank; returns the JSON-ready result."""
    from calcinosis.core.genetic import hpo_features
    from calcinosis.genetics.rank import core_inputs, get_ranker
    from calcinosis.io.read import read_path
    from calcinosis.kb import load_kb

    kb = load_kb()
    findings = read_path(path, kb=kb)
    evidence, readings = core_inputs(findings, kb)
    feats = hpo_features(findings, evidence, readings, kb)
    ranker = get_ranker(kb)
    _, notes = ranker.query(feats.present)
    items = ranker.rank(tuple(feats.present), tuple(feats.excluded), top=top)
    return {
        "id": findings.id,
        "knowledge": kb.describe(),
        "method": {**ranker.cfg.get("similarity", {}), "excluded_penalty": ranker.penalty,
                   "candidates": len(ranker.diseases)},
        "features": {"present": feats.present, "excluded": feats.excluded},
        "notes": [*findings.notes, *notes],
        "ranking": [{"rank": i + 1, **asdict(it)} for i, it in enumerate(items)],
    }


def _text(doc: dict[str, Any]) -> str:
    k = doc["knowledge"]
    lines = [f"{doc['id']}: HPO ranking (HPO {k.get('hpo_release', '?')}, knowledge base {k['version']})",
             f"features: {len(doc['features']['present'])} present, {len(doc['features']['excluded'])} excluded"]
    if not doc["ranking"]:
        lines.append("no HPO phenotype to rank with (no coded or recognised features)")
    for r in doc["ranking"]:
        genes = ", ".join(r["genes"]) or "-"
        lines.append(f"{r['rank']:>2}. {r['id']} {r['name']}  score {r['score']:.3f}  genes: {genes}")
        if r["features_for"]:
            lines.append(f"    matched: {'; '.join(r['features_for'])}")
        if r["features_against"]:
            lines.append(f"    against: {'; '.join(r['features_against'])}")
        lines.append(f"    {r['separating_test']}")
    return "\n".join(lines)


class Fmt(str, Enum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command("rank", help=HELP)
    def rank_cmd(
        file: str = typer.Argument(..., help="Input file: calcinosis-case/1 JSON, Phenopacket v2 or FHIR R4 Bundle."),
        fmt: Fmt = typer.Option(Fmt.text, "--format", "-f", help="Output format: text or json."),
        top: int = typer.Option(10, "--top", "-n", min=1, max=200, help="How many diseases to show."),
    ) -> None:
        doc = rank_document(file, top=top)
        typer.echo(json.dumps(doc, indent=2, ensure_ascii=False) if fmt is Fmt.json else _text(doc))
