"""Read FHIR R4 resources (a Bundle, or a list of resources / Bundles such as a CDS Hooks prefetch) into Findings.

Each resource is validated with the ``fhir.resources.R4B`` models, then mapped with the knowledge base's
``fhir_mappings.yaml`` (see docs/fhir.md). Bad input raises InputError naming the file, the resource and
the field; what was ignored, and why, is listed in ``Findings.notes``.

"As of" date: the caller's ``as_of`` (the CLI's ``--as-of``), else the most recent date found in the
resources (recorded in the notes). The reader never looks at today's date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from calcinosis.core.model import Findings, History, Lesion
from calcinosis.errors import InputError
from calcinosis.io.fhir_clinical import read_condition, read_family_history, read_medication, read_procedure
from calcinosis.io.fhir_common import Acc, Ctx, days_between, parse_date, resource_date
from calcinosis.io.fhir_map import get_mappings
from calcinosis.io.fhir_obs import read_observation, read_report
from calcinosis.io.fhir_refs import Entry, Record, bundle_items, flatten

FORMAT = "fhir-r4"
MAX_AGE_DAYS = 130 * 365.25
_MEDICATIONS = ("MedicationAdministration", "MedicationRequest", "MedicationStatement")
# Resource types read only as the target of a reference (not facts on their own).
_SUPPORTING = ("Medication",)


def read_bundle(bundle: dict, src: str, *, as_of: str | date | None = None, kb: Any = None,
                validate: bool = True, patient_id: str | None = None) -> Findings:
    """Findings from one FHIR R4 Bundle (any type). Raises InputError naming file, resource and field."""
    ctx = Ctx(src, get_mappings(kb))
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InputError("not a FHIR Bundle (resourceType must be \"Bundle\")", where=f"{src}: resourceType",
                         code="FHIR_NOT_BUNDLE")
    items = list(bundle_items(ctx, bundle))
    bid = bundle.get("id") if isinstance(bundle.get("id"), str) else None
    return _read(ctx, items, as_of=as_of, validate=validate, patient_id=patient_id, record_id=bid)


def read_resources(resources: list[dict], src: str, *, as_of: str | date | None = None, kb: Any = None,
                   validate: bool = True, patient_id: str | None = None) -> Findings:
    """Findings from a list of FHIR R4 resources and/or Bundles about one patient.

    ``patient_id`` (optional) names the patient when the resources hold several; resources whose subject is
    another patient are ignored with a note. ``validate=False`` skips the R4B model validation (faster;
    the mapping still refuses malformed values).
    """
    ctx = Ctx(src, get_mappings(kb))
    if not isinstance(resources, list):
        raise InputError(f"must be a list of FHIR resources, got {type(resources).__name__}", where=src,
                         code="FHIR_NOT_LIST")
    items = [(r, None, f"resources[{i}]") for i, r in enumerate(resources)]
    return _read(ctx, items, as_of=as_of, validate=validate, patient_id=patient_id, record_id=None)


def _as_of(ctx: Ctx, as_of: str | date | None, entries: list[Entry]) -> None:
    if isinstance(as_of, date):
        ctx.as_of = as_of
        return
    if as_of is not None:
        pd = parse_date(as_of)
        if pd is None or pd[1]:
            raise InputError(f"as-of date {as_of!r} is not a full date (YYYY-MM-DD)", where="as_of",
                             code="BAD_AS_OF")
        ctx.as_of = pd[0]
        return
    dates = [d[0] for e in entries if e.type != "Patient" and (d := resource_date(e.resource))]
    if dates:
        ctx.as_of = max(dates)
        ctx.note("(record)", f"no as-of date given: using the most recent date in the record, {ctx.as_of}")
    else:
        ctx.note("(record)", "no as-of date given and no dated resource: age left unknown")


def _patient(ctx: Ctx, rec: Record) -> tuple[float | None, str | None]:
    """(age in days, sex) from the record's Patient; sets ``ctx.birth``."""
    if rec.patient is None:
        ctx.note("(record)", "no Patient resource: age and sex unknown")
        return None, None
    p, label = rec.patient.resource, rec.patient.label
    sex = {"female": "female", "male": "male"}.get(str(p.get("gender") or "").lower())
    if p.get("gender") in ("other", "unknown"):
        ctx.note(label, f"gender {p['gender']}: sex left unknown")
    bd = p.get("birthDate")
    if bd is None:
        ctx.note(label, "no birthDate: age unknown")
        return None, sex
    parsed = parse_date(bd)
    if parsed is None:
        ctx.error(label, "birthDate", f"not a FHIR date: {bd!r}", "use YYYY, YYYY-MM or YYYY-MM-DD")
        return None, sex
    ctx.birth, partial = parsed
    if partial:
        ctx.note(label, f"birthDate {bd} is partial: age uses its mid-point ({ctx.birth.isoformat()})")
    if ctx.as_of is None:
        return None, sex
    days = days_between(ctx.birth, ctx.as_of)
    if days < 0 and not (partial and ctx.as_of.isoformat().startswith(bd)):
        ctx.error(label, "birthDate", f"birthDate {bd} is after the as-of date {ctx.as_of}",
                  code="IMPOSSIBLE_VALUE")
        return None, sex
    if days > MAX_AGE_DAYS:
        ctx.error(label, "birthDate", f"impossible age: {days / 365.25:.0f} years as of {ctx.as_of}",
                  code="IMPOSSIBLE_VALUE")
        return None, sex
    return max(days, 0.0), sex


