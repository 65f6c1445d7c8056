"""Cross-site request forgery prevention, as Apollo Server does it.

A browser sends a cross-origin GET, or a POST with a "simple" content type, without asking the
server first (no CORS preflight), and with the user's cookies. An operation is only executed if the
request could not have been such a simple request: a content type that forces a preflight
(application/json) or a custom header that does (`apollo-require-preflight`,
`x-apollo-operation-name`, which Apollo's clients send).
"""

from __future__ import annotations

from collections.abc import Mapping

SIMPLE_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")

MESSAGE = (
    "This operation has been blocked as a potential cross-site request forgery: send it as a POST "
    "with `Content-Type: application/json`, or add a non-empty `apollo-require-preflight` header."
)


def might_be_forged(headers: Mapping[str, str]) -> bool:
    """Apollo Server's rule exactly: a request is safe when a browser would have preflighted it, that
    is when it has a content type other than the three simple ones (whatever the method: Apollo
    Client sends `Content-Type: application/json` on its GET requests too), or a non-empty
    preflight header."""
    content_type = headers.get("content-type")
    if content_type is not None and content_type.split(";")[0].strip().lower() not in SIMPLE_CONTENT_TYPES:
        return False
    return not any(headers.get(name, "").strip() for name in PREFLIGHT_HEADERS)
