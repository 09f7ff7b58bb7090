"""Service settings: trusted EHR issuers and their keys, the public URL (JWT audience), CORS, storage.

Settings come from a JSON or YAML file (``calcinosis serve --config FILE``, see docs/service.md) and the
command-line options; :func:`load_settings` refuses a bad file with an InputError naming file and field.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from calcinosis.errors import InputError, Issue

SERVICE_ID = "calcinosis-cutis"
#: Signature algorithms the service accepts; ``none`` and every HMAC algorithm (HS*) are refused.
ASYMMETRIC_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                             "EdDSA"})


@dataclass(frozen=True)
class Issuer:
    """One trusted CDS Client (EHR). ``jwks`` is an inline JWK Set; ``jwks_file`` a path to one;
    ``jku_allow`` the JWK Set URLs the service may fetch when a token names them in its ``jku`` header."""

    iss: str
    jwks: dict[str, Any] | None = None
    jwks_file: str | None = None
    jku_allow: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()  # allowed ``sub`` (client ids); empty = any


@dataclass(frozen=True)
class Settings:
    dev: bool = False  # True switches JWT verification off (never in production)
    public_url: str | None = None  # e.g. https://cds.example.org ; the JWT audience base
    issuers: tuple[Issuer, ...] = ()
    algorithms: frozenset[str] = ASYMMETRIC_ALGS
    leeway_s: int = 60  # clock skew allowed for exp / iat
    max_token_lifetime_s: int = 3600  # tokens living longer than this (exp - iat) are refused
    cors_origins: tuple[str, ...] = ()  # CORS is off when empty
    feedback_db: str | None = None  # SQLite file; default: the user data dir
    db_url: str | None = None  # registry database (optional)
    fhir_timeout_s: float = 10.0  # total time allowed to fetch missing prefetch data
    fhir_max_pages: int = 20  # Bundle ``next`` pages followed per query
    # False (default): the elements the service reads are checked strictly (types, dates, codes, units,
    # impossible values), the rest of each resource is not; True: every prefetched resource is first validated
    # whole against the FHIR R4 models (fhir.resources), about 0.2 ms per resource, and one non-conformant
    # element anywhere refuses the whole call (422).
    fhir_validate: bool = False
    as_of: str | None = None  # fixed "today" (tests, replays); None = the server's date
    view_ttl_s: int = 1800  # how long a card's "full assessment" link stays valid (memory only)
    cache_ttl_s: int = 300  # how long the assessment of an identical chart is reused (memory only; 0 = off)
    workers: int = 1  # uvicorn worker processes; >1 shares the card-link and replay stores (service/shared.py)
    state_dir: str | None = None  # set by ``serve`` for several workers: their shared stores (in RAM)

    def with_(self, **kw: Any) -> Settings:
        return replace(self, **kw)


def default_feedback_db() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "calcinosis" / "feedback.sqlite3"


def _read_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", where=str(path), code="CONFIG_UNREADABLE") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except Exception as exc:
        raise InputError(f"cannot be parsed: {exc}", where=str(path), code="CONFIG_MALFORMED") from None


def _strs(v: Any) -> tuple[str, ...] | None:
    if v is None:
        return ()
    if isinstance(v, str):
        return (v,)
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    return None


def settings_from_dict(obj: Any, src: str = "<config>", base_dir: Path | None = None) -> Settings:
    """Build Settings from a parsed config object; every problem is reported at once."""
    issues: list[Issue] = []

    def bad(where: str, msg: str) -> None:
        issues.append(Issue("error", "CONFIG_FIELD", msg, f"{src}: {where}"))

    if not isinstance(obj, dict):
        raise InputError("the config must be a mapping", where=src, code="CONFIG_FIELD")
    known = {"public_url", "issuers", "cors_origins", "feedback_db", "db_url", "leeway_s", "fhir_timeout_s",
             "max_token_lifetime_s", "view_ttl_s", "cache_ttl_s", "fhir_validate", "workers"}
    for k in obj:
        if k not in known:
            bad(k, f"unknown setting (known: {', '.join(sorted(known))})")
    issuers: list[Issuer] = []
    raw_issuers = obj.get("issuers") or []
    if not isinstance(raw_issuers, list):
        bad("issuers", "must be a list")
        raw_issuers = []
    for i, it in enumerate(raw_issuers):
        w = f"issuers[{i}]"
        if not isinstance(it, dict) or not isinstance(it.get("iss"), str) or not it["iss"]:
            bad(w, "each issuer needs an 'iss' string")
            continue
        jwks = it.get("jwks")
        if jwks is not None and not (isinstance(jwks, dict) and isinstance(jwks.get("keys"), list)):
            bad(f"{w}.jwks", "must be a JWK Set object with a 'keys' list")
            jwks = None
        jwks_file = it.get("jwks_file")
        if jwks_file is not None:
            p = Path(jwks_file)
            if not p.is_absolute() and base_dir is not None:
                p = base_dir / p
            if not p.is_file():
                bad(f"{w}.jwks_file", f"file not found: {p}")
            jwks_file = str(p)
        jku = _strs(it.get("jku_allow"))
        subs = _strs(it.get("subjects"))
        if jku is None:
            bad(f"{w}.jku_allow", "must be a list of URLs")
        if subs is None:
            bad(f"{w}.subjects", "must be a list of strings")
        if jwks is None and jwks_file is None and not jku:
            bad(w, "needs 'jwks', 'jwks_file' or 'jku_allow' to verify its signatures")
        issuers.append(Issuer(it["iss"], jwks, jwks_file, jku or (), subs or ()))
    cors = _strs(obj.get("cors_origins"))
    if cors is None:
        bad("cors_origins", "must be a list of origins")
    kw: dict[str, Any] = {}
    for k in ("leeway_s", "max_token_lifetime_s", "view_ttl_s", "cache_ttl_s"):
        if k in obj:
            if isinstance(obj[k], bool) or not isinstance(obj[k], int) or obj[k] < 0:
                bad(k, "must be a non-negative integer")
            else:
                kw[k] = obj[k]
    if "fhir_validate" in obj:
        if not isinstance(obj["fhir_validate"], bool):
            bad("fhir_validate", "must be true or false")
        else:
            kw["fhir_validate"] = obj["fhir_validate"]
    if "workers" in obj:
        v = obj["workers"]
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 64:
            bad("workers", "must be a whole number of processes between 1 and 64")
        else:
            kw["workers"] = v
    if "fhir_timeout_s" in obj:
        v = obj["fhir_timeout_s"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 120:
            bad("fhir_timeout_s", "must be a number of seconds between 0 and 120")
        else:
            kw["fhir_timeout_s"] = float(v)
    for k in ("public_url", "feedback_db", "db_url"):
        if obj.get(k) is not None and not isinstance(obj[k], str):
            bad(k, "must be a string")
        elif obj.get(k):
            kw[k] = obj[k]
    if kw.get("public_url") and not kw["public_url"].startswith(("http://", "https://")):
        bad("public_url", "must start with https:// (or http:// for local testing)")
    if issues:
        raise InputError(issues[0].message, where=issues[0].where, issues=issues, code="CONFIG_FIELD")
    if "public_url" in kw:
        kw["public_url"] = kw["public_url"].rstrip("/")
    return Settings(issuers=tuple(issuers), cors_origins=cors or (), **kw)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read a config file (JSON or YAML) if given, then apply command-line overrides (None = keep)."""
    s = Settings()
    if path is not None:
        p = Path(path)
        s = settings_from_dict(_read_file(p), str(p), p.parent)
    return s.with_(**{k: v for k, v in overrides.items() if v is not None})
