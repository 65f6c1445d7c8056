"""Decodes the bearer token once per request into `request.user`, a Viewer."""

from __future__ import annotations

from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response

from auth.tokens import TokenVerifier
from auth.viewer import ANONYMOUS, Viewer
from config import Settings
from errors import ErrorCode, Unauthenticated


class BearerTokenBackend(AuthenticationBackend):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.verifier = TokenVerifier(settings)

    # The operational endpoints act for nobody: /metrics checks its own token (METRICS_TOKEN).
    UNAUTHENTICATED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Viewer]:
        header = conn.headers.get("authorization")
        if not header or conn.url.path in self.UNAUTHENTICATED_PATHS:
            return AuthCredentials(), ANONYMOUS
        try:
            viewer = await self.verifier.verify(bearer_token(header))
        except Unauthenticated as exc:
            raise AuthenticationError(exc.message) from exc
        return AuthCredentials(["authenticated", viewer.role.value]), viewer

    async def aclose(self) -> None:
        """Releases the verifier's JWKS client (call it when the application shuts down)."""
        await self.verifier.aclose()


def bearer_token(authorization: str) -> str:
    """The token of an `Authorization: Bearer <token>` value, over HTTP and in a WebSocket's
    `connection_init` alike."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use an `Authorization: Bearer <token>` header.")
    return token.strip()


def unauthenticated_response(_conn: HTTPConnection, exc: AuthenticationError) -> Response:
    # A bad token is refused outright rather than silently treated as anonymous.
    body = {"errors": [{"message": str(exc), "extensions": {"code": ErrorCode.UNAUTHENTICATED}}]}
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
