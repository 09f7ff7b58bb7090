"""Synthetic FHIR R4 Bulk Data export: a background population plus seeded calcinosis cases and mimics.

Seeded cases are modelled on the 18 published cases (``templates/seed_cases.json``) with varied ages, dates,
sides and lab values; a ground-truth file maps patient id -> seeded type/subtype. Output depends only on the
seed and the patient count (fixed chunks, one random stream per chunk), whatever the number of workers.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import gzip
import json
import random
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

TYPES_OUT = ("Patient", "Encounter", "Observation", "Condition", "Procedure", "MedicationAdministration",
             "DiagnosticReport", "FamilyMemberHistory", "Immunization", "AllergyIntolerance")

_COND = ('{"resourceType":"Condition","id":"%s","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/'
         'CodeSystem/condition-clinical","code":"%s"}]},"verificationStatus":{"coding":[{"system":"http://'
         'terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},"code":{"coding":[{"system":'
         '"http://hl7.org/fhir/sid/icd-10-cm","code":"%s","display":"%s"}],"text":"%s"},"subject":{"reference":'
         '"Patient/%s"},"recordedDate":"%s"}')
_OBS = ('{"resourceType":"Observation","id":"%s","status":"final","category":[{"coding":[{"system":"http://'
        'terminology.hl7.org/CodeSystem/observation-category","code":"%s"}]}],"code":{"coding":[{"system":'
        '"http://loinc.org","code":"%s","display":"%s"}],"text":"%s"},"subject":{"reference":"Patient/%s"},'
        '"effectiveDateTime":"%s","valueQuantity":{"value":%s,"unit":"%s","system":"http://unitsofmeasure.org",'
        '"code":"%s"}}')
_ENC = ('{"resourceType":"Encounter","id":"%s","status":"finished","class":{"system":"http://terminology.hl7.org/'
        'CodeSystem/v3-ActCode","code":"%s"},"subject":{"reference":"Patient/%s"},"period":{"start":"%s",'
        '"end":"%s"}}')
_PAT = '{"resourceType":"Patient","id":"%s","gender":"%s","birthDate":"%s"}'
_IMM = ('{"resourceType":"Immunization","id":"%s","status":"completed","vaccineCode":{"coding":[{"system":'
        '"http://hl7.org/fhir/sid/cvx","code":"%s","display":"%s"}]},"patient":{"reference":"Patient/%s"},'
        '"occurrenceDateTime":"%s"}')
_ALG = ('{"resourceType":"AllergyIntolerance","id":"%s","clinicalStatus":{"coding":[{"system":"http://'
        'terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},"code":{"coding":[{'
        '"system":"http://snomed.info/sct","code":"%s","display":"%s"}]},"patient":{"reference":"Patient/%s"}}')
_PROC = ('{"resourceType":"Procedure","id":"%s","status":"completed","code":{"coding":[{"system":"http://'
         'snomed.info/sct","code":"%s","display":"%s"}],"text":"%s"},"subject":{"reference":"Patient/%s"},'
         '"performedDateTime":"%s"}')
_MA = ('{"resourceType":"MedicationAdministration","id":"%s","status":"completed","medicationCodeableConcept":'
       '{"coding":[{"system":"http://www.whocc.no/atc","code":"A12AA03","display":"calcium gluconate"}],"text":'
       '"calcium gluconate 10%% intravenous infusion"},"subject":{"reference":"Patient/%s"},"effectiveDateTime":'
       '"%s","dosage":{"route":{"text":"intravenous"}}}')

BACKGROUND_CONDITIONS = (
    ("J06.9", "Acute upper respiratory infection, unspecified"), ("H66.90", "Otitis media, unspecified"),
    ("J45.909", "Unspecified asthma, uncomplicated"), ("L20.9", "Atopic dermatitis, unspecified"),
    ("R50.9", "Fever, unspecified"), ("K59.00", "Constipation, unspecified"),
    ("J02.9", "Acute pharyngitis, unspecified"), ("A08.4", "Viral intestinal infection, unspecified"))
VACCINES = (("08", "Hep B, adolescent or pediatric"), ("20", "DTaP"), ("03", "MMR"), ("10", "IPV"),
            ("88", "influenza, unspecified formulation"))
ALLERGIES = (("91935009", "Allergy to peanut"), ("294505008", "Allergy to amoxicillin"))


def _labs(age_days: int) -> tuple[tuple[str, str, str, float, float, int, str, str], ...]:
    """(LOINC, display, text, low, high, decimals, UCUM, category) of plausible values for this age."""
    phos = (4.8, 7.4) if age_days < 365 else (4.0, 5.6) if age_days < 4380 else (2.7, 4.5)
    alp = (150, 420) if age_days < 4380 else (40, 130)
    crea = (0.2, 0.5) if age_days < 1095 else (0.3, 0.8) if age_days < 6570 else (0.6, 1.1)
    weight = (3.0, 10.0) if age_days < 365 else (10.0, 60.0) if age_days < 6570 else (50.0, 95.0)
    height = (48.0, 76.0) if age_days < 365 else (75.0, 175.0) if age_days < 6570 else (150.0, 190.0)
    return (
        ("29463-7", "Body weight", "weight", *weight, 1, "kg", "vital-signs"),
        ("8302-2", "Body height", "height", *height, 1, "cm", "vital-signs"),
        ("718-7", "Hemoglobin [Mass/volume] in Blood", "haemoglobin", 11.0, 14.5, 1, "g/dL", "laboratory"),
        ("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "calcium", 8.9, 10.4, 1, "mg/dL", "laboratory"),
        ("2777-1", "Phosphate [Mass/volume] in Serum or Plasma", "phosphate", *phos, 1, "mg/dL", "laboratory"),
        ("6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma", "alkaline phosphatase",
         *alp, 0, "U/L", "laboratory"),
        ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "creatinine", *crea, 2, "mg/dL", "laboratory"),
    )


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    text = (resources.files("calcinosis.screening") / "templates" / "seed_cases.json").read_text("utf-8")
    return json.loads(text)


_SIDE = re.compile(r"\b(left|right|Left|Right)\b")
_SWAP = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}


def _walk_replace(node: Any, fn) -> Any:
    if isinstance(node, dict):
        return {k: _walk_replace(v, fn) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk_replace(v, fn) for v in node]
    if isinstance(node, str):
        return fn(node)
    return node


def seeded_case(case_id: str, pid: str, rng: random.Random, as_of: dt.date) -> tuple[dict[str, list[Any]], dict]:
    """One patient modelled on a published case: resources by type, and its ground truth."""
    doc = templates()
    case = doc["cases"][case_id]
    t_asof = dt.date.fromisoformat(doc["as_of"])
    res = copy.deepcopy(case["resources"])
    patient = res[0]
    age0 = (t_asof - dt.date.fromisoformat(patient["birthDate"])).days
    age = max(1, round(age0 * rng.uniform(0.85, 1.15)))
    offset = rng.randint(0, min(60, max(2, age // 2)))
    present = as_of - dt.timedelta(days=offset)
    birth = present - dt.timedelta(days=age)
    swap = rng.random() < 0.5
    factor = rng.uniform(1.0, 1.03)
    t_date = doc["as_of"]

    def fix(s: str) -> str:
        if s == t_date:
            return present.isoformat()
        if case_id in s:
            s = s.replace(case_id, pid)
        if swap and ("left" in s or "right" in s or "Left" in s or "Right" in s):
            s = _SIDE.sub(lambda m: _SWAP[m.group(1)], s)
        return s

    res = _walk_replace(res, fix)
    res[0]["birthDate"] = birth.isoformat()
    for r in res:
        vq = r.get("valueQuantity")
        if isinstance(vq, dict) and isinstance(vq.get("value"), (int, float)):
            v = vq["value"]
            dec = len(str(v).split(".")[1]) if isinstance(v, float) and "." in str(v) else 0
            nv = round(v * factor, dec)
            vq["value"] = int(nv) if dec == 0 else nv
    out: dict[str, list[Any]] = {}
    for r in res:
        out.setdefault(r["resourceType"], []).append(r)
    enc = [_ENC % (f"{pid}-enc-1", "AMB", pid, present.isoformat(), present.isoformat())]
    follow = present + dt.timedelta(days=30)
    if follow <= as_of and rng.random() < 0.5:
        enc.append(_ENC % (f"{pid}-enc-2", "AMB", pid, follow.isoformat(), follow.isoformat()))
    out["Encounter"] = enc
    truth = {"patient_id": pid, "type": case["type"], "subtype": case["subtype"], "template": case_id}
    return out, truth


def _rand_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    span = max(0, (end - start).days)
    return start + dt.timedelta(days=rng.randint(0, span))


def background(pid: str, rng: random.Random, as_of: dt.date, out: dict[str, list[Any]],
               age: int | None = None) -> tuple[int, dt.date]:
    """An ordinary patient's unrelated resources (strings, pre-rendered); returns (age in days, birth date)."""
    if age is None:
        age = rng.randint(0, 18 * 365) if rng.random() < 0.8 else rng.randint(18 * 365, 90 * 365)
    birth = as_of - dt.timedelta(days=age)
    out["Patient"].append(_PAT % (pid, "female" if rng.random() < 0.49 else "male", birth.isoformat()))
    start = max(birth, as_of - dt.timedelta(days=730))
    for k in range(rng.randint(1, 3)):
        d = _rand_date(rng, start, as_of).isoformat()
        out["Encounter"].append(_ENC % (f"{pid}-e{k}", "AMB", pid, d, d))
    labs = _labs(age)
    for k in range(rng.randint(0, 3)):
        code, disp, text, lo, hi, dec, unit, cat = labs[rng.randrange(len(labs))]
        v = round(rng.uniform(lo, hi), dec)
        val = str(int(v)) if dec == 0 else repr(v)
        d = _rand_date(rng, start, as_of).isoformat()
        out["Observation"].append(_OBS % (f"{pid}-o{k}", cat, code, disp, text, pid, d, val, unit, unit))
    if rng.random() < 0.5:
        code, disp = BACKGROUND_CONDITIONS[rng.randrange(len(BACKGROUND_CONDITIONS))]
        d = _rand_date(rng, start, as_of).isoformat()
        out["Condition"].append(_COND % (f"{pid}-c0", "resolved", code, disp, disp, pid, d))
    if age < 18 * 365:
        for k in range(rng.randint(0, 2)):
            code, disp = VACCINES[rng.randrange(len(VACCINES))]
            d = _rand_date(rng, birth, as_of).isoformat()
            out["Immunization"].append(_IMM % (f"{pid}-i{k}", code, disp, pid, d))
    if rng.random() < 0.05:
        code, disp = ALLERGIES[rng.randrange(len(ALLERGIES))]
        out["AllergyIntolerance"].append(_ALG % (f"{pid}-a0", code, disp, pid))
    return age, birth


