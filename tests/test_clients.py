"""The client libraries teams use (clients/: graphql-ws, Apollo Client 4, graphql-http's audit,
Apollo's composition and gateway), run
in Node against a real server process. A client of our own could agree with a bug; these cannot."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from typing import Any

import httpx
import pytest
from support import ROOT, ServerProcess, Shop, token_for

from auth.viewer import Role
from schema.relay import to_global_id

CLIENTS = ROOT / "clients"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (CLIENTS / "node_modules").is_dir(),
    reason="needs Node.js and `npm ci` in clients/ (make install does it when npm is present)",
)

# graphql-http's optional GET checks: a GET without a preflight header or a non-simple content type
# is refused as a possible cross-site request forgery (Apollo Server's rule), which these do not send.
ACCEPTED_NOTICES = {
    "5A70": "MAY accept application/x-www-form-urlencoded formatted GET requests",
    "D6D5": "MAY allow URL-encoded JSON string {variables} parameter in GETs (graphql-response+json)",
    "6A70": "MAY allow URL-encoded JSON string {variables} parameter in GETs (json)",
}


async def node(script: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "node", script, *args, cwd=CLIENTS, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()[-2000:]
    return out.decode()


async def run_json(script: str, *args: str) -> Any:
    return json.loads((await node(script, *args)).strip().splitlines()[-1])


async def audit(server: ServerProcess, *token: str) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in (await node("audit.mjs", f"{server.url}/graphql", *token)).splitlines()
    ]


async def test_graphql_http_audit_finds_nothing_to_fix(shop: Shop, servers: list[ServerProcess]) -> None:
    # As a partner: the audit's variables checks query `__type`, which is introspection.
    results = await audit(servers[0], token_for(shop.settings, "auditor", Role.PARTNER))
    assert len(results) > 50
    assert [r for r in results if r["status"] in ("error", "warn")] == []
    notices = {r["id"] for r in results if r["status"] == "notice"}
    assert notices <= set(ACCEPTED_NOTICES), notices
    # Anonymous: only those checks differ, refused because they introspect.
    anonymous = await audit(servers[0])
    differ = {r["id"] for r in anonymous if r["status"] != "ok"} - notices
    assert differ == {"2EA1", "28B9"}


async def test_graphql_ws_hears_an_order_through_its_life_and_refuses_a_bad_token(
    shop: Shop, servers: list[ServerProcess]
) -> None:
    book = shop.book_ids[45]
    await shop.set_available(book, 5)
    token = token_for(shop.settings, "graphql-ws-user")
    report = await run_json(
        "subscriptions.mjs", f"{servers[0].url}/graphql", token, to_global_id("Book", book)
    )
    assert "failure" not in report, report
    assert report["placed"]["order"]["status"] == "CONFIRMED" and report["cancelled"] == "CANCELLED"
    assert report["orderEvents"] == [[None, "PENDING"], ["PENDING", "CONFIRMED"], ["CONFIRMED", "CANCELLED"]]
    # Taken by the order, then given back by the cancellation.
    assert [e["stock"]["available"] for e in report["stockEvents"]][:2] == [4, 5]
    assert report["badToken"]["code"] == 4403


async def test_apollo_client_with_persisted_queries_errors_and_user_errors(
    shop: Shop, servers: list[ServerProcess]
) -> None:
    book = to_global_id("Book", shop.book_ids[46])
    report = await run_json(
        "apollo.mjs", f"{servers[0].url}/graphql", token_for(shop.settings, "apollo-app"), book
    )
    assert "failure" not in report, report
    for method in ("post", "get"):
        wire = report[method]["wire"]
        hashed = "GET" if method == "get" else "POST"
        # Hash unknown → the text once → the hash alone is enough from then on.
        assert [(w["method"], w["withText"], w["codes"]) for w in wire] == [
            (hashed, False, ["PERSISTED_QUERY_NOT_FOUND"]),
            ("POST", True, []),
            (hashed, False, []),
        ]
        assert all(
            w["status"] == 200 and w["contentType"] == "application/graphql-response+json" for w in wire
        )
        assert report[method]["genres"][0] == report[method]["genres"][1] > 0
    assert report["validation"]["name"] == "CombinedGraphQLErrors"
    assert report["validation"]["codes"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "titel" in report["validation"]["messages"][0]
    assert report["order"] is None
    assert [(e["field"], e["code"]) for e in report["userErrors"]] == [
        (["input", "lines", "0", "quantity"], "INVALID_QUANTITY")
    ]


def statements(metrics: str) -> dict[str, float]:
    found = re.findall(r'^bookgraph_store_statements_total\{store="(\w+)"\} ([0-9.e+]+)$', metrics, re.M)
    return {store: float(value) for store, value in found}


async def test_apollo_gateway_composes_bookgraph_with_another_subgraph_both_ways(
    shop: Shop, servers: list[ServerProcess]
) -> None:
    server = servers[0]

    async def federate(book_count: int) -> tuple[Any, dict[str, float]]:
        books = [to_global_id("Book", pk) for pk in shop.book_ids[:book_count]]
        async with httpx.AsyncClient(base_url=server.url) as http:
            before = statements((await http.get("/metrics")).text)
            report = await run_json(
                "federation.mjs", f"{server.url}/graphql", str(ROOT / "gql" / "subgraph.graphql"), *books
            )
            after = statements((await http.get("/metrics")).text)
        return report, {store: after.get(store, 0) - before.get(store, 0) for store in after}

    report, few = await federate(2)
    assert report["compositionErrors"] == []
    edges = report["booksWithReviews"]["data"]["books"]["edges"]
    assert len(edges) == 2 and all(
        e["node"]["reviews"] == [{"text": f"A review of {e['node']['id']}"}] for e in edges
    )
    crossed = report["reviewsWithBooks"]["data"]["reviews"]
    assert [r["book"]["id"] for r in crossed] == [to_global_id("Book", pk) for pk in shop.book_ids[:2]]
    assert all(r["book"]["title"] and r["book"]["authors"] for r in crossed)
    # The references arrive as one _entities call: bookgraph's statements do not grow with them.
    report, many = await federate(8)
    assert len(report["reviewsWithBooks"]["data"]["reviews"]) == 8
    assert many == few and few.get("inventory", 0) > 0
