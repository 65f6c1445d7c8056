"""Issuing and verifying the JWTs that carry a viewer's identity, following RFC 8725.

Verification trusts nothing in a token before its signature checks out, and lets the header choose
only among what the settings allow: its `alg` must be in `jwt_algorithms`, and each algorithm has
its own key — HS256 the shared secret (never a public key: that is the algorithm-confusion attack),
RS256/ES256 the configured PEM public key or the JWKS key named by the header's `kid`. `exp`,
`iat`, `sub` and `iss` are required, the issuer is always checked, the audience when configured,
and clock skew is bounded by `jwt_leeway_seconds`.

Every failure is an `Unauthenticated` with a short message that says nothing about the token or
the keys.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.types import Options

from auth.viewer import Role, Viewer
from config import Settings
from errors import Unauthenticated

log = logging.getLogger(__name__)

# Tokens remembered once verified, until they expire, while the key that verified them is still
# the key (the least recently used go first).
VERIFIED_TOKENS = 10_000
# What `issue_token` signs with (the CLI, the tests and the bench); verification follows the settings.
ISSUE_ALGORITHM = "HS256"
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
# A token is a header line, not a document: anything longer is refused before it is parsed.
MAX_TOKEN_LENGTH = 8192
ACCESS_TOKEN_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
# An unknown `kid` (a rotated key) refetches the key set, but at most once per this many seconds,
# so a flood of made-up kids cannot make this server hammer the identity provider.
JWKS_REFETCH_INTERVAL_SECONDS = 30.0
JWKS_TIMEOUT_SECONDS = 5.0
JWKS_MAX_BYTES = 1_000_000

INVALID = "The token is invalid."
EXPIRED = "The token has expired."
NOT_YET_VALID = "The token is not valid yet."
KEYS_UNAVAILABLE = "The token's signing keys are unavailable; try again shortly."

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def issue_token(
    settings: Settings,
    subject: str,
    *,
    role: Role = Role.CUSTOMER,
    name: str | None = None,
    email: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    now = settings.clock.timestamp()
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role.value,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + (ttl_seconds if ttl_seconds is not None else settings.token_ttl_seconds),
    }
    if name:
        claims["name"] = name
    if email:
        claims["email"] = email
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=ISSUE_ALGORITHM)


class TokenVerifier:
    """Verifies bearer tokens with every algorithm the settings allow, JWKS keys included.

    One per application; `aclose()` releases the HTTP client it made for the JWKS endpoint.
    """

    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        if settings.jwt_public_key is not None:
            # A PEM that cannot be read stops start-up here rather than refusing every token later.
            _load_pem(settings.jwt_public_key.get_secret_value())
        self.jwks: JwksCache | None = (
            JwksCache(settings.jwt_jwks_url, cache_seconds=settings.jwt_jwks_cache_seconds, http=http)
            if settings.jwt_jwks_url
            else None
        )
        self._verified: OrderedDict[str, tuple[Viewer, str | PublicKey]] = OrderedDict()

    async def verify(self, token: str) -> Viewer:
        alg, kid = _read_header(self.settings, token)
        key = await self._key(alg, kid)
        # A token verified before with the key that verifies it now is the same token until it
        # expires: clients send one token with every request, and checking its signature again is
        # most of what authentication costs. A key withdrawn from the JWKS is not found above.
        known = self._verified.get(token)
        if known is not None and known[1] == key:
            expires_at = known[0].expires_at or 0
            if expires_at > self.settings.clock.timestamp() - self.settings.jwt_leeway_seconds:
                self._verified.move_to_end(token)
                return known[0]
        viewer = _decode(self.settings, token, alg, key)
        self._verified[token] = (viewer, key)
        if len(self._verified) > VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return viewer

    async def _key(self, alg: str, kid: str | None) -> str | PublicKey:
        if alg == "HS256":
            return _hmac_secret(self.settings)
        key: PublicKey | None = None
        if self.jwks is not None and kid is not None:
            key = await self.jwks.key_for(kid, alg)
        if key is None:
            key = _pem_key(self.settings, alg)
        if key is None:
            if self.jwks is not None and kid is not None and not self.jwks.has_keys:
                raise Unauthenticated(KEYS_UNAVAILABLE)
            raise Unauthenticated(INVALID)
        return key

    async def aclose(self) -> None:
        if self.jwks is not None:
            await self.jwks.aclose()


class JwksCache:
    """The identity provider's JSON Web Key Set, fetched with httpx and kept `cache_seconds`.

    A `kid` missing from the set refetches it (the provider rotated its keys), throttled to one
    refetch per `refetch_interval` seconds; concurrent lookups share one fetch. A failed fetch keeps
    the keys already known and is not retried before `refetch_interval` either.
    """

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float,
        http: httpx.AsyncClient | None = None,
        refetch_interval: float = JWKS_REFETCH_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.cache_seconds = cache_seconds
        self.refetch_interval = refetch_interval
        self.clock = clock
        self._http = http
        self._owns_http = http is None
        self._keys: dict[tuple[str, str], PublicKey] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._unknown_kid_refetch_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    @property
    def has_keys(self) -> bool:
        return bool(self._keys)

    async def key_for(self, kid: str, alg: str) -> PublicKey | None:
        """The key the set names `kid` for `alg`, or None."""
        fetched = False
        if self._due(self.clock()):
            async with self._lock:
                if self._due(self.clock()):
                    await self._fetch()
                    fetched = True
        key = self._keys.get((kid, alg))
        if key is not None or fetched:
            return key
        async with self._lock:
            key = self._keys.get((kid, alg))  # another request's refetch may have brought it
            if key is not None:
                return key
            now = self.clock()
            if self._recent(self._unknown_kid_refetch_at, now) or self._recent(self._failed_at, now):
                return None
            self._unknown_kid_refetch_at = now
            await self._fetch()
            return self._keys.get((kid, alg))

    def _due(self, now: float) -> bool:
        if self._fetched_at is not None and now - self._fetched_at < self.cache_seconds:
            return False
        return not self._recent(self._failed_at, now)

    def _recent(self, moment: float | None, now: float) -> bool:
        return moment is not None and now - moment < self.refetch_interval

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            response = await self._client().get(self.url, timeout=JWKS_TIMEOUT_SECONDS)
            response.raise_for_status()
            if len(response.content) > JWKS_MAX_BYTES:
                raise ValueError("the key set is too large")
            keys = _parse_jwks(response.json())
            if not keys:
                raise ValueError("the key set has no usable RS256/ES256 signing keys")
        except (httpx.HTTPError, ValueError) as exc:
            self._failed_at = self.clock()
            # The host only: a URL may carry credentials in its query, and nothing here is a key.
            log.warning(
                "JWKS fetch failed; keeping %d known keys",
                len(self._keys),
                extra={"jwks_host": urlsplit(self.url).hostname, "error": type(exc).__name__},
            )
            return
        self._keys = keys
        self._fetched_at = self.clock()
        self._failed_at = None
        log.info("JWKS fetched: %d usable keys", len(keys), extra={"jwks_host": urlsplit(self.url).hostname})

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None


def _parse_jwks(document: Any) -> dict[tuple[str, str], PublicKey]:
    """(kid, alg) → public key for the RS256/ES256 signing keys of a JWKS; anything else is skipped
    (symmetric `oct` keys above all: a key set must never supply an HMAC secret)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JSON Web Key Set")
    keys: dict[tuple[str, str], PublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        kid, kty = jwk.get("kid"), jwk.get("kty")
        if not isinstance(kid, str) or not kid or jwk.get("use", "sig") != "sig":
            continue
        key_ops = jwk.get("key_ops")
        if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
            continue
        alg = jwk.get("alg") or {"RSA": "RS256", "EC": "ES256"}.get(kty if isinstance(kty, str) else "")
        if alg not in ASYMMETRIC_ALGORITHMS:
            continue
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
        except jwt.PyJWTError:
            continue
        if _fits(key, alg):
            keys[(kid, alg)] = key
    return keys


def _fits(key: Any, alg: str) -> bool:
    """Whether `key` is a public key of the kind `alg` verifies with (never a private key)."""
    if alg == "RS256":
        return isinstance(key, rsa.RSAPublicKey)
    if alg == "ES256":
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    return False


@lru_cache(maxsize=4)
def _load_pem(pem: str) -> PublicKey:
    try:
        key = load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError) as exc:
        raise ValueError("JWT_PUBLIC_KEY is not a readable PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise ValueError("JWT_PUBLIC_KEY must be an RSA or EC public key")
    return key


def _pem_key(settings: Settings, alg: str) -> PublicKey | None:
    if settings.jwt_public_key is None:
        return None
    try:
        key = _load_pem(settings.jwt_public_key.get_secret_value())
    except ValueError:
        return None
    return key if _fits(key, alg) else None


def _hmac_secret(settings: Settings) -> str:
    secret = settings.jwt_secret.get_secret_value()
    if not secret:
        raise Unauthenticated(INVALID)
    return secret


def _read_header(settings: Settings, token: str) -> tuple[Literal["HS256", "RS256", "ES256"], str | None]:
    """The header's `alg` (one the settings allow) and `kid`, read before anything is verified."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthenticated(INVALID)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated(INVALID) from exc
    alg, kid = header.get("alg"), header.get("kid")
    # RFC 8725 §3.11: a token of another kind (a refresh token, an ID token with its own `typ`)
    # must not pass for an access token. No `typ`, `JWT` and RFC 9068's `at+jwt` are access tokens.
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES):
        raise Unauthenticated(INVALID)
    for allowed in settings.jwt_algorithms:
        if alg == allowed:
            if kid is not None and not isinstance(kid, str):
                raise Unauthenticated(INVALID)
            return allowed, kid
    # `none`, anything unknown, and known algorithms this deployment does not allow.
    raise Unauthenticated(INVALID)


def _decode(settings: Settings, token: str, alg: str, key: str | PublicKey) -> Viewer:
    required = ["exp", "iat", "sub", "iss"]
    if settings.jwt_audience is not None:
        required.append("aud")
    # The lifetime is checked below against the server's clock rather than by PyJWT's own.
    options: Options = {
        "require": required,
        "verify_signature": True,
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
    }
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            issuer=settings.jwt_issuer,
            # None: a token that names any audience is refused (it was meant for someone else).
            audience=settings.jwt_audience,
            options=options,
        )
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        log.debug("token refused", extra={"reason": type(exc).__name__})
        raise Unauthenticated(INVALID) from exc
    _check_lifetime(claims, settings.clock.timestamp(), settings.jwt_leeway_seconds)
    if claims["exp"] - claims["iat"] > settings.jwt_max_lifetime_seconds:
        raise Unauthenticated("The token lives longer than this server accepts.")
    if claims.get("token_use", "access") != "access" or claims.get("refresh_token") is not None:
        raise Unauthenticated(INVALID)  # a refresh token presented as an access token
    return _viewer(claims)


def _check_lifetime(claims: dict[str, Any], now: int, leeway: int) -> None:
    """RFC 7519 §4.1.4 to 4.1.6 with a bounded leeway: expired at `exp`, not valid before `nbf` or `iat`."""
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        # Numbers only: a string, a boolean or JSON's Infinity would make the checks meaningless.
        if name in claims and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            raise Unauthenticated(INVALID)
    if claims["exp"] <= now - leeway:
        raise Unauthenticated(EXPIRED)
    if claims["iat"] > now + leeway or claims.get("nbf", now) > now + leeway:
        raise Unauthenticated(NOT_YET_VALID)


def _viewer(claims: dict[str, Any]) -> Viewer:
    try:
        role = Role(claims.get("role", Role.CUSTOMER.value))
    except ValueError as exc:
        raise Unauthenticated("The token names an unknown role.") from exc
    if role is Role.ANONYMOUS or not isinstance(claims["sub"], str) or not claims["sub"]:
        raise Unauthenticated(INVALID)
    return Viewer(
        role=role,
        subject=claims["sub"],
        name=_text_claim(claims, "name"),
        email=_text_claim(claims, "email"),
        expires_at=int(claims["exp"]),
    )


def _text_claim(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return value[:200] if isinstance(value, str) and value else None
