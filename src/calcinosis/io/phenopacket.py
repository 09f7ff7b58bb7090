"""Reader for GA4GH Phenopacket v2 JSON (parsed and checked with the ``phenopackets`` protobuf library).

Maps subject, phenotypic features (present and excluded HPO terms, their labels as text, onsets),
measurements (LOINC assay + UCUM quantity or an ontology class), diseases, medical actions and family
history hints to :class:`Findings`. A skin lesion is "described" only when a feature is a skin or
subcutaneous calcification, nodule, papule or ossification (``genetic.yaml: phenopacket``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from calcinosis.core.model import Coding, Findings, History, LabResult, Lesion
from calcinosis.errors import InputError, Issue

FORMAT = "phenopacket/2"
MAX_AGE_DAYS = 130 * 365.25
_DUR = re.compile(r"^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                  r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_SYSTEMS = {"OMIM": "omim", "MONDO": "mondo", "ORPHA": "orpha", "ORPHANET": "orpha", "HP": "hpo",
            "NCIT": "ncit", "SNOMEDCT": "snomed", "SNOMED": "snomed", "ICD10CM": "icd10cm", "LOINC": "loinc"}
_INTERPRETATION = (("high", ("high", "elevated", "increased", "above")), ("low", ("low", "decreased", "reduced", "below")),
                   ("normal", ("normal", "within")), ("positive", ("positive", "present", "detected")),
                   ("negative", ("negative", "absent", "not detected")), ("abnormal", ("abnormal",)))


def iso_duration_days(text: str) -> float | None:
    """Days in an ISO 8601 duration such as "P9Y", "P1Y6M", "P3W" or "P10D"; None if not a duration."""
    m = _DUR.match(text.strip()) if text else None
    if not m:
        return None
    y, mo, w, d, h, mi, s = (float(x) if x else 0.0 for x in m.groups())
    return y * 365.25 + mo * 30.4375 + w * 7 + d + h / 24 + mi / 1440 + s / 86400


def _parse(obj: Any, src: str) -> Any:
    import phenopackets
    from google.protobuf import json_format

    try:
        return json_format.Parse(json.dumps(obj), phenopackets.Phenopacket())
    except json_format.ParseError as exc:
        raise InputError(f"not a valid Phenopacket v2: {exc}", where=f"{src}: (protobuf)", code="PHENOPACKET_INVALID",
                         hint="check the field named in the message against the Phenopacket v2 schema") from None


def _kb_section() -> dict[str, Any]:
    from calcinosis.kb import load_kb

    try:
        kb = load_kb()
    except Exception:
        from calcinosis.kb.loader import _data_dir, read_dir

        kb_data = read_dir(_data_dir())[0]
        return (kb_data.get("genetic") or {}).get("phenopacket") or {}
    return (kb.get("genetic") or {}).get("phenopacket") or {}


def _age(el: Any, where: str, issues: list[Issue], src: str) -> float | None:
    """Days from a TimeElement holding an age; refuses negative or > 130 years."""
    if el is None or el.WhichOneof("element") != "age":
        return None
    text = el.age.iso8601duration
    days = iso_duration_days(text)
    if days is None:
        neg = text.strip().startswith("-")
        issues.append(Issue("error", "IMPOSSIBLE_VALUE" if neg else "PHENOPACKET_FIELD",
                            f"not a valid ISO 8601 age duration: {text!r}" + (" (negative age)" if neg else ""),
                            f"{src}: {where}", "write ages like P9Y, P1Y6M or P10D"))
        return None
    if days > MAX_AGE_DAYS:
        issues.append(Issue("error", "IMPOSSIBLE_VALUE", f"impossible age {text} (over 130 years)", f"{src}: {where}",
                            "ages run from 0 to 130 years"))
        return None
    return days


def _flag(label: str) -> str | None:
    low = label.lower()
    for flag, words in _INTERPRETATION:
        if any(re.search(rf"\b{w}\b", low) for w in words):
            return flag
    return None


def _is_lesion(tid: str, label: str, cfg: dict[str, Any]) -> bool:
    low = label.lower()
    if any(w in low for w in cfg.get("not_lesion_words") or []):
        return False
    return tid in set(cfg.get("lesion_terms") or []) or any(w in low for w in cfg.get("lesion_words") or [])


def read_phenopacket(obj: dict, src: str = "<input>") -> Findings:
    """Turn a parsed Phenopacket v2 JSON object into Findings (raises InputError naming file and field)."""
    if not isinstance(obj, dict):
        raise InputError("a phenopacket must be a JSON object", where=src, code="PHENOPACKET_INVALID")
    pp = _parse(obj, src)
    cfg = _kb_section()
    issues: list[Issue] = []
    notes: list[str] = []
    subj = pp.subject
    sex = {1: "female", 2: "male"}.get(subj.sex)
    age = _age(subj.time_at_last_encounter, "subject.timeAtLastEncounter", issues, src) \
        if subj.HasField("time_at_last_encounter") else None

    present, excluded, labels = [], [], {}
    conditions, denied, lesion_labels, sites = [], [], [], []
    onsets_lesion, onsets_all = [], []
    family = None
    fam_terms = set(cfg.get("family_history_terms") or [])
    fam_words = cfg.get("family_history_words") or []
    for i, pf in enumerate(pp.phenotypic_features):
        tid, label = pf.type.id, pf.type.label or pf.type.id
        labels[tid] = label
        text = label + (f" ({pf.description})" if pf.description else "")
        if pf.excluded:
            excluded.append(tid)
            denied.append(text)
            continue
        present.append(tid)
        conditions.append(text)
        onset = _age(pf.onset, f"phenotypicFeatures[{i}].onset", issues, src) if pf.HasField("onset") else None
        if tid in fam_terms or any(w in text.lower() for w in fam_words):
            family = True
        if _is_lesion(tid, label, cfg):
            lesion_labels.append(text)
            sites += [w for w in cfg.get("site_words") or [] if re.search(rf"\b{w}", text.lower())]
            if onset is not None:
                onsets_lesion.append(onset)
        if onset is not None:
            onsets_all.append(onset)
    onset_days = min(onsets_lesion or onsets_all) if (onsets_lesion or onsets_all) else None
    if age is not None and onset_days is not None and onset_days > age + 1:
        issues.append(Issue("error", "IMPOSSIBLE_VALUE", "a feature's onset is after the age at last encounter",
                            f"{src}: phenotypicFeatures[].onset", None))

    labs = []
    for i, m in enumerate(pp.measurements):
        where = f"{src}: measurements[{i}]"
        assay = m.assay
        loinc = assay.id.split(":", 1)[1] if assay.id.upper().startswith("LOINC:") else None
        name = assay.label or assay.id or "measurement"
        kind = m.WhichOneof("measurement_value")
        value, unit, rep, lo, hi = None, None, None, None, None
        if kind == "value" and m.value.WhichOneof("value") == "quantity":
            q = m.value.quantity
            value = q.value
            unit = q.unit.id.split(":", 1)[1] if q.unit.id.upper().startswith("UCUM:") else (q.unit.label or q.unit.id or None)
            rep = "value"
            if q.HasField("reference_range"):
                lo, hi = q.reference_range.low, q.reference_range.high
        elif kind == "value":
            oc = m.value.ontology_class
            rep = _flag(oc.label or oc.id)
            value = oc.label or oc.id
        else:
            notes.append(f"measurements[{i}]: complex values are not read")
            continue
        labs.append(LabResult(analyte=name, value=value, unit=unit, reported_as=rep, loinc=loinc,
                              note=m.description or None, ref_low=lo, ref_high=hi,
                              age_days=_age(m.time_observed, f"measurements[{i}].timeObserved", issues, src)
                              if m.HasField("time_observed") else None, where=where))

    codes_present, codes_absent = [], []
    for d in pp.diseases:
        prefix = d.term.id.split(":", 1)[0].upper()
        c = Coding(_SYSTEMS.get(prefix, prefix.lower()), d.term.id.split(":", 1)[-1], d.term.label or None)
        (codes_absent if d.excluded else codes_present).append(c)
        (denied if d.excluded else conditions).append(d.term.label or d.term.id)
    meds, procs = [], []
    for a in pp.medical_actions:
        which = a.WhichOneof("action")
        if which == "treatment":
            meds.append(a.treatment.agent.label or a.treatment.agent.id)
        elif which == "procedure":
            procs.append(a.procedure.code.label or a.procedure.code.id)
        elif which:
            notes.append(f"medical action {which} recorded but not used")
    genetic_dx = [{"disease": f"{ip.diagnosis.disease.id} {ip.diagnosis.disease.label}".strip(),
                   "genes": sorted({g.variant_interpretation.variation_descriptor.gene_context.symbol
                                    for g in ip.diagnosis.genomic_interpretations
                                    if g.variant_interpretation.variation_descriptor.gene_context.symbol}),
                   "status": ip.progress_status and ip.ProgressStatus.Name(ip.progress_status)}
                  for ip in pp.interpretations if ip.HasField("diagnosis")]
    if genetic_dx:
        notes.append("interpretations (genetic diagnoses) are kept in extra.genetic_diagnoses and not used to "
                     "classify the lesion")
    if not lesion_labels:
        notes.append("no phenotypic feature describes a skin or subcutaneous lesion")
    if issues:
        raise InputError(issues[0].message, where=issues[0].where, issues=issues, code=issues[0].code)
    lesion = Lesion(sites=tuple(dict.fromkeys(sites)),
                    description="; ".join(lesion_labels) if lesion_labels else None)
    return Findings(
        id=pp.id or src.rsplit("/", 1)[-1].removesuffix(".json"),
        age_days=age, sex=sex, onset_age_days=onset_days, lesion=lesion,
        history=History(family_history=family, other_conditions=tuple(conditions), medications=tuple(meds),
                        procedures=tuple(procs)),
        labs=tuple(labs), hpo_present=tuple(dict.fromkeys(present)), hpo_excluded=tuple(dict.fromkeys(excluded)),
        codes_present=tuple(codes_present), codes_absent=tuple(codes_absent), denied=tuple(denied),
        source_format=FORMAT, source_name=src, notes=tuple(notes),
        extra={"hpo_labels": labels, "genetic_diagnoses": genetic_dx,
               "references": [r.id for r in pp.meta_data.external_references]})
