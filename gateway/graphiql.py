"""GraphiQL for browsers at GET /graphql, from this server's own files: nothing is fetched from
elsewhere, so it works offline and under a policy that allows nothing external.

The files are built from clients/graphiql/ by `make install` (esbuild) into gateway/static/graphiql/,
every name carrying a hash of its content; manifest.json names the script and stylesheet the page
loads. A server whose files were not built still starts, and the page says how to build them.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from gateway.caching import NO_STORE

log = logging.getLogger("bookgraph")

ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
ASSET_PATH = "/graphiql/{name}"
# Hashed names: a file at a name never changes, so browsers may keep it for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ttf": "font/ttf",
}
# A Host header that is a host name or address with an optional port, nothing else: it goes into
# the policy, which must not be extended by whoever sends the request.
HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def content_security_policy(host: str | None) -> str:
    """Everything from this origin only; each directive says what GraphiQL needs it for."""
    # Subscriptions go over a WebSocket to this same URL; 'self' covers ws: and wss: in CSP 3, the
    # host is named as well for browsers that read 'self' as http(s) only.
    sockets = f" ws://{host} wss://{host}" if host and HOST.fullmatch(host) else ""
    directives = {
        "default-src": "'none'",
        # The bundle only: no inline script, no eval.
        "script-src": "'self'",
        # Monaco (the editor) adds <style> elements at run time for its themes and decorations,
        # without a nonce, and React components set style attributes: styles cannot run script.
        "style-src": "'self' 'unsafe-inline'",
        # GraphiQL's stylesheet carries its fonts (Roboto, Fira Code, Monaco's icons) as data: URLs,
        # and Monaco's colour picker its images; neither can run script.
        "font-src": "'self' data:",
        "img-src": "'self' data:",
        # Queries and introspection over HTTP, subscriptions over the WebSocket.
        "connect-src": f"'self'{sockets}",
        # Monaco's language services (GraphQL, JSON, the editor's own) run in workers.
        "worker-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'none'",
        # No other site may frame the page and lure a signed-in user's clicks.
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>bookgraph · GraphiQL</title>
    <link rel="stylesheet" href="{stylesheet}">
    <script src="{script}" defer></script>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
  </body>
</html>
"""

NOT_BUILT = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>bookgraph · GraphiQL is not built</title></head>
  <body>
    <h1>GraphiQL is not built on this server</h1>
    <p>Its files are built from <code>clients/graphiql/</code> into
    <code>gateway/static/graphiql/</code> by <code>make install</code>, which needs Node.js and npm.
    Run <code>make install</code>, then restart the server. GraphQL itself is served as usual at
    this URL.</p>
  </body>
</html>
"""


@dataclass(frozen=True, slots=True)
class GraphiQL:
    """The built page's two entry files, and every file it may ask for (none when not built)."""

    script: str | None
    stylesheet: str | None
    files: frozenset[str]
    directory: Path = ASSETS

    @classmethod
    def load(cls, directory: Path = ASSETS) -> GraphiQL:
        try:
            manifest = json.loads((directory / "manifest.json").read_text())
        except FileNotFoundError:
            log.warning(
                "GraphiQL is not built (no %s): `make install` builds it", directory / "manifest.json"
            )
            return cls(None, None, frozenset(), directory)
        files = frozenset(
            path.name for path in directory.iterdir() if path.suffix in MEDIA_TYPES and path.is_file()
        )
        return cls(manifest["script"], manifest["stylesheet"], files, directory)

    @property
    def built(self) -> bool:
        return self.script is not None and self.stylesheet is not None

    def page(self, request: Request) -> Response:
        headers = {
            "Content-Security-Policy": content_security_policy(request.headers.get("host")),
            # The page is tiny and names the current files: always asked for again.
            "Cache-Control": NO_STORE,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if not self.built:
            return HTMLResponse(NOT_BUILT, status_code=503, headers=headers)
        # Relative to /graphql, so a path prefix in front of the server (root_path) still works.
        prefix = ASSET_PATH.removeprefix("/").removesuffix("{name}")
        body = PAGE.format(script=f"{prefix}{self.script}", stylesheet=f"{prefix}{self.stylesheet}")
        return HTMLResponse(body, headers=headers)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        # Only the files of the build: nothing else of the disk is reachable through this route.
        if name not in self.files:
            return PlainTextResponse("Not Found", status_code=404, headers={"Cache-Control": NO_STORE})
        path = self.directory / name
        headers = {
            "Cache-Control": IMMUTABLE,
            "X-Content-Type-Options": "nosniff",
            "Vary": "Accept-Encoding",
        }
        compressed = path.with_name(name + ".gz")
        # Compressed once at build time (the script is megabytes); gzip middleware leaves an
        # encoded response as it is.
        if "gzip" in request.headers.get("accept-encoding", "") and compressed.is_file():
            headers["Content-Encoding"] = "gzip"
            path = compressed
        return FileResponse(path, media_type=MEDIA_TYPES[Path(name).suffix], headers=headers)
