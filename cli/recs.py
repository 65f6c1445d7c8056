"""`bookgraph recs`: precompute the recommendations, tune HYBRID's blend, evaluate the strategies."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from cli.stores import cli_settings, console, run_with_stores
from observability.progress import bars

recs = typer.Typer(
    help="Recommendations: precompute them, tune the blend, or evaluate the strategies offline."
)


@recs.command("rebuild")
def recs_rebuild() -> None:
    """Recompute every book's co-purchase neighbours and the trending lists into Redis now
    (the worker does this on a schedule)."""
    from recommendations.recommender import recommender_for

    settings = cli_settings()

    async def work(stores: Any) -> tuple[int, int]:
        recommender = recommender_for(settings, stores)
        with bars(console) as track:
            return await recommender.rebuild(track("order lines", await recommender.history.line_count()))

    books, lists = run_with_stores(settings, work, migrate=False)
    console.print(f"[green]rebuilt[/green]: neighbours for {books} books, {lists} trending lists")


@recs.command("evaluate")
def recs_evaluate(
    k: Annotated[int, typer.Option(min=1, max=100, help="Length of the recommended lists.")] = 10,
) -> None:
    """HitRate@k, NDCG@k and coverage of every strategy on a hold-out of each customer's last order."""
    from datasources.inventory.bulk import book_count, genres_of_books
    from datasources.orders.purchases import PurchaseHistory
    from recommendations.evaluation import evaluate, table
    from recommendations.recommender import recommender_for

    settings = cli_settings()

    async def work(stores: Any) -> Any:
        history = PurchaseHistory(stores.orders)
        with bars(console) as track:
            # A copy of the embedded shard while the server holds it: this runs beside a server.
            async with stores.index.for_reading() as index:
                return await evaluate(
                    history,
                    index,
                    catalog_size=await book_count(stores.inventory),
                    genres=await genres_of_books(stores.inventory),
                    weights=await recommender_for(settings, stores).blend_weights(),  # as the API blends
                    half_life_days=settings.trending_half_life_days,
                    k=k,
                    progress=track("order lines", await history.line_count()),
                )

    Console().print(table(run_with_stores(settings, work, migrate=False), k))


@recs.command("tune")
def recs_tune(
    step: Annotated[float, typer.Option(min=0.02, max=0.5, help="Grid step of the weights.")] = 0.1,
    k: Annotated[int, typer.Option(min=1, max=100, help="Length of the recommended lists.")] = 10,
    write: Annotated[bool, typer.Option(help="Store the weights found for the API to use.")] = True,
) -> None:
    """Choose HYBRID's weights by the offline evaluation: every blend on a grid is scored on the
    orders before each customer's last (their own last held out), the best is judged on the real
    hold-out beside the defaults, and stored in Redis, where the API reads it."""
    from datetime import UTC, datetime

    from datasources.inventory.bulk import genres_of_books
    from datasources.orders.purchases import PurchaseHistory
    from recommendations.evaluation import Blends, read_sales, signals, simplex, split, tune
    from recommendations.recommender import recommender_for, weights_of

    settings = cli_settings()

    async def work(stores: Any) -> tuple[Any, float, float, float, int]:
        history = PurchaseHistory(stores.orders)
        genres = await genres_of_books(stores.inventory)
        half_life = settings.trending_half_life_days
        with bars(console) as track:
            held = split(await read_sales(history, track("order lines", await history.line_count())))
            fitting = split(held.training)  # the weights never see the hold-out they are judged on
            async with stores.index.for_reading() as index:  # beside a running server, as evaluate
                fitted = Blends.of(await signals(fitting, index, genres, half_life_days=half_life))
                judged = Blends.of(await signals(held, index, genres, half_life_days=half_life))
            found = tune(fitted, k=k, step=step, progress=track("blends", sum(1 for _ in simplex(step))))
        defaults = weights_of(settings)
        tuned_rate, default_rate = judged.hit_rate(found, k), judged.hit_rate(defaults, k)
        if write and judged.evaluated:
            await recommender_for(settings, stores).cache.store_weights(
                {
                    "weights": found.as_json(),
                    f"hit_rate_at_{k}": tuned_rate,
                    f"defaults_hit_rate_at_{k}": default_rate,
                    "customers": judged.evaluated,
                    "tuned_at": datetime.now(UTC).isoformat(),
                }
            )
        return found, fitted.hit_rate(found, k), tuned_rate, default_rate, judged.evaluated

    found, fitted_rate, tuned_rate, default_rate, customers = run_with_stores(settings, work, migrate=False)
    if not customers:
        console.print("[yellow]no customer with two orders: nothing to tune on, the defaults stay[/yellow]")
        raise typer.Exit(1)
    console.print(
        f"weights: content {found.content:.2f}, co-purchase {found.co_purchase:.2f}, "
        f"trending {found.trending:.2f}, genres {found.genres:.2f}"
    )
    console.print(
        f"HYBRID HitRate@{k}: {fitted_rate:.3f} where tuned, {tuned_rate:.3f} on the hold-out "
        f"(defaults {default_rate:.3f}; {customers} customers)"
    )
    if write:
        console.print("[green]stored[/green]: the API blends with these weights from now on")
