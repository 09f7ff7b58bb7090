"""Input facts (Findings) and the assessment result, as plain frozen dataclasses.

Every reader (case file, Phenopacket, FHIR) produces a :class:`Findings`; the core turns it into an
:class:`Assessment`; every renderer (text, JSON, HTML, FHIR, CDS Hooks cards) renders that one object.

Three-valued facts: a ``bool | None`` field is ``True`` (present), ``False`` (absent) or ``None``
(unknown / not reported). ``None`` is never read as normal or absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Sex = Literal["female", "male"]
ReportedAs = Literal["value", "normal", "high", "low", "abnormal", "positive", "negative"]

TYPES: tuple[str, ...] = ("dystrophic", "metastatic", "idiopathic", "iatrogenic", "calciphylaxis", "mimic")
STRATEGIES: tuple[str, ...] = (
    "watchful_waiting",
    "medical",
    "surgical",
    "treat_underlying_cause",
    "complete_workup",
)
CERTAINTIES: tuple[str, ...] = ("confirmed", "probable", "possible")


@dataclass(frozen=True, slots=True)
class Coding:
    """A code from a terminology (ICD-10-CM, SNOMED CT, HPO, OMIM, ORPHA, LOINC, ...)."""

    system: str  # short name: "icd10cm", "snomed", "hpo", "omim", "orpha", "loinc", "mondo", "rxnorm", "atc"
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class LabResult:
    """One laboratory result as reported.

    ``analyte`` is the report's own name ("serum calcium", "PTH", "lipid profile"); ``loinc`` is set when
    the source coded it. ``value`` may be a number, free text (e.g. "positive") or None.
    ``where`` says where in the input it came from (e.g. ``labs[2]`` or ``Observation/abc``), for messages.
    """

    analyte: str
    value: float | str | None = None
    unit: str | None = None
    reported_as: str | None = None  # see ReportedAs; None when the source said nothing
    note: str | None = None
    loinc: str | None = None
    reference_range: str | None = None  # the reporting laboratory's own interval, as text
    ref_low: float | None = None  # reporting laboratory's interval, in ``unit``
    ref_high: float | None = None
    age_days: float | None = None  # age when sampled, if different from the presentation age
    where: str = ""


@dataclass(frozen=True, slots=True)
class Lesion:
    """What the skin lesions look like. All fields may be unknown."""

    sites: tuple[str, ...] = ()
    count: int | None = None
    count_text: str | None = None  # "multiple", "several", as reported
    max_size_mm: float | None = None
    painful: bool | None = None
    ulcerated: bool | None = None
    inflammation: bool | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class History:
    trauma: bool | None = None
    prior_injection_or_infusion: str | None = None
    calcium_or_phosphate_agent: bool | None = None
    renal_failure: bool | None = None
    dialysis: bool | None = None
    connective_tissue_disease: str | None = None
    family_history: bool | None = None
    other_conditions: tuple[str, ...] = ()
    medications: tuple[str, ...] = ()  # medication names given or administered, in the source's words
    procedures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Findings:
    """Everything known about one patient at one time, independent of the input format."""

    id: str
    age_days: float | None = None
    age_text: str | None = None
    sex: str | None = None  # "female" | "male" | None
    onset_age_days: float | None = None
    lesion: Lesion = field(default_factory=Lesion)
    history: History = field(default_factory=History)
    labs: tuple[LabResult, ...] = ()
    histology: str | None = None
    imaging: str | None = None
    # Coded facts (from Phenopackets, FHIR): terms observed and terms explicitly excluded.
    hpo_present: tuple[str, ...] = ()
    hpo_excluded: tuple[str, ...] = ()
    codes_present: tuple[Coding, ...] = ()  # diagnoses / conditions coded in the source
    codes_absent: tuple[Coding, ...] = ()  # refuted conditions
    # Free-text statements that are explicitly denied in the source (e.g. refuted Condition text).
    denied: tuple[str, ...] = ()
    source_format: str = "calcinosis-case/1"
    source_name: str | None = None  # file name or bundle id (never patient identifiers in logs)
    notes: tuple[str, ...] = ()  # what the reader ignored and why, or other reader notes
    # FHIR-only / reader-only extra facts; the core ignores unknown keys.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lesion_described(self) -> bool:
        """True when the input describes any skin/subcutaneous lesion."""
        le = self.lesion
        return bool(
            le.sites
            or le.description
            or le.count
            or le.count_text
            or le.max_size_mm
            or self.extra.get("lesion_described")
        )


# ---------------------------------------------------------------------------------------------
# Result types. Each conclusion carries its reasons; each reason its input facts and sources.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a conclusion was drawn: the criterion, the input facts it used, and the sources."""

    statement: str
    criterion: str  # id of the knowledge-base criterion / rule
    facts: tuple[str, ...] = ()  # input facts, e.g. 'histology: "features of tumoral calcinosis"'
    sources: tuple[str, ...] = ()  # reference ids in the knowledge base
    weight: float = 0.0


