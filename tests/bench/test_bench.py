"""The benchmark harness's own logic (timings themselves are never asserted in tests)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from bench import runner, workloads
from bench.workloads import BenchData
from config import Settings
from datasources.measuring import customers_by_order_count, postgraphile_shape
from datasources.stores import Stores
from schema.root import schema

DATA = BenchData(
    book_ids=["Qm9vazox", "Qm9vazoy"],
    genres=["Mystery", "Poetry"],
    customers=["demo-customer-1", "demo-customer-2"],
    heavy_customers=["demo-customer-1"],
    many_customers=[f"demo-customer-{n}" for n in range(1, 101)],
)


def test_every_workload_has_a_document_and_runs_or_says_why() -> None:
    loaded = {name: workloads.load(name, DATA, schema._schema) for name in workloads.ORDER}
    documents = {workloads.DOCUMENTS.get(name, name) for name in loaded}
    assert documents == {p.stem for p in workloads.BENCH_DIR.glob("*.graphql")}
    for name in (
        "catalog_page",
        "order_history",
        "orders_only",
        "search",
        "search_uncached_filtered",
        "place_order",
        "home",
        "recommendations",
        "recommendations_hit",
        "recommendations_miss",
    ):
        assert loaded[name].skipped is None and loaded[name].requests, name
    keys = [variables["input"]["idempotencyKey"] for variables, _ in loaded["place_order"].requests]
    assert len(set(keys)) == len(keys)  # every order is a new one, not a replay


def test_requests_rotate_over_the_data() -> None:
    catalog = workloads.load("catalog_page", DATA, schema._schema)
    assert len(catalog.requests) == 2 * 3  # every genre in every ordering
    assert {v["filter"]["genres"][0] for v, _ in catalog.requests} == {"Mystery", "Poetry"}
    history = workloads.load("order_history", DATA, schema._schema)
    assert [subject for _, subject in history.requests] == DATA.customers


def test_lua_script_carries_every_request_and_a_token_per_viewer(tmp_path: Path) -> None:
    history = workloads.load("order_history", DATA, schema._schema)
    script = runner.lua_script(history, "s" * 48, tmp_path).read_text()
    assert "{BODIES}" not in script and "{TOKENS}" not in script
    assert script.count("OrderHistory") == 2
    assert script.count("[==[eyJhbGciOi") == 2  # one JWT per request, signed for its customer


def test_top_functions_aggregates_collapsed_stacks(tmp_path: Path) -> None:
    stacks = tmp_path / "stacks.folded"
    stacks.write_text(
        'process 1:"uvicorn";main (app.py:1);handle (app.py:10);parse (graphql/parser.py:5) 30\n'
        'process 1:"uvicorn";main (app.py:1);handle (app.py:12);execute (graphql/executor.py:9) 70\n'
    )
    table = runner.top_functions(stacks).splitlines()
    assert table[1].split() == ["70.0", "70.0", "execute", "(graphql/executor.py)"]
    assert table[2].split() == ["30.0", "30.0", "parse", "(graphql/parser.py)"]
    assert "100 samples" in table[-1]


def test_dataset_scale() -> None:
    assert runner.dataset(1.0) == (100_000, 20_000, 450_000)
    assert runner.dataset(0.01) == (1_000, 200, 4_500)


def test_uncached_search_queries_are_all_distinct() -> None:
    uncached = workloads.load("search_uncached", DATA, schema._schema)
    queries = [v["query"] for v, _ in uncached.requests]
    assert len(queries) == len(set(queries)) > 4096  # more than the embedding cache holds


def test_keywords_drop_stopwords() -> None:
    from bench.search_quality import keywords

    assert keywords("How to bake the best sourdough at home") == ["bake", "best", "sourdough", "home"]


async def test_semantic_search_beats_the_keyword_baseline(stores: Any, embedder: Any) -> None:
    from bench.search_quality import LABELLED, evaluate

    rows = await evaluate(stores, embedder)
    assert len(rows) == len(LABELLED)
    semantic = sum(r.semantic for r in rows) / len(rows)
    keyword = sum(r.keyword for r in rows) / len(rows)
    assert semantic > keyword + 0.2, (semantic, keyword)


def test_the_recommendation_mix_favours_a_few_customers_like_real_traffic() -> None:
    mix = workloads.load("recommendations", DATA, schema._schema)
    counts = Counter(subject for _, subject in mix.requests)
    ranked = [counts[subject] for subject in DATA.many_customers]
    assert ranked[0] > 10 * ranked[-1] > 0  # a long tail, not a uniform spread
    misses = workloads.load("recommendations_miss", DATA, schema._schema)
    assert len({subject for _, subject in misses.requests}) == len(misses.requests)


def test_a_first_answer_counts_when_it_holds_something() -> None:
    from bench.runner import _has_items

    placed = {"placeOrder": {"order": {"id": "T3JkZXI6MQ", "status": "CONFIRMED"}, "userErrors": []}}
    refused = {"placeOrder": {"order": None, "userErrors": []}}
    assert _has_items(placed) and _has_items({"books": {"edges": [{"node": {"title": "A"}}]}})
    assert not _has_items(refused) and not _has_items({"searchBooks": {"edges": []}})


async def test_the_indexing_measure_encodes_and_indexes_the_same_books(stores: Any, embedder: Any) -> None:
    from bench.indexing import BATCH_SIZES, measure

    rows = await measure(stores, embedder, 20)
    assert [row.what for row in rows[:-1]] == [f"model alone, batches of {size}" for size in BATCH_SIZES]
    assert rows[-1].what == "bookgraph index (fresh shard)"
    # The same twenty books each time, the last row's embedded into a shard of its own.
    assert {row.books for row in rows} == {20}


async def test_the_statement_bench_times_the_plan_and_the_reference_on_the_same_rows(
    stores: Stores, settings: Settings
) -> None:
    """`python -m bench.statement`: both statements run, and the reference writes the same orders
    the plan's statement does for the customer with the most orders."""
    from bench import statement

    times = await statement.measure(settings.orders_database_url, runs=1, executions=2)
    assert set(times) == {"plan", "postgraphile shape"} and all(t[0] > 0 for t in times.values())
    [subject] = await customers_by_order_count(stores.orders, 1)
    reference = json.loads(await postgraphile_shape(stores.orders, subject))["orders"]
    assert 0 < len(reference) <= 50
    planned = await statement.planned_data(stores.orders, subject)
    assert [o["number"] for o in reference] == [
        e["node"]["number"] for e in planned["viewer"]["orders"]["edges"]
    ]
