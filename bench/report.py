"""Tables for what `bookgraph bench` measured."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.indexing import IndexingRow
from bench.runner import Result, prepare
from bench.search_quality import QualityRow, evaluate
from config import Settings

STORES = ("inventory", "orders", "search")


def print_results(console: Console, report: dict[str, Any], results: list[Result]) -> None:
    rows, options = report["dataset"]["rows"], report["options"]
    table = Table(
        "workload", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", *(f"{store}/req" for store in STORES),
        "cache hits", "planned",
        title=f"{rows['books']:,} books, {rows['orders']:,} orders, {rows['order_lines']:,} lines; "
        f"{options['concurrency']} connections, {options['duration']} s, {options['workers']} worker(s)",
    )  # fmt: skip
    for r in results:
        if r.skipped:
            table.add_row(r.workload, "[dim]skipped[/dim]")
            continue
        timings = (f"{r.rps:,.0f}", f"{r.p50_ms:.1f}", f"{r.p90_ms:.1f}", f"{r.p99_ms:.1f}")
        statements = (str(r.statements_per_request.get(store, "n/a")) for store in STORES)
        hits = f"{r.cache_hit_rate:.0%}" if r.cache_hit_rate is not None else ""
        planned = f"{r.planned:.0%}" if r.planned is not None else ""
        table.add_row(r.workload, *timings, str(r.errors), *statements, hits, planned)
    Console(width=max(120, console.width)).print(table)
    for r in results:
        if r.skipped:
            console.print(f"[dim]{r.workload} skipped: {r.skipped}[/dim]")


def print_search_quality(console: Console, settings: Settings, scale: float) -> None:
    from datasources.stores import Stores
    from embeddings.model import get_embedder

    async def main() -> list[QualityRow]:
        await prepare(settings, scale, index=True)
        stores = Stores.open(settings, batch=True)
        try:
            return await evaluate(stores, get_embedder())
        finally:
            await stores.close()

    rows = asyncio.run(main())
    table = Table("query", "genre", "semantic P@10", "keyword P@10", title="search quality")
    for row in rows:
        table.add_row(row.query, row.genre, f"{row.semantic:.1f}", f"{row.keyword:.1f}")
    semantic = sum(r.semantic for r in rows) / len(rows)
    keyword = sum(r.keyword for r in rows) / len(rows)
    table.add_row(
        "[bold]mean[/bold]",
        f"{len(rows)} queries",
        f"[bold]{semantic:.2f}[/bold]",
        f"[bold]{keyword:.2f}[/bold]",
    )
    Console(width=max(160, console.width)).print(table)


def print_indexing(console: Console, settings: Settings, scale: float, books: int) -> None:
    from bench.indexing import measure
    from datasources.stores import Stores
    from embeddings.model import get_embedder

    async def main() -> list[IndexingRow]:
        await prepare(settings, scale, index=False)
        stores = Stores.open(settings, batch=True)
        try:
            return await measure(stores, get_embedder(), books)
        finally:
            await stores.close()

    rows = asyncio.run(main())
    ceiling = max(row.per_second for row in rows[:-1])
    table = Table("", "books", "seconds", "books/s", "of the ceiling", title="indexing throughput")
    for row in rows:
        table.add_row(
            row.what,
            f"{row.books:,}",
            f"{row.seconds:.1f}",
            f"{row.per_second:.1f}",
            f"{row.per_second / ceiling:.0%}",
        )
    console.print(table)
