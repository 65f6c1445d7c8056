"""GraphQL over HTTP's media types: which one a response is sent as, and what its status is then.

`application/graphql-response+json` (what Apollo Client 4 and current clients ask for first) lets
the status carry the outcome: a request error (unparsable, invalid, variables that do not coerce,
refused before execution) is a 4xx. For `application/json`, the legacy type, the spec asks for 200
on every well-formed request, because older clients drop the body of a 4xx and show only its
status. A request error's response has no `data` entry on either.
"""

from __future__ import annotations

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def negotiate(accept: str | None) -> str:
    """The type to answer in: `application/graphql-response+json` when the client ranks it at least
    as high as `application/json`, else `application/json` (also for no Accept, `*/*`, or types
    this server does not speak)."""
    if not accept:
        return JSON
    ranks: dict[str, float] = {}
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.lower()] = max(quality, ranks.get(media.lower(), 0.0))
    wanted = ranks.get(GRAPHQL_RESPONSE, 0.0)
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= ranks.get(JSON, 0.0) else JSON


def status_for(media_type: str, status: int) -> int:
    """A request error's 400 is a 200 for `application/json` clients; other statuses (413, 429,
    405) mean the same to both."""
    return 200 if media_type == JSON and status == 400 else status
