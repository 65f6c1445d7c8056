"""Offline evaluation of the recommendation strategies on a leave-last-out hold-out.

Every customer's orders are put in time order (placed_at, then order id) and the LAST one is held out;
customers with fewer than two orders are not evaluated, but their orders, and every customer's earlier
orders, form the training set. The models are trained once on the training set with exactly the code
that serves (`recommender`): co-purchase neighbours from the training baskets (each customer's
distinct books), and the trending list from the training sales of the TRENDING_WINDOW before the
latest training order (that instant is "now").
Each evaluated customer then gets the top k of each strategy, from the distinct books they bought in
training (most recent first), never a book they already bought, and is scored against the distinct
books of the held-out order that they had not bought before (a customer whose held-out order only
repeats earlier purchases is skipped):

- HitRate@k: the share of customers with at least one held-out book in their top k;
- NDCG@k: binary relevance, ideal DCG over min(k, number of held-out books);
- coverage: distinct books recommended to anyone, over the number of books in the catalog.

Caveats:
- No stock filtering: what is in stock today says nothing about what was on the shelf when the
  held-out order was placed, and filtering would penalise the strategies for today's stock.
- The split is per customer, not one global cut-off in time, so a customer's held-out order may be
  older than other customers' training orders (the trending list and the neighbours may have seen a
  little of the "future" of that customer). It keeps every customer with two orders in the evaluation,
  which matters on small histories.
- CONTENT uses the vectors of the current index, computed from today's catalog text.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from rich.table import Table

from datasources.orders.purchases import PurchaseHistory, Sale
from datasources.redis.recommendations import Scored
from datasources.search.index import VectorIndex
from recommendations.algorithms import (
    Advance,
    below,
    blend,
    co_purchase_neighbours,
    from_genres,
    from_neighbours,
    from_vectors,
    genre_shares,
    rank,
    top,
    trending_scores,
)
from recommendations.values import (
    LIST_SIZE,
    TRENDING_PER_GENRE,
    TRENDING_WINDOW,
    Candidates,
    Strategy,
    Weights,
)

BLENDED = (Strategy.CONTENT, Strategy.CO_PURCHASE, Strategy.TRENDING, Strategy.POPULAR_IN_GENRES)
# The order of the report: the two popularity baselines first, the others are compared with them.
STRATEGIES = (
    Strategy.TRENDING,
    Strategy.POPULAR_IN_GENRES,
    Strategy.CO_PURCHASE,
    Strategy.CONTENT,
    Strategy.HYBRID,
)
DEFAULT_WEIGHTS = Weights()  # the serving defaults


@dataclass(frozen=True, slots=True)
class StrategyScore:
    strategy: str  # "TRENDING", "CO_PURCHASE", "CONTENT", "HYBRID"
    hit_rate: float  # HitRate@k: share of evaluated customers with >= 1 held-out book in their top k
    ndcg: float  # NDCG@k, binary relevance, ideal DCG over min(k, |held-out|)
    coverage: float  # distinct books recommended to anyone / books in the catalog
    customers: int  # customers evaluated


@dataclass(frozen=True, slots=True)
class HoldOut:
    """The split: training lines, and for each evaluated customer their history and held-out books."""

    training: list[Sale]  # every line of every training order
    histories: dict[int, list[int]]  # customer → distinct training books, most recently bought first
    relevant: dict[int, set[int]]  # customer → held-out order's books they had not bought in training


def _ignore(_: int) -> None:
    return None


def hit_and_ndcg(ranked: Sequence[int], relevant: AbstractSet[int], k: int) -> tuple[float, float]:
    """(hit, NDCG) of one ranked list at k, binary relevance. A book repeated in `ranked` counts once."""
    if k < 1:
        raise ValueError("k must be at least 1")
    seen: set[int] = set()
    dcg = 0.0
    for position, book in enumerate(ranked[:k]):
        if book in relevant and book not in seen:
            dcg += 1.0 / math.log2(position + 2)
        seen.add(book)
    ideal = sum(1.0 / math.log2(position + 2) for position in range(min(k, len(relevant))))
    if ideal == 0.0:
        return 0.0, 0.0
    return (1.0 if dcg > 0.0 else 0.0), dcg / ideal


def split(sales: Iterable[Sale]) -> HoldOut:
    """Hold out each customer's last order (by placed_at, then order id); see the module docstring."""
    lines: defaultdict[int, list[Sale]] = defaultdict(list)
    for sale in sales:
        lines[sale.order_id].append(sale)
    by_customer: defaultdict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for order_id, order in lines.items():
        by_customer[order[0].customer_id].append((order[0].placed_at, order_id))

    training: list[Sale] = []
    histories: dict[int, list[int]] = {}
    relevant: dict[int, set[int]] = {}
    for customer, placed in by_customer.items():
        placed.sort()
        kept = placed[:-1] if len(placed) > 1 else placed
        last_bought: dict[int, tuple[datetime, int]] = {}
        for placed_at, order_id in kept:
            training.extend(lines[order_id])
            for sale in lines[order_id]:
                # Orders in time order: the last assignment is the most recent purchase.
                last_bought[sale.book_id] = (placed_at, order_id)
        if len(placed) < 2:
            continue
        new = {sale.book_id for sale in lines[placed[-1][1]]} - last_bought.keys()
        if not new:
            continue
        # Most recent first, then book id: the order PurchaseHistory.of_customer serves histories in.
        histories[customer] = [
            book
            for book, _ in sorted(last_bought.items(), key=lambda item: (*item[1], -item[0]), reverse=True)
        ]
        relevant[customer] = new
    training.sort(key=lambda sale: (sale.order_id, sale.book_id))
    return HoldOut(training, histories, relevant)


