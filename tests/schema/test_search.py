"""Semantic search in the graph: relevance, filters inside Qdrant, paging, similar books,
bad input, caching, batching and a search store that is down."""

from __future__ import annotations

import socket
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from support import error_codes

from app import create_app
from config import Settings

SEARCH = """
query ($query: String!, $first: Int, $after: String, $filter: BookFilter) {
  searchBooks(query: $query, first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor score node { id title genres price { amount } stock { available } } }
  }
}
"""


async def search(gql: Any, query: str, **variables: Any) -> dict[str, Any]:
    body = await gql(SEARCH, {"query": query, **variables})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["searchBooks"]
    return result


@pytest.mark.parametrize(
    ("query", "genre"),
    [
        ("a cozy murder in a small village", "Mystery"),
        ("space travel and first contact with aliens", "Science Fiction"),
        ("how to bake sourdough bread at home", "Cooking"),
        ("poems about grief and the sea", "Poetry"),
    ],
)
async def test_search_finds_books_by_meaning(gql: Any, query: str, genre: str) -> None:
    edges = (await search(gql, query, first=10))["edges"]
    assert len(edges) == 10
    on_topic = sum(genre in e["node"]["genres"] for e in edges)
    assert on_topic >= 6, [(e["node"]["title"], e["node"]["genres"]) for e in edges]
    scores = [e["score"] for e in edges]
    assert scores == sorted(scores, reverse=True)


async def test_filter_applies_inside_the_search_store(gql: Any) -> None:
    genres = (await gql("{ genres { name bookCount } }"))["data"]["genres"]
    genre = max(genres, key=lambda g: g["bookCount"])["name"]
    filter = {"genres": [genre], "inStock": True, "priceRange": {"max": "40.00"}}
    matching = (await gql("query ($f: BookFilter) { books(filter: $f) { totalCount } }", {"f": filter}))[
        "data"
    ]
    assert matching["books"]["totalCount"] >= 10
    # A query about something else: post-filtering a top-10 would leave almost nothing.
    edges = (await search(gql, "how to bake sourdough bread at home", first=10, filter=filter))["edges"]
    assert len(edges) == 10
    for e in edges:
        assert genre in e["node"]["genres"] and e["node"]["stock"]["available"] > 0
        assert float(e["node"]["price"]["amount"]) <= 40.0


async def test_pages_continue_without_overlap(gql: Any) -> None:
    first = await search(gql, "dragons, magic and a lost heir", first=5)
    second = await search(
        gql, "dragons, magic and a lost heir", first=5, after=first["pageInfo"]["endCursor"]
    )
    ids = [e["node"]["id"] for e in first["edges"] + second["edges"]]
    assert len(set(ids)) == 10
    assert first["pageInfo"]["hasNextPage"] and second["pageInfo"]["hasPreviousPage"]
    assert first["edges"][-1]["score"] >= second["edges"][0]["score"]
    # A cursor belongs to its query.
    other = await gql(SEARCH, {"query": "a different question", "after": first["pageInfo"]["endCursor"]})
    assert error_codes(other) == ["BAD_USER_INPUT"]


def _embedding_lookups() -> float:
    return sum(
        REGISTRY.get_sample_value("bookgraph_embedding_cache_total", {"result": r}) or 0
        for r in ("hit", "miss")
    )


@pytest.mark.parametrize(
    ("query", "first"), [("", 10), ("   \n ", 10), ("x" * 1001, 10), ("fine", 0), ("fine", 101)]
)
async def test_bad_input_is_refused_before_any_embedding(gql: Any, query: str, first: int) -> None:
    before = _embedding_lookups()
    body = await gql(SEARCH, {"query": query, "first": first})
    assert body["data"] == {"searchBooks": None}
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert _embedding_lookups() == before


async def test_repeated_queries_hit_the_embedding_cache(gql: Any) -> None:
    def count(result: str) -> float:
        return REGISTRY.get_sample_value("bookgraph_embedding_cache_total", {"result": result}) or 0

    hits, misses = count("hit"), count("miss")
    await search(gql, f"A Spy Thriller set in   Berlin, {uuid.uuid4().hex}")
    assert (count("hit"), count("miss")) == (hits, misses + 1)  # one lookup, counted once
    hits, misses = count("hit"), count("miss")
    await search(gql, "A Spy Thriller set in   Berlin")
    again = await search(gql, "a spy thriller set in berlin")
    assert count("hit") == hits + 1 and count("miss") <= misses + 1
    assert again["edges"]


SIMILAR = """
query ($first: Int!) {
  books(first: $first) { edges { node { id genres similarBooks(first: 5) { score strategy reason book { id genres authors { name } } } } } }
}
"""


async def test_similar_books_exclude_the_book_and_share_its_themes(gql: Any) -> None:
    body = await gql(SIMILAR, {"first": 20})
    assert "errors" not in body, body
    shared = 0
    for edge in body["data"]["books"]["edges"]:
        book = edge["node"]
        similar = book["similarBooks"]
        assert len(similar) == 5
        assert book["id"] not in [s["book"]["id"] for s in similar]
        assert [s["score"] for s in similar] == sorted((s["score"] for s in similar), reverse=True)
        assert all(s["strategy"] == "CONTENT" and s["reason"] for s in similar)
        shared += sum(bool(set(s["book"]["genres"]) & set(book["genres"])) for s in similar)
    assert shared / (20 * 5) > 0.6


def _statements() -> Counter[str]:
    return Counter(
        {
            store: int(REGISTRY.get_sample_value("bookgraph_store_statements_total", {"store": store}) or 0)
            for store in ("inventory", "orders", "search")
        }
    )


async def test_similar_books_cost_the_same_for_5_or_20_books(gql: Any) -> None:
    costs = []
    for first in (5, 20):
        await gql(SIMILAR, {"first": first})
        before = _statements()
        body = await gql(SIMILAR, {"first": first})
        assert "errors" not in body
        costs.append(_statements() - before)
    # search: stored vectors + one batched query; inventory: page, genres, similar books, their genres, authors
    assert costs[0] == costs[1] == Counter({"search": 2, "inventory": 5})


async def test_search_hits_are_hydrated_in_one_statement_per_level(gql: Any) -> None:
    for first in (3, 30):
        await search(gql, "the history of ancient Rome", first=first)
        before = _statements()
        await search(gql, "the history of ancient Rome", first=first)
        # one search query; inventory: the books, their genres, their stock
        assert _statements() - before == Counter({"search": 1, "inventory": 3})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_search_store_down_costs_only_search_fields(
    settings: Settings, stores: Any, tmp_path: Path
) -> None:
    broken = settings.model_copy(
        update={
            "qdrant_url": f"http://127.0.0.1:{_closed_port()}",
            "data_dir": tmp_path,
            "store_connect_timeout_seconds": 1.0,
        }
    )
    application = create_app(broken)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            query = '{ books(first: 2) { edges { node { title similarBooks { score } } } } searchBooks(query: "war") { edges { score } } }'
            body = (await http.post("/graphql", json={"query": query})).json()
            assert body["data"]["searchBooks"] is None
            assert [e["node"]["similarBooks"] for e in body["data"]["books"]["edges"]] == [None, None]
            assert all(e["node"]["title"] for e in body["data"]["books"]["edges"])
            assert set(error_codes(body)) == {"SOURCE_UNAVAILABLE"}
            assert {e["extensions"]["store"] for e in body["errors"]} == {"search"}
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            assert ready.json()["stores"]["search"].startswith("unavailable")
