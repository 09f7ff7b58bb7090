"""Pure genetic part: features to HPO, triggers, the PTH-resistance caution, knowledge validation."""

from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import dataclass

import pytest

from calcinosis.core.genetic import features_to_hpo, fired_triggers, genes_to_test, genetic_differential
from calcinosis.core.model import Findings, History, Lesion
from calcinosis.kb import load_kb
from calcinosis.kb.validate_genetic import genetic_knowledge


@dataclass(frozen=True)
class R:  # a LabReading stand-in: analyte id and flag are all the genetic part reads
    analyte: str
    flag: str
    value: float | None = None
    unit: str | None = None


@pytest.fixture(scope="module")
def kb():
    return load_kb()


def test_text_and_labs_map_to_hpo_through_the_core_lexicon(kb):
    from calcinosis.core.evidence import extract

    f = Findings(id="t", lesion=Lesion(sites=("forearm",), description="hard subcutaneous nodules"),
                 history=History(other_conditions=("round face", "brachydactyly", "no obesity")),
                 histology="lamellar bone with osteocytes")
    ev = extract(f, (), (), kb)
    present, excluded = features_to_hpo(f, ev, [R("phosphate", "high"), R("pth", "normal")], kb)
    assert {"HP:0000311", "HP:0001156", "HP:0002905"} <= set(present)
    assert "HP:0001513" in excluded  # "no obesity" is a negated mention
    assert "HP:0003165" in excluded  # PTH normal speaks against raised PTH
    assert not set(present) & set(excluded)


def test_ossification_with_pth_resistance_names_gnas_and_the_trap(kb):
    # osteoma cutis + low Ca, high P, high PTH: PHP1A picture, must not be read as metastatic calcinosis
    f = Findings(id="php", age_days=3 * 365, lesion=Lesion(description="hard plaques"),
                 hpo_present=("HP:0034282", "HP:0000311", "HP:0001156"))
    rd = [R("calcium_total", "low"), R("phosphate", "high"), R("pth", "high")]
    items = genetic_differential(f, None, rd, kb)
    assert items[0].id == "OMIM:103580" and items[0].genes == ("GNAS",)
    assert "PTH resistance" in items[0].separating_test and "not calcinosis" in items[0].separating_test
    ids = {t["id"] for t, _ in fired_triggers(f, None, rd, kb)}
    assert {"subcutaneous_ossification", "aho_features", "pth_resistance_pattern"} <= ids
    assert genes_to_test(items)[0] == "GNAS"


def test_no_trigger_no_genetic_part(kb):
    f = Findings(id="plain", age_days=200, lesion=Lesion(description="firm nodule on the thigh"))
    assert genetic_differential(f, None, [R("phosphate", "normal")], kb) == ()


def test_renal_failure_blocks_the_hftc_trigger(kb):
    f = Findings(id="ckd", lesion=Lesion(description="calcified nodules"), history=History(renal_failure=True))
    assert genetic_differential(f, None, [R("phosphate", "high")], kb) == ()
    f2 = Findings(id="hftc", lesion=Lesion(description="calcified nodules"))
    items = genetic_differential(f2, None, [R("phosphate", "high")], kb)
    assert {i.genes[0] for i in items} == {"GALNT3", "FGF23", "KL"}


def test_normal_phosphate_counts_against_hftc(kb):
    f = Findings(id="fam", lesion=Lesion(description="calcified masses"), history=History(family_history=True),
                 hpo_present=("HP:0025520",))
    items = genetic_differential(f, None, [R("phosphate", "normal")], kb)
    assert items[0].genes == ("SAMD9",)
    hftc = next(i for i in items if i.id == "OMIM:211900")
    assert hftc.features_against and hftc.score < items[0].score


def test_validator_reports_every_problem_with_file_and_entry(kb):
    data = copy.deepcopy(kb.data)
    data["genetic"]["diseases"][0]["genes"] = []
    data["genetic"]["triggers"][0]["suggests"] = ["nope"]
    data["genetic"]["triggers"][1]["when"]["hpo_any"] = ["HP:12"]
    data["concepts_genetic"]["hpo_map"][0]["hpo"] = "HPO:1"
    problems = genetic_knowledge(data)
    assert len(problems) == 4
    assert any("diseases[hftc1]" in p and "genes" in p for p in problems)
    assert any("unknown disease 'nope'" in p for p in problems)
    assert all(p.startswith(("genetic.yaml", "concepts_genetic.yaml")) for p in problems)


def test_core_genetic_stays_pure():
    code = ("import sys, calcinosis.core.genetic; bad = [m for m in sys.modules if m.split('.')[0] in "
            "('pyhpo', 'fastapi', 'sqlalchemy', 'pyspark', 'duckdb')]; print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
