"""The standard workloads: a document under bench/<name>.graphql and the requests that rotate through it."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from graphql import parse, validate

BENCH_DIR = Path(__file__).resolve().parent

# What semantic search is asked: phrased as shoppers phrase it, not as the descriptions read.
SEARCH_QUERIES = (
    "a cozy murder in a small village",
    "space travel and first contact with aliens",
    "how to bake sourdough bread at home",
    "a haunted house and a family secret",
    "dragons, magic and a lost heir",
    "falling in love in a seaside town",
    "the history of ancient Rome",
    "learning to run a marathon",
    "startup strategy and leadership",
    "poems about grief and the sea",
    "a serial killer case file",
    "a teenage girl finds her voice",
    "bedtime story about a brave little fox",
    "the life of a famous scientist",
    "how the brain makes decisions",
    "travel guide to the mountains of Japan",
    "a spy thriller set in Berlin",
    "meditation and anxiety",
    "machine learning for beginners",
    "a superhero comic with a twist",
)


@dataclass(frozen=True, slots=True)
class BenchData:
    """What the requests are built from, read from the seeded stores."""

    book_ids: list[str]
    genres: list[str]
    customers: list[str]  # subjects of customers with an order history
    heavy_customers: list[str]  # subjects of customers with at least 50 orders
    many_customers: list[str]  # subjects of up to 5,000 customers with orders, most orders first


# A request: its variables, and the subject whose token it carries (None: anonymous).
Request = tuple[dict[str, Any], str | None]


def _catalog_page(data: BenchData) -> list[Request]:
    orderings = [("TITLE", "ASC"), ("PRICE", "DESC"), ("PUBLISHED_YEAR", "DESC")]
    return [
        (
            {
                "filter": {"genres": [genre], "inStock": True},
                "orderBy": {"field": field, "direction": direction},
            },
            None,
        )
        for genre in data.genres
        for field, direction in orderings
    ]


def _search(data: BenchData) -> list[Request]:
    return [({"query": q}, None) for q in SEARCH_QUERIES]


def _search_filtered(data: BenchData) -> list[Request]:
    return [
        ({"query": q, "filter": {"genres": [genre], "inStock": True}}, None)
        for q, genre in zip(SEARCH_QUERIES, cycle(data.genres), strict=False)
    ]


def _uncached(requests: list[Request], words: tuple[str, ...]) -> list[Request]:
    """Distinct query texts (more than the embedding cache holds), so each misses it; workloads
    pass different words so that one does not warm the cache for the next."""
    return [
        ({**variables, "query": f"{variables['query']} {word} {n}"}, subject)
        for n in range(200)
        for word in words
        for variables, subject in requests
    ]


def _zipf(data: BenchData, count: int = 20_000, exponent: float = 1.0) -> list[Request]:
    """A realistic read mix: a few customers come back often, most rarely (P(rank r) ∝ 1/r)."""
    customers = data.many_customers
    weights = [1 / (rank + 1) ** exponent for rank in range(len(customers))]
    picks = random.Random(7).choices(customers, weights=weights, k=count)
    return [({}, subject) for subject in picks]


def _place_order(data: BenchData, count: int = 20_000) -> list[Request]:
    """One-copy orders, each with its own idempotency key (unique per run, so a second run places
    new orders rather than replaying the first run's)."""
    run = uuid.uuid4().hex[:8]
    books, customers = cycle(data.book_ids), cycle(data.customers)
    return [
        (
            {
                "input": {
                    "idempotencyKey": f"bench-{run}-{n}",
                    "lines": [{"bookId": next(books), "quantity": 1}],
                }
            },
            next(customers),
        )
        for n in range(count)
    ]


BUILDERS: dict[str, Callable[[BenchData], list[Request]]] = {
    "catalog_page": _catalog_page,
    "book_detail": lambda data: [({"id": book_id}, None) for book_id in data.book_ids],
    "order_history": lambda data: [({}, subject) for subject in data.customers],
    "orders_only": lambda data: [({}, subject) for subject in data.heavy_customers],
    "search": _search,
    "search_filtered": _search_filtered,
    "search_uncached": lambda data: _uncached(_search(data), ("please", "recommend", "books")),
    "search_uncached_filtered": lambda data: _uncached(
        _search_filtered(data), ("novels", "suggest", "titles")
    ),
    "home": lambda data: [
        ({"query": q}, subject) for q, subject in zip(cycle(SEARCH_QUERIES), data.customers, strict=False)
    ],
    "place_order": lambda data: _place_order(data),
    # Zipf over customers: the cache hit rate a real read mix gets.
    "recommendations": _zipf,
    # The same 50 customers over and over: every measured request is a cache hit.
    "recommendations_hit": lambda data: [({}, subject) for subject in data.many_customers[:50]],
    # Every request a customer not asked for yet (the cache is emptied first): every one a miss.
    "recommendations_miss": lambda data: [({}, subject) for subject in data.many_customers],
}

ORDER = tuple(BUILDERS)
# Workloads that share a document with another.
DOCUMENTS = {
    **{name: "search" for name in ORDER if name.startswith("search")},
    **{name: "recommendations" for name in ORDER if name.startswith("recommendations")},
}


@dataclass(frozen=True, slots=True)
class Workload:
    name: str
    document: str
    requests: list[Request]
    skipped: str | None  # why this workload cannot run against the current schema


def load(name: str, data: BenchData, schema: Any, limit: int = 20_000) -> Workload:
    document = (BENCH_DIR / f"{DOCUMENTS.get(name, name)}.graphql").read_text()
    errors = validate(schema, parse(document))
    if errors:
        return Workload(name, document, [], "not in the schema yet: " + errors[0].message)
    requests = list(islice(BUILDERS[name](data), limit))
    if not requests:
        return Workload(name, document, [], "no request data for this workload yet")
    return Workload(name, document, requests, None)
