"""GraphiQL from the server's own files (gateway/graphiql.py): the page and its policy, the files and
their caching, a server whose files were not built, and the page in Chromium with every other
origin out of reach (clients/browser.mjs)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from support import ROOT, ServerProcess, Shop, token_for
from test_clients import CLIENTS, run_json

from auth.viewer import Role
from gateway.graphiql import ASSET_PATH, ASSETS, IMMUTABLE, GraphiQL
from schema.relay import to_global_id

BUILT = GraphiQL.load()
needs_build = pytest.mark.skipif(
    not BUILT.built, reason="GraphiQL is not built: `make install` builds it (npm)"
)
# Kept after the run (gitignored): what the browser showed at the end of the GraphiQL session.
SCREENSHOT = ROOT / "var" / "test-artifacts" / "graphiql.png"


def policy(header: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def assert_strict(header: str, host: str) -> None:
    directives = policy(header)
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"] and directives["worker-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    sources = {source for values in directives.values() for source in values}
    # Nothing from another origin, no eval, and inline code nowhere but in styles.
    assert sources <= {"'none'", "'self'", "data:", "'unsafe-inline'", f"ws://{host}", f"wss://{host}"}
    assert [name for name, values in directives.items() if "'unsafe-inline'" in values] == ["style-src"]


@needs_build
async def test_the_page_loads_only_this_servers_files_under_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert_strict(page.headers["content-security-policy"], "bookgraph.test")
    # No inline script: the page only names its two files, relative to /graphql.
    assert "<script>" not in page.text and "style=" not in page.text
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sorted(loaded) == sorted(f"graphiql/{name}" for name in (BUILT.script, BUILT.stylesheet))
    for name in (BUILT.script, BUILT.stylesheet):
        on_disk = (ASSETS / str(name)).read_bytes()
        gzipped = await client.get(f"/graphiql/{name}", headers={"Accept-Encoding": "gzip"})
        plain = await client.get(f"/graphiql/{name}", headers={"Accept-Encoding": "identity"})
        for served in (gzipped, plain):
            assert served.status_code == 200 and served.headers["cache-control"] == IMMUTABLE
            assert served.headers["etag"] and served.headers["x-content-type-options"] == "nosniff"
            assert served.content == on_disk  # httpx decodes the gzipped one
        assert gzipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
        # The copy compressed at build time, not one compressed again for each request.
        assert int(gzipped.headers["content-length"]) == (ASSETS / f"{name}.gz").stat().st_size < len(on_disk)


@needs_build
async def test_only_the_built_files_are_served_and_the_host_cannot_widen_the_policy(
    client: httpx.AsyncClient,
) -> None:
    for name in ("manifest.json", "nothing.js", "..%2Fgraphiql.py", "%2E%2E%2F%2E%2E%2Fapp.py"):
        assert (await client.get(f"/graphiql/{name}")).status_code == 404, name
    forged = await client.get(
        "/graphql", headers={"Accept": "text/html", "Host": "bookgraph.test; script-src https://evil.example"}
    )
    assert policy(forged.headers["content-security-policy"])["connect-src"] == ["'self'"]
    assert "evil" not in forged.headers["content-security-policy"]


async def test_without_its_files_the_page_says_how_to_build_them(tmp_path: Path) -> None:
    unbuilt = GraphiQL.load(tmp_path)
    assert not unbuilt.built

    async def page(request: Request) -> Response:
        return unbuilt.page(request)

    app = Starlette(routes=[Route("/graphql", page), Route(ASSET_PATH, unbuilt.asset)])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bookgraph.test"
    ) as http:
        shown = await http.get("/graphql")
        assert shown.status_code == 503 and "make install" in shown.text
        assert str(tmp_path) not in shown.text  # where the server's files are is not for visitors
        assert_strict(shown.headers["content-security-policy"], "bookgraph.test")
        assert (await http.get("/graphiql/graphiql.js")).status_code == 404


@needs_build
@pytest.mark.skipif(
    shutil.which("chromium") is None
    or shutil.which("node") is None
    or not (CLIENTS / "node_modules").is_dir(),
    reason="needs Chromium (make install installs it where it runs as root with apt-get), Node.js and "
    "`npm ci` in clients/",
)
async def test_graphiql_in_chromium_with_nothing_else_reachable(
    shop: Shop, servers: list[ServerProcess], page_origin: str
) -> None:
    server = servers[0]
    book = to_global_id("Book", shop.book_ids[47])
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    partner = token_for(shop.settings, "graphiql-partner", Role.PARTNER)
    admin = token_for(shop.settings, "graphiql-admin", Role.ADMIN)
    report = await run_json(
        "browser.mjs", f"{server.url}/graphql", partner, admin, book, page_origin, str(SCREENSHOT)
    )
    assert "failure" not in report, report["failure"]

    # Rendered from this server alone: nothing was refused, asked elsewhere or broke on the page.
    assert report["page"]["status"] == 200
    assert_strict(report["page"]["csp"], f"127.0.0.1:{server.port}")
    assert report["outside"] == [] and report["violations"] == [] and report["pageErrors"] == []
    asked = report["requests"]["graphiql"]
    assert asked and all(url.startswith(f"{server.url}/") for url in asked)
    manifest = json.loads((ASSETS / "manifest.json").read_text())
    assert {f"{server.url}/graphiql/{file}" for file in manifest["workers"].values()} <= set(asked)
    assert report["sockets"] and set(report["sockets"]) == {f"ws://127.0.0.1:{server.port}/graphql"}

    assert '"Authorization": "Bearer …"' in report["headersHint"]
    # Anonymous callers may not introspect here; with the token from the headers editor, partners do.
    first, *_, last = report["introspections"]
    assert not first["withToken"] and first["codes"] and not first["schema"]
    assert last["withToken"] and last["schema"] and last["codes"] == []
    assert {"books", "searchBooks", "genres", "viewer"} <= set(report["explorerFields"])
    assert re.search(r"genres\s*\{\s*name\s*\}", report["explorerQuery"]), report["explorerQuery"]

    # The query the explorer wrote went with the token, and its answer is in the result pane.
    assert report["queryAuthorization"] == f"Bearer {partner}"
    expected = (await shop.http.post("/graphql", json={"query": "{ genres { name } }"})).json()
    assert report["queryResult"]["data"] == expected["data"] and expected["data"]["genres"]
    assert report["resultPaneIsTheAnswer"] and expected["data"]["genres"][0]["name"] in report["resultPane"]

    # Every restock added one copy; the last one reached the subscription in the result pane.
    restocked = report["restocked"]
    assert restocked == list(range(restocked[0], restocked[0] + len(restocked)))
    assert report["event"]["data"]["stockChanged"] == {"bookId": book, "stock": {"available": restocked[-1]}}
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # A page on an allowed origin reads the answer; on any other, the browser withholds it.
    cors = report["cors"]
    assert cors["allowed"]["status"] == 200 and cors["allowed"]["genres"] == len(expected["data"]["genres"])
    refused_origin = f"http://127.0.0.1:{page_origin.rsplit(':', 1)[1]}"
    assert "Failed to fetch" in cors["refused"]["error"]
    assert any(
        f"from origin '{refused_origin}' has been blocked by CORS policy" in error
        for error in cors["consoleErrors"]
    ), cors["consoleErrors"]
    assert all(
        url.startswith((page_origin, refused_origin, server.url)) for url in report["requests"]["cors"]
    )
