"""The `bookgraph` command line: serve, migrate, seed, import, index, schema, token, bench."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from auth.tokens import issue_token
from auth.viewer import Role
from catalog.demo import Habits
from cli.recs import recs
from cli.stores import cli_settings, console, run_with_stores
from config import ROOT, Settings, get_settings
from datasources.embedded import stop_embedded, with_embedded_stores
from observability.progress import bars
from observability.telemetry import configure_logging

app = typer.Typer(help="bookgraph: one GraphQL API over the bookstore's stores.", no_args_is_help=True)
app.add_typer(recs, name="recs")

DEFAULT_BOOKS, DEFAULT_CUSTOMERS, DEFAULT_ORDERS = 5_000, 1_000, 20_000


@app.command()
def migrate() -> None:
    """Apply the database migrations of both stores (inventory and orders)."""
    run_with_stores(cli_settings(), lambda _stores: asyncio.sleep(0))
    console.print("[green]migrations applied[/green]")


@app.command()
def seed(
    books: Annotated[int, typer.Option(min=1, help="Books in the demo catalog.")] = DEFAULT_BOOKS,
    customers: Annotated[
        int, typer.Option(min=1, help="Demo customers (subjects demo-customer-N).")
    ] = DEFAULT_CUSTOMERS,
    orders: Annotated[int, typer.Option(min=0, help="Orders in the demo history.")] = DEFAULT_ORDERS,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 42,
    habits: Annotated[
        Habits,
        typer.Option(
            help="How the customers shop: browsing their genres by popularity, or also following "
            "on from what they bought before (a history of another structure)."
        ),
    ] = Habits.BROWSING,
) -> None:
    """Load the deterministic demo data. Re-running it updates rows instead of duplicating them."""
    from ingest.seeding import seed_demo

    settings = cli_settings()
    now = settings.clock.now()
    with bars(console) as track:
        run_with_stores(
            settings,
            lambda stores: seed_demo(stores, books, customers, orders, seed, track, now=now, habits=habits),
        )
    console.print(f"[green]seeded[/green] {books} books, {customers} customers, {orders} orders")


@app.command()
def index(
    batch_size: Annotated[int, typer.Option(min=1, max=4096, help="Books embedded per batch.")] = 128,
) -> None:
    """Embed the catalog into the search store. Incremental: only changed books are re-embedded,
    points of deleted books are removed, and an interrupted run resumes where it stopped."""
    from ingest.indexing import index_catalog

    with bars(console) as track:
        report = run_with_stores(
            cli_settings(), lambda stores: index_catalog(stores, track, batch_size=batch_size)
        )
    console.print(
        f"[green]indexed[/green]: {report.embedded} embedded, {report.payload_updated} payloads updated, "
        f"{report.unchanged} unchanged, {report.deleted} removed"
    )


@app.command("import")
def import_catalog(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .jsonl catalog file.")],
    format: Annotated[str | None, typer.Option(help="csv or jsonl (default: from the extension).")] = None,
    reindex: Annotated[bool, typer.Option(help="Update the search index for the imported books.")] = True,
) -> None:
    """Import a catalog (isbn, title, authors, description, genres, published_year, price, stock).

    Bad rows are reported with their line number and skipped; every good row is kept.
    Rows are matched by ISBN, so importing a file again updates those books.
    """
    from catalog.importer import CatalogFormatError, RowError, read_catalog
    from catalog.records import BookRecord
    from datasources.inventory.bulk import write_books

    try:
        rows = read_catalog(path, format)
    except CatalogFormatError as exc:
        console.print(f"[red]cannot import {path}:[/red] {exc}")
        raise typer.Exit(2) from exc
    errors: list[RowError] = []

    def good_rows() -> Iterator[BookRecord]:
        for item in rows:
            if isinstance(item, RowError):
                errors.append(item)
            else:
                yield item

    async def work(stores: Any) -> int:
        from errors import SourceUnavailable
        from ingest.indexing import index_catalog

        with bars(console) as track:
            written = await write_books(stores.inventory, good_rows(), track("books", None))
            if written and reindex:
                # Keep search true to the catalog: re-embed what changed among the imported books.
                try:
                    await index_catalog(stores, track, book_ids=[book_id for book_id, _ in written.values()])
                except SourceUnavailable:
                    # The books are marked in the inventory: whoever follows the index applies them.
                    console.print(
                        "[yellow]search store unavailable (or held by the running server):[/yellow] "
                        "the index follows the imported books when it can"
                    )
        return len(written)

    try:
        imported = run_with_stores(cli_settings(), work)
    except CatalogFormatError as exc:
        console.print(f"[red]cannot import {path}:[/red] {exc}")
        raise typer.Exit(2) from exc
    if errors:
        table = Table("line", "field", "problem", title=f"{len({e.line for e in errors})} rows skipped")
        for error in errors:
            table.add_row(str(error.line), error.field or "-", error.message)
        console.print(table)
    console.print(f"[green]imported {imported} books[/green] from {path}")
    if errors:
        raise typer.Exit(1)


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply migrations before serving.")] = True,
    demo_data: Annotated[bool, typer.Option(help="Load the demo data when the stores are empty.")] = False,
    worker: Annotated[
        bool, typer.Option(help="Also start `bookgraph worker` (checkout recovery) as a separate process.")
    ] = False,
) -> None:
    """Serve GraphQL (GraphiQL at /graphql), starting embedded stores for unset URLs."""
    import subprocess
    import sys

    import uvicorn

    # SIGTERM (an orchestrator, `kill`) ends this process as SIGINT does, by unwinding it: the
    # embedded PostgreSQL and Redis it starts are stopped on the way out. uvicorn restores this
    # handler after its graceful shutdown and raises the signal again, which lands here.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    settings = cli_settings()
    if workers > 1 and not settings.qdrant_url:
        # The embedded Qdrant Edge shard lives in one process; several workers need a Qdrant server.
        raise typer.BadParameter(
            "more than one worker needs QDRANT_URL (a Qdrant server)", param_hint="--workers"
        )
    # Worker processes read their settings from the environment: hand them the stores started here.
    os.environ["INVENTORY_DATABASE_URL"] = settings.inventory_database_url or ""
    os.environ["ORDERS_DATABASE_URL"] = settings.orders_database_url or ""
    os.environ["REDIS_URL"] = settings.redis_url or ""
    # uvicorn's factory in this process reads them too, not the settings cached before.
    get_settings.cache_clear()

    async def prepare(stores: Any) -> None:
        from datasources.inventory.bulk import book_count
        from ingest.indexing import index_catalog
        from ingest.seeding import seed_demo
        from recommendations.recommender import recommender_for

        with bars(console) as track:
            if await book_count(stores.inventory) == 0:
                console.print("the stores are empty: loading the demo data (once)")
                await seed_demo(
                    stores,
                    DEFAULT_BOOKS,
                    DEFAULT_CUSTOMERS,
                    DEFAULT_ORDERS,
                    42,
                    track,
                    now=settings.clock.now(),
                )
            if settings.qdrant_url and not worker:
                # No process would index it in the background: incremental, so only a first
                # start embeds the catalog (later ones check it in seconds).
                await index_catalog(stores, track)
            # Otherwise the books never indexed are embedded in the background (by the server
            # holding the embedded shard, or by the worker), while the server already answers:
            # search from what is indexed so far, saying so (`extensions.searchIndex`, /readyz).
            # Recommendations ready before the first request (the worker keeps them fresh).
            recommender = recommender_for(settings, stores)
            await recommender.rebuild(track("recs", await recommender.history.line_count()))

    if demo_data:
        run_with_stores(settings, prepare, migrate=migrate)
    elif migrate:
        run_with_stores(settings, lambda _stores: asyncio.sleep(0))
    print_welcome(console, settings, f"http://{host}:{port}/graphql")
    configure_logging(settings.log_level, settings.log_json)
    # The same stores as the server (the environment above), so it lives as long as the server does.
    background = subprocess.Popen([sys.executable, "-m", "cli", "worker"]) if worker else None
    try:
        uvicorn.run(
            "app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # Our middleware writes the access line (with the request id) and our JSON handler
            # formats uvicorn's own lines too.
            access_log=False,
            log_config=None,
            # httptools with a deadline on request headers (gateway/slow_clients.py).
            http="gateway.slow_clients:HeaderDeadlineProtocol",
            # A WebSocket message is held to the body cap too (uvicorn's default is 16 MiB).
            ws_max_size=settings.max_body_bytes,
            timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        )
    finally:
        if background is not None:
            background.terminate()
            background.wait(timeout=10)
        stop_embedded()


def print_welcome(console: Console, settings: Settings, url: str) -> None:
    """Where GraphiQL is and, in development, a token to paste into it."""
    console.print(f"\n[bold]GraphiQL:[/bold] {url}")
    console.print("[bold]A token:[/bold] bookgraph token --sub demo-customer-1")
    console.print("  send it as the header `Authorization: Bearer <token>`")
    if settings.environment == "development":
        console.print("[dim]demo-customer-1:[/dim]")
        # On a line of its own, never wrapped at the terminal's width: it is copied and pasted.
        console.print(issue_token(settings, "demo-customer-1"), soft_wrap=True, highlight=False)
        console.print()


@app.command("worker")
def run_worker(
    once: Annotated[bool, typer.Option(help="One pass, then exit (for cron jobs and checks).")] = False,
) -> None:
    """Finish interrupted checkouts: PENDING orders are completed or rejected, and stock still held
    for a decided order follows its decision. Runs at start-up, then every RECOVERY_INTERVAL_SECONDS."""
    from cli import worker

    settings = cli_settings()
    configure_logging(settings.log_level, settings.log_json)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a foreground worker stops
        run_with_stores(settings, lambda stores: worker.run(settings, stores, once=once), migrate=False)


operations = typer.Typer(help="The client operations in gql/operations and their persisted-query manifest.")
app.add_typer(operations, name="operations")


@operations.command("build")
def operations_build(
    check: Annotated[
        bool, typer.Option(help="Fail if the manifest is out of date instead of writing it.")
    ] = False,
) -> None:
    """Turn gql/operations/*.graphql into gql/operations/manifest.json (operation id → document), the
    trusted documents the apps ship with. Every operation is validated against the schema first."""
    from graphql import parse, validate

    from gateway.persisted import MANIFEST_PATH, OPERATIONS_DIR, Manifest
    from schema.root import schema

    manifest = Manifest.build(OPERATIONS_DIR)
    for operation in manifest.operations.values():
        errors = validate(schema._schema, parse(operation.body))
        if errors:
            console.print(f"[red]{operation.name}[/red]: {errors[0].message}")
            raise typer.Exit(1)
    content = manifest.dumps()
    if check:
        if not MANIFEST_PATH.exists() or MANIFEST_PATH.read_bytes() != content:
            console.print(
                "[red]gql/operations/manifest.json is out of date[/red]: run `bookgraph operations build`"
            )
            raise typer.Exit(1)
        console.print(f"manifest up to date: {len(manifest.operations)} operations")
        return
    MANIFEST_PATH.write_bytes(content)
    console.print(
        f"[green]wrote[/green] {MANIFEST_PATH.relative_to(ROOT)}: {len(manifest.operations)} operations"
    )


@app.command()
def bench(
    scale: Annotated[
        float, typer.Option(min=0.001, help="1.0 = 100k books, 20k customers, ~1M order lines.")
    ] = 1.0,
    duration: Annotated[int, typer.Option(min=1, help="Seconds of load per workload.")] = 10,
    concurrency: Annotated[int, typer.Option(min=1, help="Open connections.")] = 16,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    workload: Annotated[list[str] | None, typer.Option(help="Run only these (repeatable).")] = None,
    profile: Annotated[str | None, typer.Option(help="Profile one workload with py-spy instead.")] = None,
    search_quality: Annotated[
        bool, typer.Option(help="Report precision@10 of semantic search against a keyword baseline instead.")
    ] = False,
    indexing: Annotated[
        int,
        typer.Option(
            min=0,
            help="Instead: index this many books into a fresh shard, beside the model's own speed on them.",
        ),
    ] = 0,
) -> None:
    """Measure the server under load: requests/s, latency, errors and statements per request.

    Seeds a dataset for the scale once (under var/bench/ unless store URLs are set), starts
    uvicorn as a separate process and drives every workload in bench/*.graphql with wrk.
    """
    from bench import runner
    from bench.report import print_indexing, print_results, print_search_quality
    from bench.workloads import ORDER

    chosen = tuple(workload) if workload else ORDER
    unknown = sorted(set(chosen) - set(ORDER) | ({profile} - set(ORDER) if profile else set()))
    if unknown:
        raise typer.BadParameter(f"unknown workload {unknown}; choose from {', '.join(ORDER)}")
    settings = get_settings()
    settings = with_embedded_stores(
        settings.model_copy(update={"data_dir": settings.data_dir / "bench" / f"scale-{scale:g}"})
    )
    if search_quality:
        print_search_quality(console, settings, scale)
        return
    if indexing:
        print_indexing(console, settings, scale, indexing)
        return
    options = runner.Options(
        scale=scale,
        duration=duration,
        concurrency=concurrency,
        workers=workers,
        workloads=chosen,
        profile=profile,
    )
    try:
        path, results, report = runner.run(options, settings)
    except RuntimeError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if profile:
        console.print(path.read_text())
        console.print(f"collapsed stacks and this table: {path.parent}/{path.stem.removesuffix('-top')}.*")
        return
    print_results(console, report, results)
    console.print(f"results: {path}")


@app.command()
def schema(
    output: Annotated[
        Path, typer.Option(help="Where to write the clients' SDL (no federation internals).")
    ] = ROOT / "gql" / "schema.graphql",
    subgraph_output: Annotated[
        Path, typer.Option(help="Where to write the subgraph SDL, for routers.")
    ] = ROOT / "gql" / "subgraph.graphql",
    check: Annotated[bool, typer.Option(help="Fail if a file differs instead of writing it.")] = False,
) -> None:
    """Write the GraphQL schema (SDL): the one clients build against, and the subgraph's for routers."""
    from schema.root import schema as graphql_schema
    from schema.sdl import client_sdl, subgraph_sdl

    files = {output: client_sdl(graphql_schema), subgraph_output: subgraph_sdl(graphql_schema)}
    if check:
        stale = [path for path, sdl in files.items() if not path.exists() or path.read_text() != sdl]
        for path in stale:
            console.print(f"[red]{path} is out of date:[/red] run `bookgraph schema`")
        if stale:
            raise typer.Exit(1)
        console.print("the SDL files are up to date")
        return
    for path, sdl in files.items():
        path.write_text(sdl)
        console.print(f"wrote {path}")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Subject: the customer's identity, e.g. demo-customer-1.")],
    name: Annotated[
        str | None, typer.Option(help="Display name (used when the customer is created).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Email (used when the customer is created).")] = None,
    role: Annotated[Role, typer.Option(help="customer, partner or admin.")] = Role.CUSTOMER,
    ttl: Annotated[int, typer.Option(min=60, help="Lifetime in seconds.")] = 7 * 24 * 3600,
) -> None:
    """Print a signed token for local use."""
    if role is Role.ANONYMOUS:
        raise typer.BadParameter("an anonymous viewer has no token", param_hint="--role")
    typer.echo(issue_token(get_settings(), sub, role=role, name=name, email=email, ttl_seconds=ttl))


if __name__ == "__main__":
    app()