RISK_KINDS = ("ckd_dialysis", "jdm", "neonatal_calcium")


def risk_only(pid: str, rng: random.Random, as_of: dt.date, out: dict[str, list[Any]]) -> dict[str, str]:
    """A patient with a risk context (no skin lesion): a candidate that must not come out as calcinosis."""
    kind = RISK_KINDS[rng.randrange(len(RISK_KINDS))]
    if kind == "ckd_dialysis":
        _age, _ = background(pid, rng, as_of, out, age=rng.randint(2 * 365, 17 * 365))
        d = (as_of - dt.timedelta(days=rng.randint(30, 700))).isoformat()
        out["Condition"].append(_COND % (f"{pid}-r1", "active", "N18.6", "End stage renal disease",
                                         "End stage renal disease", pid, d))
        out["Condition"].append(_COND % (f"{pid}-r2", "active", "Z99.2", "Dependence on renal dialysis",
                                         "Dependence on renal dialysis", pid, d))
        out["Procedure"].append(_PROC % (f"{pid}-r3", "108241001", "Dialysis procedure", "Haemodialysis", pid, d))
    elif kind == "jdm":
        _age, _ = background(pid, rng, as_of, out, age=rng.randint(4 * 365, 15 * 365))
        d = (as_of - dt.timedelta(days=rng.randint(30, 700))).isoformat()
        out["Condition"].append(_COND % (f"{pid}-r1", "active", "M33.00",
                                         "Juvenile dermatomyositis, organ involvement unspecified",
                                         "juvenile dermatomyositis", pid, d))
    else:
        _age, birth = background(pid, rng, as_of, out, age=rng.randint(3, 25))
        d = (birth + dt.timedelta(days=rng.randint(0, 2))).isoformat()
        out["Condition"].append(_COND % (f"{pid}-r1", "resolved", "E83.51", "Hypocalcemia", "neonatal hypocalcemia",
                                         pid, d))
        out["MedicationAdministration"].append(_MA % (f"{pid}-r2", pid, d))
    return {"patient_id": pid, "type": "none", "subtype": "", "template": f"risk:{kind}"}


