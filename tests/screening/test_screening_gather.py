"""The DuckDB engine's passes on a tiny hand-made export: the candidates' lines are gathered completely, also
when a candidate's signal is found only after some of its files were read (a signal in a file read later, or in
a file of another type), and the files are reported in the export's order whatever order they were read in."""

import datetime as dt
import json

import pytest

from calcinosis.kb import load_kb
from calcinosis.screening.config import load_config
from calcinosis.screening.duck import DuckEngine
from calcinosis.screening.export import ErrorLog, discover
from calcinosis.screening.run import decide_candidates

AS_OF = dt.date(2026, 11, 24)


def res(rt, rid, pid, **kw):
    return json.dumps({"resourceType": rt, "id": rid, "subject": {"reference": f"Patient/{pid}"}, **kw})


L94 = {"code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "L94.2"}]},
       "recordedDate": "2026-10-01"}
COLD = {"code": {"text": "common cold"}, "recordedDate": "2026-10-01"}


def make_export(d):
    d.mkdir()
    files = {
        "Patient.ndjson": [json.dumps({"resourceType": "Patient", "id": p, "birthDate": "2020-01-01"})
                           for p in ("a", "b", "c")],
        "Condition.ndjson": [res("Condition", "c1", "a", **L94), res("Condition", "c2", "c", **COLD)],
        # b's only signal is a Condition inside the Encounter file: b is found after the first decision
        "Encounter.ndjson": [res("Encounter", "e1", "a", period={"start": "2026-10-05"}), "{broken",
                             res("Encounter", "e2", "b", period={"start": "2026-10-06"}),
                             res("Condition", "c3", "b", **L94), res("Encounter", "e3", "c")],
        "Immunization.ndjson": [res("Immunization", f"i{p}", p, occurrenceDateTime="2021-01-01")
                                for p in ("a", "b", "c")],
        # c's only signal is in the Observation file, read after the Condition file (which holds c's cold)
        "Observation.ndjson": [res("Observation", "o1", "a", status="final", code={"text": "calcium"},
                                   valueQuantity={"value": 2.4}, effectiveDateTime="2026-10-01"),
                               res("Observation", "o2", "c", status="final", effectiveDateTime="2026-10-01",
                                   code={"coding": [{"system": "http://snomed.info/sct", "code": "703086002"}]})],
    }
    for name, lines in files.items():
        (d / name).write_text("\n".join(lines) + "\n")
    return d


def naive_lines(d, pid):
    out = []
    for p in sorted(d.glob("*.ndjson")):
        for line in p.read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            ref = (r.get("subject") or {}).get("reference")
            if (r["resourceType"] == "Patient" and r["id"] == pid) or ref == f"Patient/{pid}":
                out.append(line)
    return sorted(out)


@pytest.mark.parametrize("query_bytes", [1, 1 << 30])  # one query per file, or one for all
def test_gather_is_complete_and_files_come_in_export_order(tmp_path, query_bytes):
    exp = make_export(tmp_path / "exp")
    kb = load_kb()
    cfg = load_config(kb)
    files = discover(exp)
    eng = DuckEngine(cfg, AS_OF, ErrorLog(100))
    eng.QUERY_BYTES = query_bytes
    read = []
    eng.on_scanned = lambda f, n: read.append(f.name)
    rows, seen = [], []
    for f, n, r in eng.scan(files):
        seen.append((f.name, n))
        rows += r
    assert [name for name, _ in seen] == [f.name for f in files]
    assert sorted(read) == sorted(f.name for f in files)
    assert dict(seen) == {"Patient.ndjson": 3, "Condition.ndjson": 2, "Encounter.ndjson": 5,
                          "Immunization.ndjson": 3, "Observation.ndjson": 2}
    cands = decide_candidates(rows, eng, cfg, AS_OF)
    assert sorted(cands) == ["a", "b", "c"]
    got = dict(eng.gather(files, sorted(cands)))
    assert got == {p: naive_lines(exp, p) for p in ("a", "b", "c")}
    assert [i.where for i in eng.errors.issues] == ["Encounter.ndjson: line 2"]
    eng.close()
