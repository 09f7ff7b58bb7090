"""The CLI contract: exit codes 0/1/2, data on stdout, messages on stderr, no traceback without --verbose,
the rest of a batch still assessed, an example in every --help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from calcinosis.cli.main import COMMAND_MODULES, run


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "calcinosis", *args], capture_output=True, text=True, timeout=120)


def test_example_prints_the_founding_case():
    p = cli("assess", "--example")
    assert p.returncode == 0, p.stderr
    assert "Type: idiopathic — Tumoral calcinosis" in p.stdout
    assert "Strategy: watchful waiting" in p.stdout
    assert "not a diagnosis" in p.stdout


def write(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    return str(f)


@pytest.mark.parametrize("content,expect", [
    ("{not json", "malformed JSON"),
    ('{"format": "calcinosis-case/9"}', "unknown format"),
    ('[1, 2]', "unknown input format"),
    ('{"format": "calcinosis-case/1", "id": "x", "age_months": -3}', "age_months: impossible age"),
    ('{"format": "calcinosis-case/1", "id": "x", "age_months": 2400}', "age_months: impossible age"),
    ('{"format": "calcinosis-case/1", "id": "x", "sex": "robot"}', "sex: unknown sex"),
    ('{"format": "calcinosis-case/1", "id": "x", "painful": "maybe"}', "painful: must be true, false or null"),
    ('{"format": "calcinosis-case/1", "id": "x", "labs": [{"analyte": "calcium", "value": -2, "unit": "mmol/L"}]}',
     "labs[0].value"),
    ('{"format": "calcinosis-case/1", "id": "x", "labs": [{"analyte": "calcium", "value": 2.4, "unit": "furlongs"}]}',
     "labs[0].unit"),
    ('{"format": "calcinosis-case/1", "id": "x", "labs": [{"analyte": "calcium", "value": 2.4, "unit": "U/L"}]}',
     "labs[0].unit"),
    ('{"format": "calcinosis-case/1", "id": "x", "labs": "lots"}', "labs: must be a list"),
    ('{"resourceType": "Patient", "id": "p"}', "resourceType"),
])
def test_bad_input_names_file_and_field_exit_2_no_traceback(tmp_path, content, expect):
    bad = write(tmp_path, "bad.json", content)
    p = cli("assess", bad)
    assert p.returncode == 2
    assert "bad.json" in p.stderr and expect in p.stderr
    assert "Traceback" not in p.stderr
    assert p.stdout == ""


def test_batch_goes_on_after_a_bad_file(tmp_path, cases_dir):
    bad = write(tmp_path, "broken.json", "{")
    good = str(cases_dir / "dev" / "randhawa2018-seed.json")
    p = cli("assess", bad, good, "--format", "jsonl")
    assert p.returncode == 2
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == "randhawa2018-seed"
    assert "broken.json" in p.stderr and "1 of 2 input(s) refused" in p.stderr


def test_jsonl_one_line_per_file_in_order(cases_dir):
    files = sorted((cases_dir / "dev").glob("*.json"))[:3]
    p = cli("assess", *map(str, files), "--format", "jsonl")
    assert p.returncode == 0
    ids = [json.loads(x)["id"] for x in p.stdout.splitlines()]
    assert ids == [json.loads(f.read_text())["id"] for f in files]


def test_html_output_is_a_document():
    p = cli("assess", "--example", "--format", "html")
    assert p.returncode == 0 and p.stdout.startswith("<!doctype html>")
    assert 'data-strategy="watchful_waiting"' in p.stdout


def test_usage_errors_exit_2():
    assert run(["assess", "--example", "--format", "xml"]) == 2
    assert run(["assess"]) == 2
    assert run(["assess", "--example", "--as-of", "yesterday"]) == 2
    assert run(["no-such-command"]) == 2


def test_missing_file_exit_2(capsys):
    assert run(["assess", "/nonexistent/case.json"]) == 2
    assert "file not found" in capsys.readouterr().err


def test_verbose_shows_traceback_on_internal_error(monkeypatch, capsys):
    import calcinosis.cli.assess as mod

    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(mod, "assess_files", boom)
    assert run(["assess", "--example"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom" in err and "Traceback" not in err
    assert run(["--verbose", "assess", "--example"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_every_command_help_has_an_example(capsys):
    import importlib

    import typer.main

    from calcinosis.cli.main import app

    group = typer.main.get_command(app)
    names = list(group.commands)
    assert {"assess", "evaluate", "kb"} <= set(names)
    for name in names:
        cmd = group.commands[name]
        subs = getattr(cmd, "commands", None)
        for c in ([cmd] + list(subs.values()) if subs else [cmd]):
            assert "Example" in (c.help or ""), f"{name} {c.name}: no example in --help"
    for m in COMMAND_MODULES:
        try:
            importlib.import_module(m)
        except ModuleNotFoundError:
            pytest.fail(f"command module {m} is listed but missing")


def test_evaluate_command_json(cases_dir):
    p = cli("evaluate", str(cases_dir / "dev"), "--expected", str(cases_dir / "dev-expected.json"), "--format", "json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    assert rep["type_correct"] >= 17 and rep["watchful_waiting_where_unsafe"] == 0


def test_kb_commands():
    p = cli("kb", "validate")
    assert p.returncode == 0 and "valid" in p.stdout
    p = cli("kb", "show", "tumoral_calcinosis", "--format", "json")
    assert p.returncode == 0 and json.loads(p.stdout)["id"] == "tumoral_calcinosis"
    p = cli("kb", "show", "no-such-thing")
    assert p.returncode == 2 and "no topic or entry" in p.stderr


def test_hpo_ranking_refines_the_genetic_part():
    from pathlib import Path

    fixture = str(Path(__file__).resolve().parents[1] / "genetics" / "fixtures" / "rafaelsen2014_galnt3_brother.json")
    p = cli("assess", fixture, "--hpo", "--format", "json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["knowledge"]["hpo_release"]
    assert any("GALNT3" in g["genes"] for g in d["genetic"][:3])


def test_missing_optional_backend_names_the_extra():
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'sqlalchemy':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from calcinosis.cli.main import run\n"
        "sys.exit(run(['registry', 'init', '--db', 'sqlite:///:memory:']))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    assert "pip install 'calcinosis[registry]'" in p.stderr and "Traceback" not in p.stderr


def test_evaluate_leaves_out_a_refused_lab_and_says_so(tmp_path, cases_dir):
    import shutil

    d = tmp_path / "cases"
    d.mkdir()
    shutil.copy(cases_dir / "dev" / "randhawa2018-seed.json", d)
    obj = json.loads((d / "randhawa2018-seed.json").read_text())
    obj["labs"][0] = {"analyte": "calcium", "value": -3, "unit": "mg/dL", "reported_as": "value"}
    (d / "randhawa2018-seed.json").write_text(json.dumps(obj))
    p = cli("evaluate", str(d), "--expected", str(cases_dir / "dev-expected.json"), "--format", "json")
    assert p.returncode == 0, p.stderr
    rep = json.loads(p.stdout)
    row = rep["rows"][0]
    assert row["type_ok"] and row["refused_labs"] and "labs[0].value" in p.stderr
    assert row["strategy"] == "complete_workup"  # calcium now counts as not measured: no watchful waiting
