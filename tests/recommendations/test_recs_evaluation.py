"""Offline evaluation of the recommendation strategies: the metric maths by hand, the leave-last-out split
on a few hand-made sales, and a whole evaluation on the session's demo stores."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from datasources.inventory.bulk import genres_of_books
from datasources.orders.purchases import PurchaseHistory, Sale
from datasources.stores import Stores
from recommendations.algorithms import from_genres, genre_shares
from recommendations.evaluation import (
    Blends,
    HoldOut,
    Signals,
    StrategyScore,
    evaluate,
    hit_and_ndcg,
    score,
    signals,
    simplex,
    split,
    table,
    tune,
)
from recommendations.values import RECENCY_OF_GENRES, Strategy, Weights


def test_hit_at_rank_one_is_a_perfect_ndcg() -> None:
    assert hit_and_ndcg([5, 6, 7], {5}, k=10) == (1.0, 1.0)


def test_a_single_relevant_book_at_rank_three() -> None:
    hit, ndcg = hit_and_ndcg([1, 2, 3, 4], {3}, k=10)
    assert hit == 1.0
    assert ndcg == pytest.approx(1 / math.log2(4)) and ndcg == pytest.approx(0.5)


def test_no_relevant_book_in_the_top_k() -> None:
    assert hit_and_ndcg([1, 2, 3], {9}, k=10) == (0.0, 0.0)
    # Relevant, but below the cut-off.
    assert hit_and_ndcg([1, 2, 3], {3}, k=2) == (0.0, 0.0)
    assert hit_and_ndcg([], {3}, k=10) == (0.0, 0.0)


def test_ideal_dcg_is_over_at_most_k_relevant_books() -> None:
    # Two relevant at ranks 1 and 3: (1 + 0.5) / (1 + 1/log2(3)).
    hit, ndcg = hit_and_ndcg([1, 2, 3], {1, 3}, k=10)
    assert hit == 1.0 and ndcg == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # Three relevant but k = 1: the ideal is one hit at rank 1, which the list has.
    assert hit_and_ndcg([1, 2, 3], {1, 2, 3}, k=1) == (1.0, 1.0)


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError):
        hit_and_ndcg([1], {1}, k=0)


def test_genre_shares_follow_recent_purchases_and_sum_to_one() -> None:
    genres = {1: ("Mystery",), 2: ("Mystery", "History"), 3: ("Poetry",)}
    shares = genre_shares([1, 2, 3], genres)
    assert sum(shares.values()) == pytest.approx(1.0)
    # Book 1 (most recent) counts whole for Mystery, book 2 half for each of its two genres.
    r = RECENCY_OF_GENRES
    total = 1 + r + r * r
    assert shares["Mystery"] == pytest.approx((1 + r / 2) / total)
    assert shares["History"] == pytest.approx(r / 2 / total)
    assert shares["Poetry"] == pytest.approx(r * r / total)
    assert genre_shares([9], genres) == {}


def test_popular_in_genres_weighs_each_genre_by_the_customers_share() -> None:
    popular = {"Mystery": [(10, 40.0), (11, 20.0)], "Poetry": [(20, 5.0), (10, 1.0)]}
    scored = from_genres({"Mystery": 0.75, "Poetry": 0.25}, popular)
    # A genre's first scores its share; a book in two lists adds both parts; the best part names it.
    assert scored[10] == (pytest.approx(0.75 + 0.25 * 0.2), "Mystery")
    assert scored[11] == (pytest.approx(0.375), "Mystery")
    assert scored[20] == (pytest.approx(0.25), "Poetry")
    assert all(0.0 <= score <= 1.0 for score, _ in scored.values())


def hybrid(trained: Signals, weights: Weights) -> float:
    """HYBRID's HitRate@10 as the evaluation reports it: what the arrays `tune` uses must match."""
    return next(s.hit_rate for s in score(trained, weights, catalog_size=1) if s.strategy == "HYBRID")


