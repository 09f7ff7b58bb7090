"""Property: any JSON value given to the readers yields an assessment or a clean InputError."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcinosis.core.assess import assess
from calcinosis.errors import InputError
from calcinosis.io.read import read_obj

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20)

CASE_KEYS = ["format", "id", "age_months", "sex", "onset_age_months", "lesion_sites", "lesion_count",
             "lesion_max_size_mm", "painful", "ulcerated", "inflammation", "lesion_description", "history",
             "labs", "histology", "imaging"]
LAB_KEYS = ["analyte", "value", "unit", "reported_as", "note", "reference_range"]

case_like = st.fixed_dictionaries(
    {"format": st.just("calcinosis-case/1")},
    optional={k: json_values for k in CASE_KEYS if k != "format"} | {
        "labs": st.lists(st.fixed_dictionaries({}, optional={k: json_values | st.sampled_from(
            ["calcium", "PTH", "mg/dL", "mmol/L", "normal", "high", "pg/mL"]) for k in LAB_KEYS}), max_size=4),
        "history": st.fixed_dictionaries({}, optional={k: json_values for k in (
            "trauma", "renal_failure", "dialysis", "family_history", "other_conditions",
            "connective_tissue_disease", "prior_injection_or_infusion", "calcium_or_phosphate_agent")}),
    })

phenopacket_like = st.fixed_dictionaries({"id": json_values, "subject": json_values,
                                          "phenotypicFeatures": json_values, "metaData": json_values})
_resource = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Patient", "Observation", "Condition"])},
    optional={"id": json_values, "birthDate": json_values, "code": json_values,
              "valueQuantity": json_values, "subject": json_values})
bundle_like = st.fixed_dictionaries({
    "resourceType": st.just("Bundle"), "type": json_values,
    "entry": st.lists(st.fixed_dictionaries({"resource": json_values | _resource}), max_size=4)})


def _check(kb, obj):
    try:
        f = read_obj(obj, "prop.json", kb=kb, as_of="2026-11-24")
    except InputError as exc:
        assert exc.issues and all(i.where for i in exc.issues)
        return
    a = assess(f, kb)
    assert a.classification.type in (None, "dystrophic", "metastatic", "idiopathic", "iatrogenic", "calciphylaxis", "mimic")
    json.dumps(a.management.strategy)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(obj=json_values | case_like | phenopacket_like | bundle_like)
def test_any_json_gives_assessment_or_clean_error(kb, obj):
    _check(kb, obj)
