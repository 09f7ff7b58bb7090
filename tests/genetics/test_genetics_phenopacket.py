"""Phenopacket v2 reader: real phenopacket-store files and fixtures of published patients."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from calcinosis.errors import InputError
from calcinosis.io.phenopacket import iso_duration_days, read_phenopacket
from calcinosis.io.read import read_path

REAL = sorted(Path("/work/shared/phenopackets").glob("*.json"))
FIX = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_real_phenopackets_parse_and_describe_no_skin_lesion(path):
    f = read_path(path)
    assert f.source_format == "phenopacket/2"
    assert f.hpo_present and all(h.startswith("HP:") for h in f.hpo_present)
    assert "HP:0000365" in f.hpo_present + f.hpo_excluded  # hearing impairment is coded in all three
    assert f.lesion_described is False
    assert any("no phenotypic feature describes a skin" in n for n in f.notes)
    assert f.extra["genetic_diagnoses"][0]["genes"] == ["ANKH"]


def test_real_phenopacket_fields():
    f = read_path(Path("/work/shared/phenopackets/PMID_20186813_6_year_old_male.json"))
    assert f.sex == "male"
    assert f.age_days == pytest.approx(9 * 365.25)
    assert f.hpo_excluded == ("HP:0000365",)
    assert "Hearing impairment" in f.denied
    assert "Sclerosis of skull base" in f.history.other_conditions
    assert f.onset_age_days == pytest.approx(9 * 365.25)


@pytest.mark.parametrize("text,days", [("P9Y", 9 * 365.25), ("P1Y2M", 365.25 + 2 * 30.4375), ("P3W", 21),
                                       ("P10D", 10), ("P", None), ("9 years", None), ("-P1Y", None)])
def test_iso_duration_days(text, days):
    got = iso_duration_days(text)
    assert (got is None and days is None) or got == pytest.approx(days)


def _pkt(**subject):
    return {"id": "t", "subject": {"id": "s", **subject},
            "phenotypicFeatures": [{"type": {"id": "HP:0025520", "label": "Calcinosis cutis"}}],
            "metaData": {"created": "2026-01-01T00:00:00Z", "phenopacketSchemaVersion": "2.0.2"}}


def test_protobuf_error_names_file_and_field():
    with pytest.raises(InputError) as ei:
        read_phenopacket(_pkt(sex="BANANA"), "bad.json")
    assert ei.value.exit_code == 2
    msg = str(ei.value)
    assert "bad.json" in msg and "sex" in msg and "BANANA" in msg


@pytest.mark.parametrize("age,what", [("-P1Y", "negative"), ("P131Y", "130 years")])
def test_impossible_ages_are_refused(age, what):
    with pytest.raises(InputError) as ei:
        read_phenopacket(_pkt(timeAtLastEncounter={"age": {"iso8601duration": age}}), "age.json")
    assert what in str(ei.value) and "subject.timeAtLastEncounter" in str(ei.value)


def test_lesion_only_from_skin_features():
    f = read_phenopacket(_pkt(), "x.json")
    assert f.lesion_described and f.lesion.description == "Calcinosis cutis"
    obj = _pkt()
    obj["phenotypicFeatures"] = [{"type": {"id": "HP:0000934", "label": "Chondrocalcinosis"}}]
    assert read_phenopacket(obj, "x.json").lesion_described is False


def test_measurements_diseases_and_actions():
    obj = _pkt()
    obj["measurements"] = [
        {"assay": {"id": "LOINC:2777-1", "label": "Phosphate"},
         "value": {"quantity": {"unit": {"id": "UCUM:mg/dL", "label": "mg/dL"}, "value": 9.0}}},
        {"assay": {"id": "LOINC:2731-8", "label": "PTH"},
         "value": {"ontologyClass": {"id": "NCIT:C25493", "label": "Elevated"}}}]
    obj["diseases"] = [{"term": {"id": "OMIM:211900", "label": "HFTC1"}},
                       {"term": {"id": "MONDO:0005016", "label": "dermatomyositis"}, "excluded": True}]
    obj["medicalActions"] = [{"treatment": {"agent": {"id": "CHEBI:1", "label": "sevelamer"}}},
                             {"procedure": {"code": {"id": "NCIT:C1", "label": "excision"}}}]
    f = read_phenopacket(obj, "m.json")
    p, pth = f.labs
    assert (p.loinc, p.value, p.unit, p.reported_as) == ("2777-1", 9.0, "mg/dL", "value")
    assert (pth.loinc, pth.reported_as) == ("2731-8", "high")
    assert [(c.system, c.code) for c in f.codes_present] == [("omim", "211900")]
    assert [(c.system, c.code) for c in f.codes_absent] == [("mondo", "0005016")]
    assert f.history.medications == ("sevelamer",) and f.history.procedures == ("excision",)
    assert "dermatomyositis" in f.denied


@pytest.mark.parametrize("path", sorted(FIX.glob("*.json")), ids=lambda p: p.stem)
def test_fixtures_cite_their_source_and_describe_a_lesion(path):
    obj = json.loads(path.read_text())
    refs = obj["metaData"]["externalReferences"]
    assert refs and all(r.get("reference", "").startswith("http") for r in refs)
    assert path.name in (FIX / "README.md").read_text()
    f = read_phenopacket(copy.deepcopy(obj), str(path))
    assert f.lesion_described