def _dumps(obj: Any) -> str:
    try:
        import orjson

        return orjson.dumps(obj).decode("utf-8")
    except ImportError:  # pragma: no cover
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def make_chunk(args: tuple[int, int, int, int, str, float, float, bool]) -> list[dict[str, str]]:
    """Write one chunk's Type.N.ndjson files; returns its ground-truth rows."""
    c, start, stop, seed, out_dir, seeded_rate, risk_rate, gz = args
    rng = random.Random(f"calcinosis-synth:{seed}:{c}")
    as_of = dt.date.fromisoformat(_AS_OF[0])
    case_ids = sorted(templates()["cases"])
    out: dict[str, list[Any]] = {t: [] for t in TYPES_OUT}
    truth = []
    k = 0
    for i in range(start, stop):
        pid = f"p{i:07d}"
        r = rng.random()
        if r < seeded_rate:
            case_id = case_ids[(c * 7 + k) % len(case_ids)]
            k += 1
            res, t = seeded_case(case_id, pid, rng, as_of)
            for typ, items in res.items():
                out[typ].extend(x if isinstance(x, str) else _dumps(x) for x in items)
            truth.append(t)
        elif r < seeded_rate + risk_rate:
            truth.append(risk_only(pid, rng, as_of, out))
        else:
            background(pid, rng, as_of, out)
    for typ, lines in out.items():
        if not lines:
            continue
        p = Path(out_dir) / f"{typ}.{c}.ndjson{'.gz' if gz else ''}"
        data = ("\n".join(lines) + "\n").encode("utf-8")
        if gz:
            with gzip.GzipFile(p, "wb", compresslevel=1, mtime=0) as fh:
                fh.write(data)
        else:
            p.write_bytes(data)
    return truth