async def read_sales(history: PurchaseHistory, progress: Callable[[int], None] = _ignore) -> list[Sale]:
    """Every counted order line, advancing `progress` a chunk at a time."""
    sales: list[Sale] = []
    async for chunk in history.all_sales():
        sales.extend(chunk)
        progress(len(chunk))
    return sales


@dataclass(frozen=True, slots=True)
class Signals:
    """Every single strategy's candidates for every evaluated customer, computed once: a blend of
    them is cheap, so weights can be scored by the hundred (`tune`)."""

    held: HoldOut
    by_customer: dict[int, dict[Strategy, Candidates]]


def popular_by_genre(
    sales: Sequence[Sale], now: datetime, half_life_days: float, genres: Mapping[int, Sequence[str]]
) -> dict[str, Scored]:
    """The training's counterpart of the worker's per-genre trending lists: each genre's sales of the
    TRENDING_WINDOW before `now`, decayed, then all-time best sellers below them."""
    recent = trending_scores([s for s in sales if s.placed_at >= now - TRENDING_WINDOW], now, half_life_days)
    copies: defaultdict[int, float] = defaultdict(float)
    for sale in sales:
        copies[sale.book_id] += sale.quantity
    ranked = top(recent, len(recent))
    ranked += below(ranked[-1][1] if ranked else 1.0, top(copies, len(copies)), recent.keys())
    lists: defaultdict[str, Scored] = defaultdict(list)
    for book, score in ranked:
        for genre in genres.get(book, ()):
            if len(lists[genre]) < TRENDING_PER_GENRE:
                lists[genre].append((book, score))
    return dict(lists)


async def signals(
    held: HoldOut,
    index: VectorIndex,
    genres: Mapping[int, Sequence[str]],
    *,
    half_life_days: float = 7.0,
) -> Signals:
    """Trains every model on `held.training` with the code that serves, and asks each for every
    evaluated customer's candidates."""
    baskets: defaultdict[int, set[int]] = defaultdict(set)
    for sale in held.training:
        baskets[sale.customer_id].add(sale.book_id)
    neighbours = co_purchase_neighbours(baskets.values())
    trending: Candidates = {}
    popular: dict[str, Scored] = {}
    if held.training:
        now = max(sale.placed_at for sale in held.training)
        recent = [sale for sale in held.training if sale.placed_at >= now - TRENDING_WINDOW]
        trending = {
            book: (score, None)
            for book, score in top(trending_scores(recent, now, half_life_days), LIST_SIZE)
        }
        popular = popular_by_genre(held.training, now, half_life_days, genres)
    by_customer: dict[int, dict[Strategy, Candidates]] = {}
    for customer, bought in held.histories.items():
        in_genres = from_genres(genre_shares(bought, genres), popular)
        by_customer[customer] = {
            Strategy.TRENDING: trending,
            Strategy.POPULAR_IN_GENRES: {book: (score, None) for book, (score, _) in in_genres.items()},
            Strategy.CO_PURCHASE: from_neighbours(bought, neighbours),
            Strategy.CONTENT: await from_vectors(index, bought),
        }
    return Signals(held, by_customer)


def score(signals: Signals, weights: Weights, *, catalog_size: int, k: int = 10) -> list[StrategyScore]:
    """HitRate@k, NDCG@k and coverage of each strategy, and of their blend with `weights`."""
    if k < 1:
        raise ValueError("k must be at least 1")
    hits: dict[Strategy, float] = dict.fromkeys(STRATEGIES, 0.0)
    gains: dict[Strategy, float] = dict.fromkeys(STRATEGIES, 0.0)
    shown: dict[Strategy, set[int]] = {strategy: set() for strategy in STRATEGIES}
    for customer, by_strategy in signals.by_customer.items():
        candidates = {**by_strategy, Strategy.HYBRID: blend(by_strategy, weights)}
        exclude = set(signals.held.histories[customer])
        for strategy in STRATEGIES:
            ranked = [r.book_id for r in rank(candidates[strategy], strategy, exclude, k)]
            hit, ndcg = hit_and_ndcg(ranked, signals.held.relevant[customer], k)
            hits[strategy] += hit
            gains[strategy] += ndcg
            shown[strategy].update(ranked)
    customers = len(signals.by_customer)
    return [
        StrategyScore(
            strategy=strategy.value,
            hit_rate=hits[strategy] / customers if customers else 0.0,
            ndcg=gains[strategy] / customers if customers else 0.0,
            coverage=len(shown[strategy]) / catalog_size if catalog_size > 0 else 0.0,
            customers=customers,
        )
        for strategy in STRATEGIES
    ]


