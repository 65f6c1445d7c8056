"""Bearer tokens per RFC 8725: the attacks answer 401 through the app; algorithm confusion,
audience, RS256/ES256, leeway and JWKS rotation against a real local HTTP server; the settings
that refuse to start."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import SecretStr, ValidationError

from auth.tokens import JwksCache, TokenVerifier, issue_token
from auth.viewer import Role, Viewer
from config import DEVELOPMENT_JWT_SECRET, Settings
from errors import Unauthenticated

STRONG_SECRET = "s" * 48
MESSAGES = {
    "The token is invalid.",
    "The token has expired.",
    "The token is not valid yet.",
    "The token lives longer than this server accepts.",
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(obj: dict[str, Any]) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def claims(iss: str = "bookgraph", sub: str = "demo-customer-1", **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "iss": iss, "iat": now, "exp": now + 600, "role": "customer", **extra}


def make_settings(**values: Any) -> Settings:
    values.setdefault("environment", "test")
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# --- Through the in-process app -----------------------------------------------------------------


async def ask_viewer(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": f"Bearer {token}"}
    )


async def verify(settings: Settings, token: str) -> Viewer:
    """As the app verifies a bearer token (no JWKS endpoint configured here)."""
    return await TokenVerifier(settings).verify(token)


async def test_a_valid_token_is_accepted(client: httpx.AsyncClient, settings: Settings) -> None:
    response = await ask_viewer(client, issue_token(settings, "demo-customer-1"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body and body["data"]["viewer"]["id"]
    # Access tokens as identity providers type them (RFC 9068) pass too.
    secret = settings.jwt_secret.get_secret_value()
    for typ in ("JWT", "at+jwt"):
        typed = jwt.encode(claims(), secret, algorithm="HS256", headers={"typ": typ})
        assert (await ask_viewer(client, typed)).status_code == 200, typ


async def test_every_attack_answers_401_unauthenticated(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    secret = settings.jwt_secret.get_secret_value()
    valid = issue_token(settings, "demo-customer-1")
    header, payload, signature = valid.split(".")
    tampered_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    tampered_claims["role"] = "admin"
    no_exp = claims()
    del no_exp["exp"]
    attacks = {
        "alg none": f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims(role='admin'))}.",
        "alg None (capitalised)": f"{segment({'alg': 'None', 'typ': 'JWT'})}.{segment(claims())}.",
        "expired": issue_token(settings, "demo-customer-1", ttl_seconds=-3600),
        "no exp": jwt.encode(no_exp, secret, algorithm="HS256"),
        "wrong iss": jwt.encode(claims(iss="someone-else"), secret, algorithm="HS256"),
        "tampered payload": f"{header}.{segment(tampered_claims)}.{signature}",
        "garbage": "garbage",
        "three garbage segments": "a.b.c",
        "another secret": issue_token(
            settings.model_copy(update={"jwt_secret": SecretStr("another-secret-" * 4)}), "demo-customer-1"
        ),
        "HS512 not allowed": jwt.encode(claims(), "k" * 64, algorithm="HS512"),
        "an audience meant for another service": jwt.encode(claims(aud="billing"), secret, algorithm="HS256"),
        # JSON parsers read `Infinity`: a token that never expires, or with a lifetime in words.
        "exp Infinity": jwt.encode(claims(exp=float("inf")), secret, algorithm="HS256"),
        "exp as text": jwt.encode(claims(exp="tomorrow"), secret, algorithm="HS256"),
        "iat true": jwt.encode(claims(iat=True), secret, algorithm="HS256"),
        # Other kinds of token, presented as access tokens (RFC 8725 §3.11).
        "a refresh token's typ": jwt.encode(
            claims(), secret, algorithm="HS256", headers={"typ": "refresh+jwt"}
        ),
        "a typ that is not text": jwt.encode(claims(), secret, algorithm="HS256", headers={"typ": 7}),
        "token_use refresh": jwt.encode(claims(token_use="refresh"), secret, algorithm="HS256"),
        "a year-long lifetime": jwt.encode(
            claims(exp=int(time.time()) + 365 * 86_400), secret, algorithm="HS256"
        ),
    }
    for name, token in attacks.items():
        response = await ask_viewer(client, token)
        assert response.status_code == 401, (name, response.text)
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHENTICATED", name
        assert error["message"] in MESSAGES, (name, error["message"])
        assert token not in response.text and secret not in response.text
    expired = await ask_viewer(client, attacks["expired"])
    assert expired.json()["errors"][0]["message"] == "The token has expired."


# --- Algorithm confusion, audience, RS256/ES256, leeway -----------------------------------------


def hs256_signed_with(key: bytes, payload: dict[str, Any], **header: Any) -> str:
    """An HS256 token signed by hand: PyJWT refuses PEM-looking HMAC keys, an attacker does not."""
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT', **header})}.{segment(payload)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


async def test_hs256_signed_with_the_public_key_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = public_pem(rsa_key)
    forged = hs256_signed_with(pem.encode(), claims(role="admin"))
    # RS256 only: HS256 is not in the allow-list at all.
    rs_only = make_settings(jwt_algorithms=["RS256"], jwt_public_key=SecretStr(pem))
    # Both allowed: HS256 is checked against the secret, never against the public key.
    both = make_settings(jwt_algorithms=["HS256", "RS256"], jwt_public_key=SecretStr(pem))
    for settings in (rs_only, both):
        verifier = TokenVerifier(settings)
        with pytest.raises(Unauthenticated, match="The token is invalid"):
            await verify(settings, forged)
        with pytest.raises(Unauthenticated, match="The token is invalid"):
            await verifier.verify(forged)
        await verifier.aclose()
    # The genuine RS256 token verifies under both; a genuine HS256 one only where HS256 is allowed.
    genuine = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert (
        (await verify(rs_only, genuine)).subject == (await verify(both, genuine)).subject == "demo-customer-1"
    )
    with pytest.raises(Unauthenticated):
        await verify(rs_only, issue_token(rs_only, "demo-customer-1"))
    assert (await verify(both, issue_token(both, "demo-customer-1"))).subject == "demo-customer-1"


async def test_audience_is_checked_when_configured() -> None:
    settings = make_settings(jwt_audience="bookgraph-api")
    secret = settings.jwt_secret.get_secret_value()
    verifier = TokenVerifier(settings)
    right = jwt.encode(claims(aud="bookgraph-api"), secret, algorithm="HS256")
    assert (await verifier.verify(right)).subject == "demo-customer-1"
    assert (await verify(settings, right)).subject == "demo-customer-1"
    for token in (
        jwt.encode(claims(aud="billing"), secret, algorithm="HS256"),
        jwt.encode(claims(), secret, algorithm="HS256"),  # no aud at all
    ):
        with pytest.raises(Unauthenticated, match="The token is invalid"):
            await verifier.verify(token)
    await verifier.aclose()


async def test_rs256_and_es256_tokens_verify_with_a_pem_key(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    for key, alg in ((rsa_key, "RS256"), (ec_key, "ES256")):
        settings = make_settings(jwt_algorithms=[alg], jwt_public_key=SecretStr(public_pem(key)))
        verifier = TokenVerifier(settings)
        token = jwt.encode(claims(role="partner", name="Pat"), key, algorithm=alg)
        viewer = await verifier.verify(token)
        assert (viewer.subject, viewer.role, viewer.name) == ("demo-customer-1", Role.PARTNER, "Pat")
        assert await verify(settings, token) == viewer
        # Someone else's key of the same kind, and an expired token, are refused.
        other = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if alg == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        with pytest.raises(Unauthenticated, match="The token is invalid"):
            await verifier.verify(jwt.encode(claims(), other, algorithm=alg))
        with pytest.raises(Unauthenticated, match="The token has expired"):
            await verifier.verify(
                jwt.encode({**claims(), "exp": int(time.time()) - 3600}, key, algorithm=alg)
            )
        await verifier.aclose()
    # An ES256 token is not verified with an RSA key even when both algorithms are allowed.
    mixed = make_settings(jwt_algorithms=["RS256", "ES256"], jwt_public_key=SecretStr(public_pem(rsa_key)))
    with pytest.raises(Unauthenticated):
        await verify(mixed, jwt.encode(claims(), ec_key, algorithm="ES256"))


async def test_leeway_bounds_clock_skew() -> None:
    now = int(time.time())
    payload = {**claims(), "iat": now - 100, "exp": now - 10}
    lenient = make_settings(jwt_leeway_seconds=30)
    strict = make_settings(jwt_leeway_seconds=0)
    token = jwt.encode(payload, lenient.jwt_secret.get_secret_value(), algorithm="HS256")
    assert (await verify(lenient, token)).subject == "demo-customer-1"
    with pytest.raises(Unauthenticated, match="The token has expired"):
        await verify(strict, token)
    # Issued in the future beyond the leeway: not valid yet.
    future = jwt.encode(
        {**claims(), "iat": now + 300}, lenient.jwt_secret.get_secret_value(), algorithm="HS256"
    )
    with pytest.raises(Unauthenticated, match="The token is not valid yet"):
        await verify(lenient, future)
    with pytest.raises(ValidationError):
        make_settings(jwt_leeway_seconds=121)


async def test_iat_sub_and_a_real_role_are_required() -> None:
    settings = make_settings()
    secret = settings.jwt_secret.get_secret_value()
    for missing in ("iat", "sub", "iss"):
        payload = claims()
        del payload[missing]
        with pytest.raises(Unauthenticated, match="The token is invalid"):
            await verify(settings, jwt.encode(payload, secret, algorithm="HS256"))
    with pytest.raises(Unauthenticated):
        await verify(settings, jwt.encode(claims(role="anonymous"), secret, algorithm="HS256"))
    with pytest.raises(Unauthenticated):
        await verify(settings, jwt.encode(claims(role="root"), secret, algorithm="HS256"))


# --- JWKS against a real local HTTP server --------------------------------------------------------


class JwksServer:
    """A JWKS endpoint on 127.0.0.1 whose key set the test changes; it counts the requests."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer._lock:
                    outer.requests += 1
                    body = json.dumps(outer.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, *jwks: dict[str, Any]) -> None:
        with self._lock:
            self.document = {"keys": list(jwks)}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}  # no `alg`: inferred from kty/crv