@dataclass(frozen=True, slots=True)
class RankedType:
    type: str
    score: float
    reasons: tuple[Reason, ...] = ()


@dataclass(frozen=True, slots=True)
class Classification:
    type: str | None
    subtype: str | None
    subtype_label: str | None
    certainty: str | None
    ranked: tuple[RankedType, ...]
    reasons: tuple[Reason, ...]
    summary: str


@dataclass(frozen=True, slots=True)
class Interval:
    low: float | None
    high: float | None
    unit: str
    age_band: str
    sex: str  # "female" | "male" | "both"
    source: str  # reference id
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LabReading:
    """A lab result read against an interval for this age and sex."""

    analyte: str  # knowledge-base analyte id, e.g. "calcium_total"; "unrecognised" when unknown
    label: str  # human label, e.g. "Calcium (total)"
    reported_name: str
    loinc: str | None
    value: float | str | None
    unit: str | None
    value_si: float | None
    unit_si: str | None
    reported_as: str | None
    flag: str  # "normal" | "high" | "low" | "abnormal" | "positive" | "negative" | "not_interpretable"
    interval: Interval | None
    flag_basis: str  # "value_vs_interval", "reported", "laboratory_interval", "panel_reported_normal", ...
    where: str = ""
    panel: str | None = None  # when the result stands for a panel reported as a whole
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DerivedValue:
    id: str  # "corrected_calcium", "calcium_phosphate_product"
    label: str
    value: float
    unit: str
    flag: str | None
    threshold: str | None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkupItem:
    id: str
    label: str
    why: str
    would_change: str
    essential: bool
    loinc: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DifferentialItem:
    id: str
    name: str
    score: float
    kind: str  # "mimic" | "genetic" | "type"
    features_for: tuple[str, ...]
    features_against: tuple[str, ...]
    separating_test: str
    sources: tuple[str, ...] = ()
    genes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TreatmentOption:
    id: str
    name: str
    evidence: str
    note: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowUp:
    schedule: tuple[str, ...]
    visits: tuple[dict[str, Any], ...]  # {"after_months": 1, "what": "..."}
    red_flags: tuple[dict[str, Any], ...]  # {"id", "trigger", "action", "sources"}
    expected_course: str | None = None
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    strategy: str
    steps: tuple[str, ...]
    follow_up: FollowUp | None
    options: tuple[TreatmentOption, ...]
    reasons: tuple[Reason, ...]
    safety: str | None  # the safety rule's verdict, when it changed the plan
    red_flags_present: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Assessment:
    id: str
    as_of: str | None
    patient: dict[str, Any]
    lesion_described: bool
    classification: Classification
    labs: tuple[LabReading, ...]
    derived: tuple[DerivedValue, ...]
    not_measured: tuple[str, ...]
    missing_workup: tuple[WorkupItem, ...]
    differential: tuple[DifferentialItem, ...]
    management: Plan
    sources: dict[str, dict[str, str]]
    knowledge: dict[str, str]
    input_notes: tuple[str, ...] = ()
    genetic: tuple[DifferentialItem, ...] = ()
    intended_use: str = ""
