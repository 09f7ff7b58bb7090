"""The clinician web page (form and upload) and the JSON API, in process; the browser tests drive the same
pages through chromium (test_service_browser.py)."""

from __future__ import annotations

import json

import pytest
from svc_helpers import DEV, load_bundle

SEED_FORM = {
    "age": "7", "age_unit": "months", "onset_age": "5",
    "lesion_sites": "back, back, left thigh (medial)", "lesion_count": "multiple",
    "painful": "no", "inflammation": "no",
    "lesion_description": "painless irregular subcutaneous nodules on the back and thigh",
    "h_trauma": "no", "h_family_history": "no",
    "histology": "fine needle aspiration cytology: features of tumoral calcinosis",
    **{f"lab_analyte_{i}": a for i, a in enumerate(["calcium", "phosphorus", "alkaline phosphatase",
                                                     "parathyroid hormone", "25-hydroxy vitamin D"])},
    **{f"lab_reported_as_{i}": "normal" for i in range(5)},
}


def test_home_page_has_form_upload_and_intended_use(client_dev):
    r = client_dev.get("/")
    assert r.status_code == 200
    for needle in ('id="case-form"', 'id="upload-form"', 'type="file"', "not a diagnosis", 'name="lab_value_0"'):
        assert needle in r.text
    for path in ("/about", "/view/x"):
        assert "not a diagnosis" in client_dev.get(path).text  # intended use on every page


def test_form_founding_case(client_dev):
    r = client_dev.post("/", data=SEED_FORM)
    assert r.status_code == 200, r.text[:2000]
    text = r.text.lower()
    assert "tumoral calcinosis" in text and "watchful waiting" in text
    assert 'value="7"' in r.text  # the form keeps what was entered


@pytest.mark.parametrize("field, value, where", [
    ("age", "seven", "web form: age"),
    ("age", "-3", "age_months"),
    ("painful", "perhaps", "web form: painful"),
    ("lab_value_0", "high-ish", "laboratory row 1"),
])
def test_form_errors_name_the_field(client_dev, field, value, where):
    r = client_dev.post("/", data={**SEED_FORM, field: value})
    assert r.status_code == 422
    assert 'id="errors"' in r.text and where in r.text


def test_upload_case_phenopacket_and_bundle(client_dev):
    seed_case = (DEV / "randhawa2018-seed.json").read_bytes()
    r = client_dev.post("/upload", files={"file": ("seed.json", seed_case, "application/json")})
    assert r.status_code == 200 and "tumoral calcinosis" in r.text.lower() and "uploaded: seed.json" in r.text
    bundle = json.dumps(load_bundle("timmis2010-calciphylaxis-17y")).encode()
    r = client_dev.post("/upload", files={"file": ("t.json", bundle, "application/fhir+json")})
    assert r.status_code == 200 and "calciphylaxis" in r.text.lower()


@pytest.mark.parametrize("content, message", [
    (b"{not json", "malformed JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b'{"format": "calcinosis-case/9"}', "unknown format"),
    (b'{"format": "calcinosis-case/1", "id": "x", "age_months": -4}', "age_months"),
    (b'{"resourceType": "Patient"}', "not supported"),
])
def test_bad_upload_is_a_clear_4xx_page(client_dev, content, message):
    r = client_dev.post("/upload", files={"file": ("bad.json", content, "application/json")})
    assert 400 <= r.status_code < 500
    assert 'id="errors"' in r.text and message in r.text and "bad.json" in r.text


def test_upload_without_file_is_4xx(client_dev):
    r = client_dev.post("/upload", data={"x": "1"})
    assert 400 <= r.status_code < 500 and "no file" in r.text


def test_assess_json_api(client_dev):
    case = json.loads((DEV / "randhawa2018-seed.json").read_text())
    r = client_dev.post("/assess", json=case)
    assert r.status_code == 200
    a = r.json()
    assert a["classification"]["type"] == "idiopathic"
    assert a["management"]["strategy"] == "watchful_waiting"
    assert a["knowledge"]["version"] and a["intended_use"]
    bad = client_dev.post("/assess", content=b"[1,", headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["issues"][0]["code"] == "MALFORMED_JSON"
    r = client_dev.post("/assess", json={**case, "sex": "robot"})
    assert r.status_code == 422 and any("sex" in i["where"] for i in r.json()["issues"])


def test_assess_fhir_returns_a_valid_r4_bundle(client_dev):
    from fhir.resources.R4B.bundle import Bundle

    r = client_dev.post("/assess/fhir", json=load_bundle("randhawa2018-seed"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    b = Bundle.model_validate(r.json())
    kinds = {e.resource.get_resource_type() for e in b.entry}
    assert {"ClinicalImpression", "CarePlan"} <= kinds
