"""The ``calcinosis registry`` commands: the founding case end to end, exit statuses, messages, exports."""

from __future__ import annotations

import json

import pytest
from conftest import SEED_CASE

from calcinosis.cli.main import run

TODAY = ["--today", "2018-01-01"]


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("CALCINOSIS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CALCINOSIS_REGISTRY_URL", raising=False)
    assert run(["registry", "init"]) == 0
    assert (tmp_path / "data" / "registry.sqlite").exists()  # the data folder is honoured
    return tmp_path


def seed(capsys):
    assert run(["registry", "add-patient", "P001", "--birth-date", "2017-01-15", "--case", SEED_CASE, *TODAY]) == 0
    visits = [["--date", "2017-06-15", "--lesion", "back#1:6x5", "--lesion", "back#2:5x4", "--lesion", "left thigh:5x4"],
              ["--date", "2017-08-15", "--lesion", "back#1:12x9", "--lesion", "back#2:10x8",
               "--lesion", "left thigh:9x7", "--lab", "calcium=2.4mmol/L"],
              ["--date", "2017-09-15", "--lesion", "back#1:7x5", "--lesion", "back#2:6x4", "--lesion", "left thigh:5x4"],
              ["--date", "2017-11-15", "--resolved", "back#1", "--resolved", "back#2", "--resolved", "left thigh"]]
    for v in visits:
        assert run(["registry", "add-visit", "P001", *v, *TODAY]) == 0
    capsys.readouterr()


def test_founding_case_through_the_cli(db, capsys):
    seed(capsys)
    assert run(["registry", "show", "P001", "--format", "json"]) == 0
    tl = json.loads(capsys.readouterr().out)
    assert tl["trajectory"]["current"] == "resolved" and tl["trajectory"]["resolved_date"] == "2017-11-15"
    assert [v["trajectory"] for v in tl["visits"]] == ["stable", "growing", "regressing", "resolved"]
    assert run(["registry", "show", "P001"]) == 0
    assert "trajectory resolved, resolved 2017-11-15" in capsys.readouterr().out


@pytest.mark.parametrize("args, field", [
    (["--date", "2017-07-01", "--lesion", "back:-3x2"], "lesions[0].longest_mm"),
    (["--date", "2017-07-01", "--lesion", "back:9000x2"], "lesions[0].longest_mm"),
    (["--date", "2016-07-01", "--lesion", "back:3x2"], "date"),
    (["--date", "2019-07-01", "--lesion", "back:3x2"], "date"),
    (["--date", "2017-07-01", "--resolved", "elbow"], "lesions[0].label"),
    (["--date", "2017-07-01", "--lab", "calcium=-1mmol/L"], "labs[0].value"),
    (["--date", "2017-13-01"], "--date"),
])
def test_bad_visit_exit_2_names_field(db, capsys, args, field):
    assert run(["registry", "add-patient", "P001", "--birth-date", "2017-01-15", *TODAY]) == 0
    capsys.readouterr()
    assert run(["registry", "add-visit", "P001", *args, *TODAY]) == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err
    assert run(["registry", "show", "P001", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["visits"] == []  # nothing written


def test_unknown_patient_and_unmigrated_db(db, tmp_path, capsys):
    assert run(["registry", "add-visit", "nobody", "--date", "2017-07-01", "--lesion", "back:3x2", *TODAY]) == 2
    assert "unknown patient" in capsys.readouterr().err
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert run(["registry", "show", "P001", "--db", url]) == 2
    assert "not initialised" in capsys.readouterr().err


def test_visit_from_json_file(db, tmp_path, capsys):
    assert run(["registry", "add-patient", "P002", "--age-months", "7", "--sex", "female", *TODAY]) == 0
    f = tmp_path / "visit.json"
    f.write_text(json.dumps({"date": "2017-12-20", "lesions": [{"label": "neck", "longest_mm": 8, "second_mm": 5}],
                             "findings": {"painful": False}}))
    assert run(["registry", "add-visit", "P002", "--json", str(f), "--reassess", "never", *TODAY]) == 0
    f.write_text(json.dumps({"date": "2017-12-21", "lesions": [{"label": "neck", "longest_mm": "big"}]}))
    assert run(["registry", "add-visit", "P002", "--json", str(f), *TODAY]) == 2
    assert "lesions[0].longest_mm" in capsys.readouterr().err


def test_exports(db, tmp_path, capsys):
    seed(capsys)
    assert run(["registry", "export", "P001", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("patient,visit_date,age_months,lesion,site,longest_mm")
    assert len(lines) == 1 + 12
    out = tmp_path / "b.json"
    assert run(["registry", "export", "P001", "--format", "fhir", "--out", str(out)]) == 0
    from fhir.resources.R4B.bundle import Bundle

    bundle = Bundle.model_validate_json(out.read_text())
    obs = [e.resource for e in bundle.entry if e.resource.__resource_type__ == "Observation"]
    assert len(obs) == 12
    first = next(o for o in obs if o.effectiveDateTime.isoformat().startswith("2017-08-15") and o.bodySite.text == "back")
    comp = {c.code.coding[0].code: c.valueQuantity for c in first.component}
    assert comp["33728-7"].code == "mm" and comp["33728-7"].system == "http://unitsofmeasure.org"
    assert float(comp["33728-7"].value) in (12.0, 10.0)


def test_report_html_pdf_and_chart(db, tmp_path, capsys):
    seed(capsys)
    html, pdf, svg = tmp_path / "r.html", tmp_path / "r.pdf", tmp_path / "c.svg"
    assert run(["registry", "report", "P001", "--out", str(html)]) == 0
    text = html.read_text()
    from html import escape

    from calcinosis import INTENDED_USE

    assert escape(INTENDED_USE) in text and "data:image/png;base64," in text
    assert "resolved on 2017-11-15" in text and "watchful_waiting" in text
    assert run(["registry", "report", "P001", "--out", str(pdf)]) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert run(["registry", "report", "P001", "--out", str(svg)]) == 0
    assert "<svg" in svg.read_text()
    assert run(["registry", "report", "P001", "--out", str(tmp_path / "r.docx")]) == 2


@pytest.mark.parametrize("cmd", ["init", "add-patient", "add-visit", "show", "report", "export"])
def test_help_has_an_example(cmd, capsys):
    assert run(["registry", cmd, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example:" in out and "calcinosis registry" in out
