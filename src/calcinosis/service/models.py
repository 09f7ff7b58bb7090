"""Pydantic models of CDS Hooks 2.0 requests and responses (field names exactly as the spec spells them)."""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator

FHIR_ID = r"^[A-Za-z0-9\-\.]{1,64}$"


class FhirAuthorization(BaseModel):
    model_config = ConfigDict(extra="allow")
    access_token: str = Field(min_length=1, max_length=8192, pattern=r"^[A-Za-z0-9\-._~+/]+=*$",
                              description="OAuth 2.0 bearer token (RFC 6750 b64token)")
    token_type: Literal["Bearer"]
    expires_in: StrictInt | None = None
    scope: str | None = None
    subject: str | None = None
    patient: str | None = None


class PatientViewContext(BaseModel):
    model_config = ConfigDict(extra="allow")
    patientId: str = Field(pattern=FHIR_ID, description="FHIR id of the patient in context")
    userId: str | None = Field(None, description="e.g. Practitioner/123 (required by patient-view, not used)")
    encounterId: str | None = None


class HookRequest(BaseModel):
    """A CDS Service call. ``hookInstance`` is required: the service never invents one."""

    model_config = ConfigDict(extra="allow")
    hook: Literal["patient-view"]
    hookInstance: _uuid.UUID
    fhirServer: str | None = Field(None, max_length=2000, pattern=r"^https?://[A-Za-z0-9\-._~%!$&'()*+,;=:@\[\]]+(/[!-~]*)?$",
                                   description="Base URL of the CDS Client's FHIR server")
    fhirAuthorization: FhirAuthorization | None = None
    context: PatientViewContext
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _auth_needs_server(self) -> HookRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("fhirAuthorization given without fhirServer")
        return self


def _iso_text(v: Any) -> Any:
    if not isinstance(v, (str, _dt.datetime)):
        raise ValueError("must be an ISO 8601 date-time string")
    return v


#: An ISO 8601 instant given as text (numbers are refused, not read as epoch seconds).
Instant = Annotated[_dt.datetime, BeforeValidator(_iso_text)]


class Coding(BaseModel):
    code: str = Field(min_length=1, max_length=200)
    system: str | None = Field(None, max_length=500)
    display: str | None = Field(None, max_length=500)


class Source(BaseModel):
    label: str
    url: str | None = None
    topic: Coding | None = None


class Action(BaseModel):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None


class Suggestion(BaseModel):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: list[Action] = []


class Link(BaseModel):
    label: str
    url: str
    type: Literal["absolute", "smart"]


class Card(BaseModel):
    uuid: str | None = None
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[Coding] | None = None
    links: list[Link] | None = None


class CdsResponse(BaseModel):
    cards: list[Card]


class AcceptedSuggestion(BaseModel):
    id: str = Field(min_length=1, max_length=100)


class OverrideReason(BaseModel):
    reason: Coding | None = None
    userComment: str | None = Field(None, max_length=2000, description="accepted but NOT stored (may hold "
                                    "patient data)")


class FeedbackItem(BaseModel):
    card: str = Field(min_length=1, max_length=100)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(None, max_length=100)
    overrideReason: OverrideReason | None = None
    outcomeTimestamp: Instant


class FeedbackRequest(BaseModel):
    feedback: list[FeedbackItem] = Field(min_length=1, max_length=100)


class ErrorBody(BaseModel):
    detail: Any
