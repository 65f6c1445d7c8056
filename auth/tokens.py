"""Issuing and verifying the JWTs that carry a viewer's identity (HS256 for now)."""

from __future__ import annotations

import time
from typing import Any

import jwt

from auth.viewer import Role, Viewer
from config import Settings
from errors import Unauthenticated

# Bounded clock skew between the token issuer and this server.
LEEWAY_SECONDS = 30


def issue_token(
    settings: Settings,
    subject: str,
    *,
    role: Role = Role.CUSTOMER,
    name: str | None = None,
    email: str | None = None,
    ttl_seconds: int | None = None,
) -> str:
    now = int(time.time())
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
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm)


def verify_token(settings: Settings, token: str) -> Viewer:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[settings.jwt_algorithm],
            issuer=settings.jwt_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The token has expired.") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated("The token is invalid.") from exc
    try:
        role = Role(claims.get("role", Role.CUSTOMER.value))
    except ValueError as exc:
        raise Unauthenticated("The token names an unknown role.") from exc
    if role is Role.ANONYMOUS or not isinstance(claims["sub"], str) or not claims["sub"]:
        raise Unauthenticated("The token is invalid.")
    return Viewer(
        role=role,
        subject=claims["sub"],
        name=_text_claim(claims, "name"),
        email=_text_claim(claims, "email"),
    )


def _text_claim(claims: dict[str, Any], key: str) -> str | None:
    value = claims.get(key)
    return value[:200] if isinstance(value, str) and value else None