_AS_OF = ["2026-11-24"]


def synth(n: int, out: str | Path, *, seed: int = 1, workers: int = 1, as_of: str | None = None,
          seeded_per_1000: float | None = None, risk_per_1000: float | None = None, gz: bool = False,
          kb: Any = None, progress: Any = None) -> dict[str, Any]:
    """Generate an export of ``n`` patients into ``out``; returns counts. Deterministic for a seed."""
    from calcinosis.kb import load_kb
    from calcinosis.screening.config import load_config

    cfg = load_config(kb or load_kb()).synthetic
    _AS_OF[0] = as_of or str(cfg.get("as_of", "2026-11-24"))
    dt.date.fromisoformat(_AS_OF[0])
    seeded = float(cfg.get("seeded_per_1000", 2.0) if seeded_per_1000 is None else seeded_per_1000) / 1000
    risk = float(cfg.get("risk_only_per_1000", 3.0) if risk_per_1000 is None else risk_per_1000) / 1000
    size = int(cfg.get("chunk_size", 20000))
    od = Path(out)
    od.mkdir(parents=True, exist_ok=True)
    for old in od.glob("*.ndjson*"):
        old.unlink()
    jobs = [(c, s, min(s + size, n), seed, str(od), seeded, risk, gz) for c, s in enumerate(range(0, n, size))]
    truth: list[dict[str, str]] = []
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with mp.get_context("fork").Pool(workers) as pool:
            for rows in pool.imap(make_chunk, jobs):
                truth.extend(rows)
                if progress:
                    progress()
    else:
        for j in jobs:
            truth.extend(make_chunk(j))
            if progress:
                progress()
    with open(od / "ground_truth.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["patient_id", "type", "subtype", "template"], lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(truth, key=lambda t: t["patient_id"]))
    files = sorted(p.name for p in od.glob("*.ndjson*"))
    manifest = {
        "transactionTime": f"{_AS_OF[0]}T00:00:00Z", "request": "[base]/$export", "requiresAccessToken": False,
        "output": [{"type": f.split(".", 1)[0], "url": f} for f in files], "error": [],
    }
    (od / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return {"patients": n, "seeded": sum(t["type"] != "none" for t in truth),
            "risk_only": sum(t["type"] == "none" for t in truth), "files": len(files), "chunks": len(jobs)}
