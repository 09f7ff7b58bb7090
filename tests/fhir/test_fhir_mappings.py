"""The FHIR mappings of the knowledge base: checked as a whole, every problem named; light imports."""

from __future__ import annotations

import copy
import subprocess
import sys

from calcinosis.io.fhir_map import check_mappings, compile_mappings, get_mappings


def test_packaged_mappings_are_valid_and_cached(fhir_kb):
    assert check_mappings(fhir_kb.data) == []
    assert get_mappings(fhir_kb) is get_mappings(fhir_kb)
    m = get_mappings(fhir_kb)
    assert m.interpretation["HH"] == "high"
    assert m.flags["renal_failure"].match_code("icd10cm", "N18.5")
    assert not m.flags["renal_failure"].match_code("icd10cm", "N18.1")  # CKD stage 1 is not renal failure


def test_every_problem_is_reported_with_file_and_entry(fhir_kb):
    data = copy.deepcopy(fhir_kb.data["fhir_mappings"])
    data["interpretation"]["map"]["H"] = "very high"
    data["lesion_fields"]["keys"]["lesion colour"] = "colour"
    del data["history_flags"]["trauma"]["sources"]
    data["history_flags"]["dialysis"]["codes"].append({"system": "snomed"})
    del data["procedures"]
    problems = check_mappings({"fhir_mappings": data})
    assert problems == [
        "fhir_mappings.yaml: interpretation.map.H: unknown reported_as 'very high'",
        ("fhir_mappings.yaml: lesion_fields.keys.lesion colour: unknown field 'colour' "
        "(one of count, max_size_mm, painful, ulcerated, inflammation, age_text)"),
        "fhir_mappings.yaml: history_flags.trauma: no sources",
        "fhir_mappings.yaml: history_flags.dialysis.codes[4]: needs system and code",
        "fhir_mappings.yaml: procedures: missing or not a mapping",
    ]
    assert check_mappings({}) == ["fhir_mappings.yaml: missing"]


def test_every_mapping_section_cites_known_sources(fhir_kb):
    refs = fhir_kb.references
    data = fhir_kb.data["fhir_mappings"]
    sections = [v for k, v in data.items() if k != "history_flags"] + list(data["history_flags"].values())
    for sec in sections:
        assert sec["sources"] and all(s in refs for s in sec["sources"])


def test_reader_modules_import_no_fhir_models():
    code = ("import sys, calcinosis.io.fhir_in, calcinosis.io.fhir_out; "
            "print(any(m.startswith('fhir.resources') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compile_refuses_a_non_mapping():
    import pytest

    from calcinosis.errors import KnowledgeBaseError

    with pytest.raises(KnowledgeBaseError):
        compile_mappings(None)  # type: ignore[arg-type]