def simplex(step: float) -> Iterator[Weights]:
    """Every blend whose four weights are multiples of `step` summing to 1."""
    n = round(1 / step)
    for content in range(n + 1):
        for co_purchase in range(n + 1 - content):
            for trending in range(n + 1 - content - co_purchase):
                genres = n - content - co_purchase - trending
                yield Weights(content / n, co_purchase / n, trending / n, genres / n)


@dataclass(frozen=True, slots=True)
class Blends:
    """`Signals` as arrays, to score many blends fast: a row per (customer, candidate book not
    bought), with each strategy's score over its best for that customer, as `blend` divides them."""

    customers: np.ndarray  # the row's customer, rows grouped by customer
    books: np.ndarray
    parts: np.ndarray  # a row of scores per candidate, a column per strategy of `BLENDED`
    relevant: np.ndarray  # whether the row's book is in the customer's held-out order
    evaluated: int

    @classmethod
    def of(cls, signals: Signals) -> Blends:
        customers: list[int] = []
        books: list[int] = []
        parts: list[list[float]] = []
        relevant: list[bool] = []
        for customer, by_strategy in signals.by_customer.items():
            bests = [max((sc for sc, _ in by_strategy[s].values()), default=0.0) for s in BLENDED]
            exclude = set(signals.held.histories[customer])
            candidates = sorted({b for s in BLENDED for b in by_strategy[s]} - exclude)
            for book in candidates:
                customers.append(customer)
                books.append(book)
                parts.append(
                    [
                        by_strategy[s][book][0] / best if best > 0 and book in by_strategy[s] else 0.0
                        for s, best in zip(BLENDED, bests, strict=True)
                    ]
                )
                relevant.append(book in signals.held.relevant[customer])
        return cls(
            np.asarray(customers, dtype=np.int64),
            np.asarray(books, dtype=np.int64),
            np.asarray(parts, dtype=np.float64).reshape(-1, len(BLENDED)),
            np.asarray(relevant, dtype=bool),
            len(signals.by_customer),
        )

    def hit_rate(self, weights: Weights, k: int = 10) -> float:
        """HYBRID's HitRate@k with `weights`, as `score` reports it (up to the order of blends that
        tie to the last bit)."""
        if not self.evaluated or not len(self.books):
            return 0.0
        blended = self.parts @ np.asarray([weights.of(s) for s in BLENDED])
        order = np.lexsort((self.books, -blended, self.customers))
        customers = self.customers[order]
        starts = np.flatnonzero(np.r_[True, customers[1:] != customers[:-1]])
        position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        hits = self.relevant[order] & (position < k)
        return len(np.unique(customers[hits])) / self.evaluated


def tune(blends: Blends, *, k: int = 10, step: float = 0.1, progress: Advance = _ignore) -> Weights:
    """The blend with the best HYBRID HitRate@k on `blends` (ties: the first found)."""
    best, best_rate = DEFAULT_WEIGHTS, -1.0
    for weights in simplex(step):
        rate = blends.hit_rate(weights, k)
        if rate > best_rate:
            best, best_rate = weights, rate
        progress(1)
    return best


async def evaluate(
    history: PurchaseHistory,
    index: VectorIndex,
    *,
    catalog_size: int,
    genres: Mapping[int, Sequence[str]],
    weights: Weights = DEFAULT_WEIGHTS,
    half_life_days: float = 7.0,
    k: int = 10,
    progress: Callable[[int], None] = _ignore,
) -> list[StrategyScore]:
    """HitRate@k, NDCG@k and coverage of each strategy on the hold-out, TRENDING first."""
    if k < 1:
        raise ValueError("k must be at least 1")
    held = split(await read_sales(history, progress))
    trained = await signals(held, index, genres, half_life_days=half_life_days)
    return score(trained, weights, catalog_size=catalog_size, k=k)


def table(scores: Sequence[StrategyScore], k: int = 10) -> Table:
    """The scores as a table, with each strategy's hit rate relative to TRENDING's."""
    baseline = next((s.hit_rate for s in scores if s.strategy == Strategy.TRENDING.value), None)
    customers = max((s.customers for s in scores), default=0)
    result = Table(title=f"Recommendations, last order held out ({customers} customers)")
    result.add_column("strategy", no_wrap=True)
    result.add_column(f"HitRate@{k}", justify="right")
    result.add_column("vs TRENDING", justify="right")
    result.add_column(f"NDCG@{k}", justify="right")
    result.add_column("coverage", justify="right")  # (every strategy is scored on the same customers)
    for score in scores:
        if score.strategy == Strategy.TRENDING.value:
            relative = "baseline"
        elif baseline:
            relative = f"{(score.hit_rate / baseline - 1) * 100:+.0f}%"
        else:
            relative = "-"
        result.add_row(
            score.strategy,
            f"{score.hit_rate:.3f}",
            relative,
            f"{score.ndcg:.3f}",
            f"{score.coverage:.1%}",
        )
    return result