def signed(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str, alg: str = "RS256") -> str:
    return jwt.encode(claims(), key, algorithm=alg, headers={"kid": kid})


def jwks_settings(server: JwksServer) -> Settings:
    return make_settings(jwt_algorithms=["RS256", "ES256"], jwt_jwks_url=server.url)


async def test_jwks_keys_rotate_by_kid_and_are_cached(
    jwks_server: JwksServer, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    key_b = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_server.publish(rsa_jwk(rsa_key, "A"), ec_jwk(ec_key, "E"))
    settings = jwks_settings(jwks_server)
    verifier = TokenVerifier(settings)
    try:
        assert (await verifier.verify(signed(rsa_key, "A"))).subject == "demo-customer-1"
        assert (await verifier.verify(signed(ec_key, "E", "ES256"))).subject == "demo-customer-1"
        assert jwks_server.requests == 1
        # Cached: many verifications, no more requests.
        for _ in range(25):
            await verifier.verify(signed(rsa_key, "A"))
        assert jwks_server.requests == 1

        # The provider rotates to kid B: one refetch, then B verifies and A (withdrawn) does not.
        jwks_server.publish(rsa_jwk(key_b, "B"))
        assert (await verifier.verify(signed(key_b, "B"))).subject == "demo-customer-1"
        assert jwks_server.requests == 2
        for _ in range(25):
            await verifier.verify(signed(key_b, "B"))
        assert jwks_server.requests == 2
        with pytest.raises(Unauthenticated, match="The token is invalid"):
            await verifier.verify(signed(rsa_key, "A"))

        # A key named B but of the wrong kind, or signed by another key, is still refused.
        with pytest.raises(Unauthenticated):
            await verifier.verify(signed(ec_key, "B", "ES256"))
        with pytest.raises(Unauthenticated):
            await verifier.verify(signed(rsa_key, "B"))
    finally:
        await verifier.aclose()


async def test_a_flood_of_unknown_kids_costs_at_most_one_fetch(
    jwks_server: JwksServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks_server.publish(rsa_jwk(rsa_key, "A"))
    verifier = TokenVerifier(jwks_settings(jwks_server))
    try:
        await verifier.verify(signed(rsa_key, "A"))
        assert jwks_server.requests == 1
        bogus = [signed(rsa_key, f"bogus-{i}") for i in range(20)]
        results = await asyncio.gather(*(verifier.verify(t) for t in bogus), return_exceptions=True)
        assert all(isinstance(r, Unauthenticated) for r in results)
        assert jwks_server.requests <= 2
        for token in bogus:  # one after another this time
            with pytest.raises(Unauthenticated):
                await verifier.verify(token)
        assert jwks_server.requests <= 2
        # The known key keeps working from the cache throughout.
        assert (await verifier.verify(signed(rsa_key, "A"))).subject == "demo-customer-1"
        assert jwks_server.requests <= 2
    finally:
        await verifier.aclose()


async def test_jwks_refetch_throttle_and_expiry_follow_the_clock(
    jwks_server: JwksServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    """With a clock the test moves, over real HTTP: unknown kids refetch once per window, and the
    set is refetched when it is older than cache_seconds."""
    now = [1000.0]
    key_b = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks_server.publish(rsa_jwk(rsa_key, "A"))
    async with httpx.AsyncClient() as http:
        cache = JwksCache(jwks_server.url, cache_seconds=300, http=http, clock=lambda: now[0])
        assert await cache.key_for("A", "RS256") is not None
        assert await cache.key_for("nope-1", "RS256") is None  # the first unknown kid refetches
        assert await cache.key_for("nope-2", "RS256") is None  # within the window: no request
        assert jwks_server.requests == 2
        jwks_server.publish(rsa_jwk(rsa_key, "A"), rsa_jwk(key_b, "B"))
        now[0] += 10
        assert await cache.key_for("B", "RS256") is None  # still inside the 30 s window
        assert jwks_server.requests == 2
        now[0] += 25
        assert await cache.key_for("B", "RS256") is not None  # window over: one refetch finds B
        assert jwks_server.requests == 3
        now[0] += 301
        assert await cache.key_for("A", "RS256") is not None  # expired: refetched once
        assert jwks_server.requests == 4
        # The key set must never hand out an HMAC secret, nor a key under the wrong algorithm.
        jwks_server.publish({"kty": "oct", "kid": "S", "k": b64url(b"x" * 32), "alg": "HS256"})
        now[0] += 301
        assert await cache.key_for("S", "HS256") is None
        assert await cache.key_for("A", "ES256") is None


async def test_an_unreachable_jwks_endpoint_refuses_without_hammering(rsa_key: rsa.RSAPrivateKey) -> None:
    server = JwksServer()
    url = server.url
    server.close()  # nothing listens there any more
    settings = make_settings(jwt_algorithms=["RS256"], jwt_jwks_url=url)
    verifier = TokenVerifier(settings)
    try:
        for _ in range(5):
            with pytest.raises(Unauthenticated, match="signing keys are unavailable"):
                await verifier.verify(signed(rsa_key, "A"))
        assert verifier.jwks is not None and verifier.jwks.fetches == 1
    finally:
        await verifier.aclose()


# --- Settings that refuse to start ----------------------------------------------------------------


def test_settings_refuse_weak_or_missing_keys(rsa_key: rsa.RSAPrivateKey) -> None:
    for environment in ("test", "production"):
        with pytest.raises(ValidationError, match="at least 32"):
            make_settings(environment=environment, jwt_secret=SecretStr("short-secret"))
        with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY"):
            make_settings(
                environment=environment, jwt_secret=SecretStr(STRONG_SECRET), jwt_algorithms=["RS256"]
            )
        with pytest.raises(ValidationError, match="at least one"):
            make_settings(environment=environment, jwt_secret=SecretStr(STRONG_SECRET), jwt_algorithms=[])
    with pytest.raises(ValidationError, match="production"):
        make_settings(environment="production")  # the development default secret
    with pytest.raises(ValidationError, match="https"):
        make_settings(
            environment="production",
            jwt_secret=SecretStr(STRONG_SECRET),
            jwt_algorithms=["RS256"],
            jwt_jwks_url="http://idp.example/jwks.json",
        )
    private_pem = rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with pytest.raises(ValidationError, match="PEM public key"):
        make_settings(jwt_algorithms=["RS256"], jwt_public_key=SecretStr(private_pem))
    with pytest.raises(ValidationError):
        make_settings(jwt_algorithms=["none"])
    with pytest.raises(ValidationError, match="FAULT_POINTS"):
        make_settings(
            environment="production", jwt_secret=SecretStr(STRONG_SECRET), fault_points={"x": "kill"}
        )


def test_settings_allow_what_they_should(rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_settings(environment="development", jwt_secret=SecretStr("weak")).jwt_algorithms == ["HS256"]
    assert make_settings(jwt_secret=SecretStr(DEVELOPMENT_JWT_SECRET)).jwt_leeway_seconds == 30
    production = make_settings(
        environment="production",
        jwt_algorithms=["RS256"],
        jwt_public_key=SecretStr(public_pem(rsa_key)),
        jwt_jwks_url="https://idp.example/.well-known/jwks.json",
    )
    # No HS256 allowed → the secret is not what protects anything, so its default is not refused.
    assert production.jwt_algorithms == ["RS256"]
    monkeypatch.setenv("JWT_ALGORITHMS", "RS256, HS256")
    monkeypatch.setenv("JWT_PUBLIC_KEY", public_pem(rsa_key))
    assert make_settings().jwt_algorithms == ["RS256", "HS256"]
    monkeypatch.setenv("JWT_ALGORITHMS", '["ES256"]')
    assert make_settings().jwt_algorithms == ["ES256"]


async def test_a_token_verified_once_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    from auth import tokens

    decoded = []
    real = tokens.jwt.decode
    monkeypatch.setattr(tokens.jwt, "decode", lambda *a, **k: decoded.append(1) or real(*a, **k))
    settings = make_settings()
    verifier = TokenVerifier(settings)
    token = jwt.encode(claims(), settings.jwt_secret.get_secret_value(), algorithm="HS256")
    for _ in range(5):
        assert (await verifier.verify(token)).subject == "demo-customer-1"
    assert len(decoded) == 1
    # Remembered, not extended: past its `exp` (600 s) the same token is refused.
    verifier.settings = settings.model_copy(update={"clock_offset_seconds": 3600})
    with pytest.raises(Unauthenticated, match="The token has expired"):
        await verifier.verify(token)
    # And a token that fails its signature is never remembered as good.
    forged = token[: token.rindex(".") + 1] + b64url(b"x" * 32)
    for _ in range(2):
        with pytest.raises(Unauthenticated):
            await verifier.verify(forged)
