"""Verify the CDS Client's JWT (CDS Hooks 2.0 "Trusting CDS Clients") on every CDS Service call.

Asymmetric signatures only (``none`` and HMAC refused); ``iss`` in the allow-list; the key from the issuer's
configured JWK Set, or from ``jku`` only when that URL is allow-listed; ``aud`` equal to the URL called (or
the discovery URL); ``exp`` not passed; ``iat`` not in the future; ``jti`` never seen before. Any failure is a
bare 401: the reason goes to the log as a short code, never the token.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

from calcinosis.service.settings import Issuer, Settings

log = logging.getLogger("calcinosis.service.security")


class TokenRejected(Exception):
    """The token failed a check; ``reason`` is a short code for the log (no token content)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ReplayStore:
    """Remembers (iss, jti) until the token expires. In memory: one per process (see docs/service.md)."""

    def __init__(self, max_entries: int = 100_000):
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._max = max_entries

    def check_and_add(self, iss: str, jti: str, expires_at: float, now: float) -> bool:
        """True when new (and now remembered); False when already seen."""
        with self._lock:
            if len(self._seen) >= self._max:
                self._seen = {k: v for k, v in self._seen.items() if v > now}
                if len(self._seen) >= self._max:  # flooded with live tokens: refuse rather than forget
                    return False
            key = (iss, jti)
            exp = self._seen.get(key)
            if exp is not None and exp > now:
                return False
            self._seen[key] = expires_at
            return True


def _b64json(part: str) -> Any:
    pad = "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(part + pad))


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims WITHOUT verification (to choose the key); raises TokenRejected if malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenRejected("not_compact_jws")
    try:
        header, claims = _b64json(parts[0]), _b64json(parts[1])
    except Exception:
        raise TokenRejected("undecodable") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenRejected("undecodable")
    return header, claims


class JWTVerifier:
    """Checks tokens against :class:`Settings`; JWK Sets from files are read once, from jku cached 5 min."""

    JKU_TTL_S = 300.0

    def __init__(self, settings: Settings, replay: ReplayStore | None = None):
        self.settings = settings
        self.issuers: dict[str, Issuer] = {i.iss: i for i in settings.issuers}
        self.replay = replay or ReplayStore()
        self._static: dict[str, Any] = {}
        self._jku_cache: dict[str, tuple[float, Any]] = {}

    def _keyset(self, data: Any) -> Any:
        from joserfc.jwk import KeySet

        try:
            return KeySet.import_key_set(data)
        except Exception:
            raise TokenRejected("bad_jwks") from None

    def _static_keys(self, issuer: Issuer) -> Any:
        ks = self._static.get(issuer.iss)
        if ks is None:
            if issuer.jwks is not None:
                data = issuer.jwks
            elif issuer.jwks_file:
                data = json.loads(Path(issuer.jwks_file).read_text(encoding="utf-8"))
            else:
                raise TokenRejected("no_keys_for_issuer")
            ks = self._static[issuer.iss] = self._keyset(data)
        return ks

    async def _jku_keys(self, url: str) -> Any:
        now = time.monotonic()
        hit = self._jku_cache.get(url)
        if hit and now - hit[0] < self.JKU_TTL_S:
            return hit[1]
        import httpx

        try:
            async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
                r = await client.get(url, headers={"Accept": "application/json"})
                r.raise_for_status()
                data = r.json()
        except Exception:
            raise TokenRejected("jku_fetch_failed") from None
        ks = self._keyset(data)
        self._jku_cache[url] = (now, ks)
        return ks

    async def verify(self, authorization: str | None, audiences: set[str], now: float | None = None) -> dict:
        """Return the verified claims or raise TokenRejected."""
        if not authorization or not authorization.startswith("Bearer "):
            raise TokenRejected("no_bearer_token")
        token = authorization[7:].strip()
        header, unverified = peek(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.settings.algorithms:
            raise TokenRejected("alg_not_allowed")
        issuer = self.issuers.get(unverified.get("iss")) if isinstance(unverified.get("iss"), str) else None
        if issuer is None:
            raise TokenRejected("unknown_issuer")
        jku = header.get("jku")
        if jku is not None:
            if not isinstance(jku, str) or jku not in issuer.jku_allow:
                raise TokenRejected("jku_not_allowed")
            keys = await self._jku_keys(jku)
        else:
            keys = self._static_keys(issuer)
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            claims = jwt.decode(token, keys, algorithms=[alg]).claims
        except JoseError:
            raise TokenRejected("bad_signature") from None
        except Exception:
            raise TokenRejected("bad_signature") from None
        return self._check_claims(claims, issuer, audiences, time.time() if now is None else now)

    def _check_claims(self, claims: dict, issuer: Issuer, audiences: set[str], now: float) -> dict:
        s = self.settings
        if claims.get("iss") != issuer.iss:
            raise TokenRejected("issuer_mismatch")
        if issuer.subjects and claims.get("sub") not in issuer.subjects:
            raise TokenRejected("subject_not_allowed")
        aud = claims.get("aud")
        auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not any(isinstance(a, str) and a.rstrip("/") in audiences for a in auds):
            raise TokenRejected("wrong_audience")
        exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
        if not _is_num(exp) or not _is_num(iat):
            raise TokenRejected("exp_or_iat_missing")
        if exp <= now - s.leeway_s:
            raise TokenRejected("expired")
        if iat > now + s.leeway_s:
            raise TokenRejected("issued_in_future")
        if exp - iat > s.max_token_lifetime_s:
            raise TokenRejected("lifetime_too_long")
        if not isinstance(jti, str) or not jti:
            raise TokenRejected("jti_missing")
        if not self.replay.check_and_add(issuer.iss, jti, exp + s.leeway_s, now):
            raise TokenRejected("replayed_jti")
        return claims


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class JWTMiddleware:
    """Pure ASGI middleware: every POST under ``/cds-services`` needs a valid token, else a bare 401."""

    def __init__(self, app: Any, verifier: JWTVerifier, public_url: str | None):
        self.app = app
        self.verifier = verifier
        self.public_url = public_url

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith("/cds-services"):
            await self.app(scope, receive, send)
            return
        base = self.public_url or _request_base(scope)
        path = scope["path"].rstrip("/")
        audiences = {base + path, base + "/cds-services"}
        auth = None
        for k, v in scope.get("headers", ()):
            if k == b"authorization":
                auth = v.decode("latin-1")
                break
        try:
            scope.setdefault("state", {})["jwt_claims"] = await self.verifier.verify(auth, audiences)
        except TokenRejected as exc:
            log.warning("JWT rejected (%s) for %s", exc.reason, path)
            await _send_401(send)
            return
        await self.app(scope, receive, send)


def _request_base(scope: dict) -> str:
    host = ""
    for k, v in scope.get("headers", ()):
        if k == b"host":
            host = v.decode("latin-1")
            break
    return f"{scope.get('scheme', 'http')}://{host}"


async def _send_401(send: Any) -> None:
    body = b'{"detail":"unauthorized"}'
    await send({"type": "http.response.start", "status": 401,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"www-authenticate", b"Bearer")]})
    await send({"type": "http.response.body", "body": body})
