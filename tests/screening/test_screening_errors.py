"""Bad input: counted and reported with file and line, the run goes on; past --max-errors it stops (exit 2)."""

import gzip
import json

from calcinosis.cli.main import run

PAT = '{"resourceType":"Patient","id":"%s","birthDate":"%s","gender":"female"}'
L94 = ('{"resourceType":"Condition","id":"c%s","subject":{"reference":"Patient/%s"},"recordedDate":"2026-11-01",'
       '"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"L94.2"}],'
       '"text":"calcinosis cutis"}}')


def make_export(d, gz=False, manifest=False):
    d.mkdir()
    pats = [PAT % ("a", "2025-06-01"), PAT % ("b", "2090-01-01")]  # line 2: born after the as-of date
    conds = [L94 % (1, "a"), "{not json", '{"resourceType":"Spaceship","id":"x"}', L94 % (2, "ghost"),
             '{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/a"},'
             '"code":{"coding":[{"system":"http://loinc.org","code":"17861-6"}]},'
             '"valueQuantity":{"value":-3,"unit":"mg/dL"}}']
    (d / "Patient.ndjson").write_text("\n".join(pats) + "\n")
    if gz:
        with gzip.open(d / "Condition.1.ndjson.gz", "wt") as fh:
            fh.write("\n".join(conds) + "\n")
    else:
        (d / "Condition.1.ndjson").write_text("\n".join(conds) + "\n")
    if manifest:
        names = ["Patient.ndjson", "Condition.1.ndjson.gz" if gz else "Condition.1.ndjson"]
        (d / "manifest.json").write_text(json.dumps({"transactionTime": "2026-11-24T00:00:00Z",
                                                     "output": [{"type": n.split(".")[0], "url": n} for n in names]}))
    return d


def errors_of(out):
    return (out / "errors.csv").read_text().splitlines()[1:]


def test_bad_lines_are_reported_with_file_and_line_and_the_run_goes_on(tmp_path, capsys):
    exp = make_export(tmp_path / "exp")
    rc = run(["screen", str(exp), "--out", str(tmp_path / "out"), "--as-of", "2026-11-24", "--no-progress"])
    assert rc == 0
    errs = errors_of(tmp_path / "out")
    assert "Condition.1.ndjson: line 2,MALFORMED_LINE,malformed NDJSON line (not a JSON object)" in errs
    assert any(e.startswith("Condition.1.ndjson: line 3,UNKNOWN_TYPE") for e in errs)
    assert any(e.startswith("Condition.1.ndjson: line 4,DANGLING_REFERENCE") for e in errs)
    assert any(e.startswith("Condition.1.ndjson: line 5,IMPOSSIBLE_VALUE") for e in errs)
    assert any(e.startswith("Patient.ndjson: line 2,IMPOSSIBLE_VALUE") for e in errs)
    assert len(errs) == 5
    rows = (tmp_path / "out" / "screen.csv").read_text().splitlines()
    assert rows[1].startswith("a,")  # the good candidate was still assessed
    assert "5 input errors" in capsys.readouterr().err


def test_gzip_and_manifest(tmp_path):
    exp = make_export(tmp_path / "exp", gz=True, manifest=True)
    assert run(["screen", str(exp), "--out", str(tmp_path / "out"), "--no-progress"]) == 0  # as-of from manifest
    assert any(e.startswith("Condition.1.ndjson.gz: line 2,MALFORMED_LINE") for e in errors_of(tmp_path / "out"))


def test_past_max_errors_it_stops_with_exit_2(tmp_path, capsys):
    exp = make_export(tmp_path / "exp")
    rc = run(["screen", str(exp), "--out", str(tmp_path / "out"), "--as-of", "2026-11-24", "--max-errors", "2",
              "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "stopped after 5 input errors (--max-errors 2)" in err and "Traceback" not in err


def test_empty_or_missing_folder_exit_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert run(["screen", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    assert "no NDJSON files" in capsys.readouterr().err
    assert run(["screen", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "export folder not found" in capsys.readouterr().err


def test_bad_as_of_exit_2(tmp_path, capsys):
    exp = make_export(tmp_path / "exp")
    assert run(["screen", str(exp), "--out", str(tmp_path / "o"), "--as-of", "yesterday"]) == 2
    assert "--as-of" in capsys.readouterr().err


def test_a_bad_line_repeated_in_a_file_is_reported_at_each_of_its_lines(tmp_path):
    d = tmp_path / "exp"
    d.mkdir()
    (d / "Patient.ndjson").write_text(PAT % ("a", "2025-06-01") + "\n")
    (d / "Condition.ndjson").write_text("\n".join(["{not json", L94 % (1, "a"), "{not json", "{not json"]) + "\n")
    assert run(["screen", str(d), "--out", str(tmp_path / "out"), "--as-of", "2026-11-24", "--no-progress"]) == 0
    errs = [e.split(",")[0] for e in errors_of(tmp_path / "out")]
    assert errs == ["Condition.ndjson: line 1", "Condition.ndjson: line 3", "Condition.ndjson: line 4"]


def test_whole_resource_validation_is_opt_in(tmp_path):
    """A candidate with an element that is not FHIR R4 is assessed from what the reader uses; with
    --fhir-validate it is refused (NOT_ASSESSABLE, naming the element)."""
    d = tmp_path / "exp"
    d.mkdir()
    (d / "Patient.ndjson").write_text(PAT % ("a", "2025-06-01") + "\n")
    odd = json.loads(L94 % (1, "a"))
    odd["severityScore"] = 3  # not an element of Condition
    (d / "Condition.ndjson").write_text(json.dumps(odd) + "\n")
    args = ["screen", str(d), "--as-of", "2026-11-24", "--no-progress"]
    assert run([*args, "--out", str(tmp_path / "lenient")]) == 0
    assert (tmp_path / "lenient" / "screen.csv").read_text().splitlines()[1].startswith("a,")
    assert errors_of(tmp_path / "lenient") == []
    assert run([*args, "--out", str(tmp_path / "strict"), "--fhir-validate"]) == 0
    errs = errors_of(tmp_path / "strict")
    assert len(errs) == 1 and errs[0].startswith("Patient/a,NOT_ASSESSABLE") and "severityScore" in errs[0]
    assert len((tmp_path / "strict" / "screen.csv").read_text().splitlines()) == 1  # header only