def test_tuning_finds_the_signal_that_predicts() -> None:
    # Two customers; the held-out book is first for POPULAR_IN_GENRES and last for the others.
    held = HoldOut([], {1: [100], 2: [200]}, {1: {7}, 2: {8}})

    def signals_for(good: int, rest: list[int]) -> dict[Strategy, dict[int, tuple[float, int | None]]]:
        noise = {book: (1.0 - i * 0.01, None) for i, book in enumerate(rest)}
        return {
            Strategy.TRENDING: noise,
            Strategy.POPULAR_IN_GENRES: {good: (1.0, None)},
            Strategy.CO_PURCHASE: noise,
            Strategy.CONTENT: noise,
        }

    trained = Signals(held, {1: signals_for(7, list(range(20, 40))), 2: signals_for(8, list(range(40, 60)))})
    assert hybrid(trained, Weights()) == 0.0  # the default blend gives genres no weight
    # The arrays tune scores with agree with the blend that serves, for every weighting tried.
    blends = Blends.of(trained)
    for weights in simplex(0.25):
        assert blends.hit_rate(weights) == hybrid(trained, weights), weights
    best = tune(blends, step=0.25)
    assert hybrid(trained, best) == 1.0 and best.genres > 0
    grid = list(simplex(0.25))
    assert len(grid) == 35 and all(
        sum((w.content, w.co_purchase, w.trending, w.genres)) == pytest.approx(1.0) for w in grid
    )


T0 = datetime(2025, 1, 1, tzinfo=UTC)


def sale(order: int, customer: int, day: int, book: int) -> Sale:
    return Sale(order, customer, T0 + timedelta(days=day), book, 1)


def test_split_holds_out_each_customers_last_order() -> None:
    sales = [
        # Customer 1: the last order by time is order 3 (order ids do not follow time here).
        sale(3, 1, 5, 30),
        sale(3, 1, 5, 10),  # bought before: not relevant
        sale(1, 1, 1, 10),
        sale(1, 1, 1, 11),
        sale(2, 1, 2, 12),
        # Customer 2: one order only, kept for training, not evaluated.
        sale(4, 2, 3, 40),
        # Customer 3: two orders on the same instant, the higher order id is the last; it repeats a book.
        sale(5, 3, 4, 50),
        sale(6, 3, 4, 50),
    ]
    held = split(sales)
    assert held.relevant == {1: {30}}
    assert held.histories == {1: [12, 10, 11]}  # most recent first, then book id
    assert sorted({s.order_id for s in held.training}) == [1, 2, 4, 5]


async def test_evaluation_on_the_demo_stores(stores: Stores) -> None:
    chunks: list[int] = []
    history = PurchaseHistory(stores.orders)
    scores = await evaluate(
        history,
        stores.index,
        catalog_size=400,
        genres=await genres_of_books(stores.inventory),
        progress=chunks.append,
    )

    assert [s.strategy for s in scores] == [
        "TRENDING",
        "POPULAR_IN_GENRES",
        "CO_PURCHASE",
        "CONTENT",
        "HYBRID",
    ]
    # Every counted line went through the progress callback (cancelled and rejected orders are not counted).
    assert 0 < sum(chunks) <= await history.line_count()
    by_name: dict[str, StrategyScore] = {s.strategy: s for s in scores}
    for one in scores:
        assert 0.0 <= one.hit_rate <= 1.0
        assert 0.0 <= one.ndcg <= 1.0
        assert 0.0 < one.coverage <= 1.0
        assert one.ndcg <= one.hit_rate  # NDCG is 0 without a hit and at most 1 with one
    assert scores[0].customers > 0 and len({s.customers for s in scores}) == 1
    # Trending recommends (nearly) one list to everyone; the personal strategies spread wider.
    for name in ("POPULAR_IN_GENRES", "CO_PURCHASE", "CONTENT", "HYBRID"):
        assert by_name[name].coverage > by_name["TRENDING"].coverage

    held = split([sale async for chunk in history.all_sales() for sale in chunk])
    trained = await signals(held, stores.index, await genres_of_books(stores.inventory))
    blends = Blends.of(trained)
    for weights in (Weights(), Weights(0.0, 0.7, 0.0, 0.3), Weights(0.25, 0.25, 0.25, 0.25)):
        assert blends.hit_rate(weights) == pytest.approx(hybrid(trained, weights))

    console = Console(width=120, record=True)
    console.print(table(scores))
    text = console.export_text()
    assert "HitRate@10" in text and "vs TRENDING" in text and "baseline" in text
