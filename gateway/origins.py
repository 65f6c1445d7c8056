"""Which browser origins may call the API: one policy for CORS over HTTP and for the WebSocket
handshake, which browsers send without any preflight and with the user's cookies."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from config import Settings

# Development: any page served from this machine (a frontend's dev server on another port).
LOCALHOST = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"


@dataclass(frozen=True, slots=True)
class Origins:
    listed: frozenset[str]
    pattern: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> Origins:
        if settings.cors_allow_origins is not None:
            return cls(frozenset(origin.rstrip("/") for origin in settings.cors_allow_origins))
        return cls(frozenset(), LOCALHOST if settings.environment == "development" else None)

    def allows(self, origin: str) -> bool:
        origin = origin.rstrip("/")
        return (
            "*" in self.listed
            or origin in self.listed
            or (self.pattern is not None and re.fullmatch(self.pattern, origin) is not None)
        )

    def middleware(self, settings: Settings) -> Middleware:
        return Middleware(
            CORSMiddleware,
            allow_origins=sorted(self.listed),
            allow_origin_regex=self.pattern,
            allow_methods=["GET", "POST"],
            # Authorization, Content-Type and Apollo's preflight and client-awareness headers.
            allow_headers=["*"],
            allow_credentials=settings.cors_allow_credentials,
            expose_headers=settings.cors_expose_headers,
            max_age=settings.cors_max_age_seconds,
        )