def _dispatch(ctx: Ctx, acc: Acc, rec: Record, e: Entry) -> None:
    r, label, t = e.resource, e.label, e.type
    if t == "Observation":
        read_observation(ctx, acc, r, label)
    elif t == "Condition":
        read_condition(ctx, acc, r, label)
    elif t == "DiagnosticReport":
        read_report(ctx, acc, r, label)
    elif t == "FamilyMemberHistory":
        read_family_history(ctx, acc, r, label)
    elif t in _MEDICATIONS:
        read_medication(ctx, acc, r, label, rec.resolve)
    elif t == "Procedure":
        read_procedure(ctx, acc, r, label)
    elif t not in _SUPPORTING:
        ctx.note(label, "resource type not used")


def _may_hold_local_references(entries: list) -> bool:
    """False when no resource can hold a ``urn:`` or ``#`` reference: one serialisation of the whole record
    (orjson, about 50 us for 40 resources) instead of walking every resource; True when unsure."""
    try:
        import orjson
    except ImportError:
        return True
    try:
        blob = orjson.dumps([e.resource for e in entries])
    except TypeError:  # what orjson cannot write (integers beyond 64 bits): check resource by resource
        return True
    return b'"urn:' in blob or b'"#' in blob


def _read(ctx: Ctx, items: list, *, as_of, validate: bool, patient_id: str | None,
          record_id: str | None) -> Findings:
    entries = flatten(ctx, items)
    if validate:
        from calcinosis.io.fhir_validate import validate_resource

        entries = [e for e in entries if validate_resource(ctx, e.resource, e.label)]
    ctx.raise_if_issues()
    rec = Record(ctx, entries)
    if _may_hold_local_references(entries):
        for e in entries:
            rec.check_references(e)
    rec.choose_patient(patient_id)
    ctx.raise_if_issues()
    _as_of(ctx, as_of, entries)
    age, sex = _patient(ctx, rec)
    acc = Acc()
    for e in entries:
        if e.type == "Patient":
            if rec.patient is not None and e is not rec.patient:
                ctx.note(e.label, "another patient; ignored")
            continue
        if not rec.about_patient(e):
            continue
        when = resource_date(e.resource)
        if when is not None and ctx.as_of is not None and when[0] > ctx.as_of and not when[1]:
            ctx.note(e.label, f"dated {when[0]}, after the as-of date {ctx.as_of}; ignored")
            continue
        try:
            _dispatch(ctx, acc, rec, e)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:  # only reachable with validate=False
            ctx.error(e.label, "", f"malformed resource ({type(exc).__name__}: {exc})",
                      "validate the resource against FHIR R4")
    ctx.raise_if_issues()
    return _findings(ctx, acc, rec, age, sex, record_id)


def _findings(ctx: Ctx, acc: Acc, rec: Record, age: float | None, sex: str | None,
              record_id: str | None) -> Findings:
    b = acc.lesion_bools
    lesion = Lesion(
        sites=tuple(acc.sites), count=acc.count, count_text=acc.count_text if acc.count is None else None,
        max_size_mm=acc.max_size_mm, painful=b.get("painful"), ulcerated=b.get("ulcerated"),
        inflammation=b.get("inflammation"), description="; ".join(acc.descriptions) or None)
    f = acc.flags
    history = History(
        trauma=f.get("trauma"),
        prior_injection_or_infusion="; ".join(acc.injections) or None,
        calcium_or_phosphate_agent=acc.agent,
        renal_failure=f.get("renal_failure"),
        dialysis=f.get("dialysis"),
        connective_tissue_disease="; ".join(acc.ctd) or None,
        family_history=f.get("family_history"),
        other_conditions=tuple(acc.other_conditions),
        medications=tuple(acc.medications),
        procedures=tuple(acc.procedures),
    )
    pid = rec.patient.resource.get("id") if rec.patient is not None else None
    patient_ref = f"Patient/{pid}" if pid else next(iter(sorted(rec.patient_keys)), None)
    extra: dict[str, Any] = {
        "patient_ref": patient_ref,
        "as_of": ctx.as_of.isoformat() if ctx.as_of else None,
        "resources_read": len(rec.entries),
    }
    if acc.lesion_described:
        extra["lesion_described"] = True
    if acc.family_conditions:
        extra["family_conditions"] = list(acc.family_conditions)
    return Findings(
        id=record_id or pid or ctx.src.rsplit("/", 1)[-1].removesuffix(".json"),
        age_days=age,
        age_text=acc.age_text,
        sex=sex,
        onset_age_days=acc.onset_age_days,
        lesion=lesion,
        history=history,
        labs=tuple(acc.labs),
        histology="; ".join(acc.histology) or None,
        imaging="; ".join(acc.imaging) or None,
        hpo_present=tuple(dict.fromkeys(acc.hpo_present)),
        hpo_excluded=tuple(dict.fromkeys(acc.hpo_excluded)),
        codes_present=tuple(dict.fromkeys(acc.codes_present)),
        codes_absent=tuple(dict.fromkeys(acc.codes_absent)),
        denied=tuple(acc.denied),
        source_format=FORMAT,
        source_name=ctx.src,
        notes=tuple(ctx.notes),
        extra=extra,
    )
