"""The record behind a FHIR read: flattened entries, reference resolution and the patient they concern.

Bundles (also nested, as in a CDS Hooks prefetch) are flattened into entries; ``urn:`` references and
``#contained`` references must resolve (else InputError); resources of another patient are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from calcinosis.io.fhir_common import Ctx

_REL = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
SUBJECT_KEY = {"FamilyMemberHistory": "patient", "Patient": None}


@dataclass(frozen=True)
class Entry:
    resource: dict
    full_url: str | None
    label: str  # "Observation/obs-3" (or "Observation/entry[3]" without an id)
    where: str  # "entry[3]" / "resources[2]"

    @property
    def type(self) -> str:
        return self.resource["resourceType"]


def flatten(ctx: Ctx, items: list[tuple[Any, str | None, str]]) -> list[Entry]:
    """Check the shape of every item and flatten Bundles into entries; problems go to ``ctx``."""
    out: list[Entry] = []
    for obj, full_url, where in items:
        if not isinstance(obj, dict):
            ctx.error(where, "", f"must be a FHIR resource (JSON object), got {type(obj).__name__}")
            continue
        rt = obj.get("resourceType")
        if not isinstance(rt, str) or not rt:
            ctx.error(where, "resourceType", "missing: every FHIR resource names its resourceType")
            continue
        rid = obj.get("id")
        if rid is not None and not isinstance(rid, str):
            ctx.error(f"{rt}/{where}", "id", f"must be a string, got {type(rid).__name__}")
            continue
        if rt == "Bundle":
            out.extend(flatten(ctx, list(bundle_items(ctx, obj, where))))
            continue
        out.append(Entry(obj, full_url if isinstance(full_url, str) else None,
                         f"{rt}/{rid}" if rid else f"{rt}/{where}", where))
    return out


def bundle_items(ctx: Ctx, bundle: dict, where: str = "") -> Iterator[tuple[Any, str | None, str]]:
    """(resource, fullUrl, where) of each entry of a Bundle, reporting malformed entries."""
    prefix = f"{where}." if where else ""
    entries = bundle.get("entry")
    if entries is None:
        return
    if not isinstance(entries, list):
        ctx.error(f"Bundle/{bundle.get('id') or where or '?'}", f"{prefix}entry", "must be a list of entries")
        return
    for i, e in enumerate(entries):
        w = f"{prefix}entry[{i}]"
        if not isinstance(e, dict):
            ctx.error(w, "", f"a Bundle entry must be an object, got {type(e).__name__}")
            continue
        res = e.get("resource")
        if res is None:
            if e.get("request") or e.get("response"):
                ctx.note(w, "entry without a resource (request/response only); ignored")
            else:
                ctx.error(w, "resource", "missing: the entry holds no resource")
            continue
        search = e.get("search")
        if isinstance(search, dict) and search.get("mode") == "outcome":
            ctx.note(w, "search outcome (OperationOutcome); ignored")
            continue
        yield res, e.get("fullUrl"), w


class Record:
    """All entries, indexed for reference resolution, plus the patient they are about."""

    def __init__(self, ctx: Ctx, entries: list[Entry]):
        self.ctx = ctx
        self.entries = entries
        self.by_url: dict[str, Entry] = {}
        self.by_rel: dict[str, Entry] = {}
        for e in entries:
            if e.full_url:
                self.by_url[e.full_url] = e
            rid = e.resource.get("id")
            if rid:
                self.by_rel[f"{e.type}/{rid}"] = e
        self.patient: Entry | None = None
        self.patient_keys: set[str] = set()

    def relative(self, ref: str) -> str | None:
        """``Type/id`` for a reference (relative, absolute URL or resolvable urn), else None."""
        if ref.startswith("urn:"):
            e = self.by_url.get(ref)
            return f"{e.type}/{e.resource.get('id')}" if e and e.resource.get("id") else ref if e else None
        m = _REL.search(ref)
        return f"{m.group(1)}/{m.group(2)}" if m else None

    def resolve(self, ref: str, holder: dict | None = None) -> dict | None:
        """The resource a reference points at, if it is in the record (or contained in ``holder``)."""
        if ref.startswith("#") and holder is not None:
            for c in holder.get("contained") or ():
                if isinstance(c, dict) and c.get("id") == ref[1:]:
                    return c
            return None
        e = self.by_url.get(ref)
        if e is None:
            rel = self.relative(ref)
            e = self.by_rel.get(rel) if rel else None
        return e.resource if e else None

    def check_references(self, entry: Entry) -> None:
        """Every ``urn:`` reference must be an entry's fullUrl and every ``#id`` a contained resource."""
        if not _has_local_reference(entry.resource):
            return  # the common case (relative references only): no paths to build
        for path, ref in _references(entry.resource, ""):
            if ref.startswith("urn:") and ref not in self.by_url:
                self.ctx.error(entry.label, path, f"dangling reference {ref!r}: no entry has this fullUrl",
                               "include the referenced resource in the Bundle or use a relative reference",
                               code="FHIR_DANGLING_REFERENCE")
            elif ref.startswith("#") and self.resolve(ref, entry.resource) is None:
                self.ctx.error(entry.label, path, f"dangling reference {ref!r}: no contained resource with this id",
                               code="FHIR_DANGLING_REFERENCE")

    def choose_patient(self, patient_id: str | None) -> None:
        """Pick the record's patient: the given id, the only Patient, or the one all subjects name."""
        patients = [e for e in self.entries if e.type == "Patient"]
        if patient_id is not None:
            self.patient_keys = {f"Patient/{patient_id}"}
            self.patient = next((p for p in patients if p.resource.get("id") == patient_id), None)
        elif len(patients) == 1:
            self.patient = patients[0]
        elif len(patients) > 1:
            self.ctx.error(", ".join(p.label for p in patients[:3]), "",
                           f"{len(patients)} Patient resources: cannot tell whose record this is",
                           "give one patient's resources (or the patient id)", code="FHIR_SEVERAL_PATIENTS")
            return
        else:
            subjects = {self.relative(r) for e in self.entries if (r := self._subject_ref(e))}
            subjects.discard(None)
            if len(subjects) > 1:
                self.ctx.error("(record)", "subject",
                               "resources of several patients and no Patient resource to tell which is meant",
                               "give one patient's resources (or the patient id)", code="FHIR_SEVERAL_PATIENTS")
                return
            self.patient_keys = {s for s in subjects if s}
        if self.patient is not None:
            pid = self.patient.resource.get("id")
            if pid:
                self.patient_keys.add(f"Patient/{pid}")
            if self.patient.full_url:
                self.patient_keys.add(self.patient.full_url)

    @staticmethod
    def _subject_ref(e: Entry) -> str | None:
        key = SUBJECT_KEY.get(e.type, "subject")
        if key is None:
            return None
        s = e.resource.get(key)
        return s.get("reference") if isinstance(s, dict) and isinstance(s.get("reference"), str) else None

    def about_patient(self, e: Entry) -> bool:
        """False (with a note) when the resource's subject is someone else; True otherwise."""
        if e.type == "Patient":
            return self.patient is None or e is self.patient
        ref = self._subject_ref(e)
        if ref is None or not self.patient_keys:
            return True
        if ref in self.patient_keys or self.relative(ref) in self.patient_keys:
            return True
        kind = "another patient" if (self.relative(ref) or "").startswith("Patient/") else "not a patient"
        self.ctx.note(e.label, f"its subject is {kind}, not this record's patient; ignored")
        return False


def _has_local_reference(node: Any) -> bool:
    """True when some ``reference`` under ``node`` (contained resources excepted) starts with urn: or #."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            for k, v in n.items():
                if type(v) is str:
                    if k == "reference" and v.startswith(("urn:", "#")):
                        return True
                elif k != "contained" and isinstance(v, (dict, list)):
                    stack.append(v)
        elif isinstance(n, list):
            stack.extend(x for x in n if isinstance(x, (dict, list)))
    return False


def _references(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else k
            if k == "reference" and isinstance(v, str):
                yield p, v
            elif k != "contained" and isinstance(v, (dict, list)):
                yield from _references(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _references(v, f"{path}[{i}]")
