"""Bad FHIR input -> InputError naming the file, the resource and the field; never an uncaught exception."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import fhir_examples as ex
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcinosis.errors import InputError
from calcinosis.io.fhir_in import read_bundle, read_resources
from calcinosis.io.read import read_path

AS_OF = "2026-11-24"
DEV_FHIR = Path("/work/shared/cases/dev-fhir")


def wheres(exc: InputError) -> list[str]:
    return [i.where for i in exc.issues]


def test_wrong_value_type_names_resource_and_field(fhir_kb):
    obs = ex.calcium(oid="obs-3")
    obs["valueQuantity"]["value"] = "abc"
    with pytest.raises(InputError) as e:
        read_bundle(ex.bundle(ex.patient(), obs), "bad.json", as_of=AS_OF, kb=fhir_kb)
    assert "bad.json: Observation/obs-3: valueQuantity.value" in wheres(e.value)
    assert e.value.exit_code == 2


def test_missing_required_field(fhir_kb):
    obs = ex.calcium(oid="obs-4")
    del obs["status"]
    with pytest.raises(InputError) as e:
        read_resources([ex.patient(), obs], "bad.json", as_of=AS_OF, kb=fhir_kb)
    assert any(w.startswith("bad.json: Observation/obs-4") for w in wheres(e.value))
    assert "status" in str(e.value)


def test_every_problem_is_reported_at_once(fhir_kb):
    a = ex.calcium(oid="a")
    a["valueQuantity"]["value"] = "x"
    b = ex.patient()
    b["birthDate"] = 20200101
    with pytest.raises(InputError) as e:
        read_resources([b, a, {"id": "no-type"}], "bad.json", as_of=AS_OF, kb=fhir_kb)
    ws = wheres(e.value)
    assert "bad.json: resources[2]: resourceType" in ws
    assert any(w.startswith("bad.json: Observation/a") for w in ws)
    assert any(w.startswith("bad.json: Patient/example: birthDate") for w in ws)


@pytest.mark.parametrize("entry,where", [
    ("not an object", "bad.json: entry[1]"),
    ({"fullUrl": "urn:uuid:1"}, "bad.json: entry[1]: resource"),
    ({"resource": {"resourceType": "NoSuchType", "id": "x"}}, "bad.json: NoSuchType/x: resourceType"),
])
def test_malformed_entries(fhir_kb, entry, where):
    b = ex.bundle(ex.patient())
    b["entry"].append(entry)
    with pytest.raises(InputError) as e:
        read_bundle(b, "bad.json", as_of=AS_OF, kb=fhir_kb)
    assert where in wheres(e.value)


def test_dangling_references(fhir_kb):
    obs = ex.calcium(oid="o1", subject={"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"})
    med = ex.calcium_gluconate_administration(mid="m1")
    med["medicationReference"] = {"reference": "#missing"}
    with pytest.raises(InputError) as e:
        read_bundle(ex.bundle(ex.patient(), obs, med), "bad.json", as_of=AS_OF, kb=fhir_kb)
    assert "bad.json: Observation/o1: subject.reference" in wheres(e.value)
    assert "bad.json: MedicationAdministration/m1: medicationReference.reference" in wheres(e.value)
    assert all(i.code == "FHIR_DANGLING_REFERENCE" for i in e.value.issues)


def test_two_patients_without_a_patient_id(fhir_kb):
    with pytest.raises(InputError) as e:
        read_resources([ex.patient(pid="a"), ex.patient(pid="b")], "two.json", as_of=AS_OF, kb=fhir_kb)
    assert e.value.code == "FHIR_SEVERAL_PATIENTS"


def test_impossible_dates(fhir_kb):
    with pytest.raises(InputError) as e:
        read_resources([ex.patient(birth="2027-01-01")], "p.json", as_of=AS_OF, kb=fhir_kb)
    assert "after the as-of date" in str(e.value)
    with pytest.raises(InputError) as e:
        read_resources([ex.patient()], "p.json", as_of="2026-11", kb=fhir_kb)
    assert e.value.code == "BAD_AS_OF"


def test_not_a_bundle_and_not_a_list(fhir_kb):
    with pytest.raises(InputError):
        read_bundle(ex.patient(), "p.json", kb=fhir_kb)
    with pytest.raises(InputError):
        read_resources(ex.patient(), "p.json", kb=fhir_kb)  # type: ignore[arg-type]


def test_read_path_names_the_file(tmp_path, fhir_kb):
    obs = ex.calcium(oid="obs-3")
    obs["valueQuantity"]["value"] = [1]
    p = tmp_path / "broken.json"
    p.write_text(json.dumps(ex.bundle(ex.patient(), obs)))
    with pytest.raises(InputError) as e:
        read_path(p, as_of=AS_OF)
    assert f"{p}: Observation/obs-3: valueQuantity.value" in wheres(e.value)


_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8),
                    st.floats(allow_nan=True), st.lists(st.integers(), max_size=2), st.dictionaries(
                        st.text(max_size=3), st.integers(), max_size=2))


def _paths(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield path + (k,)
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield path + (i,)
            yield from _paths(v, path + (i,))


_SEED = json.loads((DEV_FHIR / "tan2006-infant-esrd.json").read_text()) if DEV_FHIR.is_dir() else ex.bundle(
    ex.patient(), ex.calcium(), ex.lesion_condition())
_SEED_PATHS = list(_paths(_SEED))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_SEED_PATHS), _LEAVES, st.booleans())
def test_mutated_bundles_give_findings_or_input_error(fhir_kb, path, leaf, validate):
    """Any one value replaced by junk: Findings or InputError, with or without model validation."""
    b = copy.deepcopy(_SEED)
    node = b
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = leaf
    try:
        read_bundle(b, "mutated.json", as_of=AS_OF, kb=fhir_kb, validate=validate)
    except InputError as exc:
        assert all(i.where.startswith("mutated.json") for i in exc.issues)
