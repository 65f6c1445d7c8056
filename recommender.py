"""Recommendations from orders and the catalog: four strategies on the real data, blended.

- CO_PURCHASE: item-to-item collaborative filtering ("customers who bought this also bought"). Two
  books are similar when the same customers buy both more than their popularity explains: cosine
  similarity of their customer vectors, c / sqrt(n_a * n_b), shrunk by c / (c + SHRINK) so one
  shared customer between two rare books does not outrank a hundred between two common ones.
  Customers, not single orders: what someone buys next is rarely in the same basket (measured with
  `bookgraph recs evaluate`: per-order baskets scored below TRENDING on the demo data).
- CONTENT: the nearest books, by embedding, to what the customer bought (recent purchases weigh more).
- TRENDING: sales of the last weeks with exponential time decay (a half-life in days). A store whose
  sales are all older than that (a demo loaded long ago, a quiet shop) is not left with nothing: the
  window moves back to end at its latest sale, lists it leaves short are filled with all-time best
  sellers, and a store without a single sale lists its newest books in stock; each book carries the
  period it was popular in, so its reason says which.
- HYBRID: a weighted blend of the three, each normalised to [0, 1]; never what the customer bought
  or what is out of stock; TRENDING for a customer with no history (cold start).

The algorithms are plain functions over plain data so that the offline evaluation runs exactly the
code that serves; `Recommender` adds the stores: the orders history, the vectors and the Redis cache.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import numpy as np
from scipy import sparse

from clock import SYSTEM, Clock
from config import Settings
from datasources.filters import BookFilter
from datasources.inventory.rows import BookSort
from datasources.inventory.source import InventorySource
from datasources.orders.purchases import PurchaseHistory, Sale
from datasources.redis.recommendations import RecommendationCache, Scored
from datasources.search.index import VectorIndex
from datasources.stores import Stores

SHRINK = 2.0
NEIGHBOURS = 50  # kept per book
LIST_SIZE = 100  # computed per customer; `first` is at most this
RECENT = 10  # purchases a customer's CONTENT and CO_PURCHASE lists start from
RECENCY = 0.85  # weight of the k-th most recent purchase: RECENCY ** k
TRENDING_WINDOW = timedelta(days=30)
TRENDING_PER_GENRE = 100
# Best sellers read when lists must be filled: enough to fill every genre's list in practice, and a
# bounded number of ids to look up genres for.
BEST_SELLERS = 20_000


class Strategy(StrEnum):
    CONTENT = "CONTENT"
    CO_PURCHASE = "CO_PURCHASE"
    TRENDING = "TRENDING"
    HYBRID = "HYBRID"


class Period(StrEnum):
    """When a TRENDING book was popular."""

    RECENT = "RECENT"  # the TRENDING_WINDOW before now
    LATEST = "LATEST"  # the window ending at the store's latest sale, none being recent
    ALL_TIME = "ALL_TIME"  # over the whole history, where the window left a list short
    NEW = "NEW"  # nothing was ever sold: the newest books in stock


@dataclass(frozen=True, slots=True)
class Trend:
    book_id: int
    score: float
    period: Period
    until: datetime | None = None  # LATEST: the end of that window

    def as_json(self) -> list[Any]:
        return [self.book_id, self.score, self.period.value, self.until.isoformat() if self.until else None]

    @classmethod
    def from_json(cls, item: list[Any]) -> Trend:
        book_id, score, period, until = item
        return cls(book_id, score, Period(period), datetime.fromisoformat(until) if until else None)


@dataclass(frozen=True, slots=True)
class Weights:
    content: float = 0.3
    co_purchase: float = 0.5
    trending: float = 0.2

    def of(self, strategy: Strategy) -> float:
        return {Strategy.CONTENT: self.content, Strategy.CO_PURCHASE: self.co_purchase}.get(
            strategy, self.trending
        )


@dataclass(frozen=True, slots=True)
class Recommendation:
    book_id: int
    score: float
    strategy: Strategy
    because: int | None = None  # the bought book that led here
    genre: str | None = None  # where it is trending
    # When it was popular, for one that no bought book explains (TRENDING's part).
    period: Period | None = None
    until: datetime | None = None

    def as_json(self) -> list[Any]:
        period, until = (
            self.period.value if self.period else None,
            self.until.isoformat() if self.until else None,
        )
        return [
            self.book_id,
            round(self.score, 6),
            self.strategy.value,
            self.because,
            self.genre,
            period,
            until,
        ]

    @classmethod
    def from_json(cls, item: list[Any]) -> Recommendation:
        book_id, score, strategy, because, genre, *popular = item  # lists cached before `period` have 5
        period, until = popular or (None, None)
        return cls(
            book_id,
            score,
            Strategy(strategy),
            because,
            genre,
            Period(period) if period else None,
            datetime.fromisoformat(until) if until else None,
        )

    @classmethod
    def trending(cls, trend: Trend, strategy: Strategy, genre: str | None = None) -> Recommendation:
        return cls(trend.book_id, trend.score, strategy, genre=genre, period=trend.period, until=trend.until)

    def reason(self, titles: Mapping[int, str], genre: str | None) -> str:
        """Why this book, in words a shopper reads; `titles` names the books bought before it."""
        because = titles.get(self.because) if self.because is not None else None
        if because is not None:
            if self.strategy is Strategy.CO_PURCHASE:
                return f"Customers who bought “{because}” also bought this"
            return f"Because you bought “{because}”"
        where = genre or self.genre
        if self.period is None or self.period is Period.RECENT:
            return f"Popular in {where} lately" if where else "Popular with readers lately"
        if self.period is Period.LATEST and self.until is not None:
            month = f"{self.until:%B %Y}"
            return f"Popular in {where} in {month}" if where else f"Popular with readers in {month}"
        if self.period is Period.NEW:
            return f"New in {where}" if where else "New in the catalog"
        return f"A best seller in {where}" if where else "One of our best sellers"


# A strategy's candidates: book → (score, the bought book that explains it, if any).
Candidates = dict[int, tuple[float, int | None]]


# --- the algorithms ---


def similarity(together: int, orders_a: int, orders_b: int) -> float:
    return together / math.sqrt(orders_a * orders_b) * together / (together + SHRINK)


def neighbours_of(
    co: Mapping[int, int], counts: Mapping[int, int], n_self: int, top_k: int = NEIGHBOURS
) -> Scored:
    scored = [(other, similarity(c, n_self, counts[other])) for other, c in co.items() if counts.get(other)]
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:top_k]


def co_purchase_neighbours(baskets: Iterable[Iterable[int]], top_k: int = NEIGHBOURS) -> dict[int, Scored]:
    """Every book's most similar books, from baskets (the distinct books each customer bought).

    As sparse matrices: with X the customers-by-books incidence matrix, X.T @ X counts for every pair of
    books the customers who bought both, and its diagonal how many bought each. A million order lines
    take seconds this way, where a dictionary of pairs would take minutes and gigabytes.
    """
    books: dict[int, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    for row, basket in enumerate(baskets):
        for book in set(basket):
            rows.append(row)
            columns.append(books.setdefault(book, len(books)))
    if not books:
        return {}
    incidence = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float64), (rows, columns)), shape=(max(rows) + 1, len(books))
    )
    together = (incidence.T @ incidence).tocsr()
    bought = together.diagonal()
    together.setdiag(0)
    together.eliminate_zeros()
    # similarity(), vectorised over every stored pair.
    pair_rows = np.repeat(np.arange(together.shape[0]), np.diff(together.indptr))
    c = together.data
    together.data = c / np.sqrt(bought[pair_rows] * bought[together.indices]) * c / (c + SHRINK)
    ids = np.fromiter(books, dtype=np.int64, count=len(books))
    neighbours: dict[int, Scored] = {}
    for index in range(together.shape[0]):
        start, end = together.indptr[index], together.indptr[index + 1]
        if start == end:
            continue
        scores, others = together.data[start:end], together.indices[start:end]
        # Best first, ties by book id, as neighbours_of orders them.
        order = np.lexsort((ids[others], -scores))[:top_k]
        neighbours[int(ids[index])] = [(int(ids[others[i]]), float(scores[i])) for i in order]
    return neighbours


def trending_scores(sales: Iterable[Sale], now: datetime, half_life_days: float) -> dict[int, float]:
    scores: defaultdict[int, float] = defaultdict(float)
    for sale in sales:
        age_days = max((now - sale.placed_at).total_seconds(), 0.0) / 86_400
        scores[sale.book_id] += sale.quantity * 0.5 ** (age_days / half_life_days)
    return dict(scores)


def top(scores: Mapping[int, float], n: int) -> Scored:
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:n]


def from_neighbours(history: Sequence[int], neighbours: Mapping[int, Scored]) -> Candidates:
    """CO_PURCHASE for a customer: neighbours of each recent purchase, weighted by recency."""
    scores: defaultdict[int, float] = defaultdict(float)
    best: dict[int, tuple[float, int]] = {}
    for rank, bought in enumerate(history[:RECENT]):
        weight = RECENCY**rank
        for other, score in neighbours.get(bought, []):
            contribution = weight * score
            scores[other] += contribution
            if contribution > best.get(other, (0.0, 0))[0]:
                best[other] = (contribution, bought)
    return {book: (score, best[book][1]) for book, score in scores.items()}


async def from_vectors(index: VectorIndex, history: Sequence[int], limit: int = LIST_SIZE) -> Candidates:
    """CONTENT for a customer: nearest books to each recent purchase (one batched search)."""
    recent = list(history[:RECENT])
    stored = await index.vectors(recent)
    present = [book for book in recent if book in stored]
    if not present:
        return {}
    results = await index.search_many(
        [stored[b] for b in present], limit=limit, excludes=[recent] * len(present)
    )
    candidates: Candidates = {}
    for bought, hits in zip(present, results, strict=True):
        weight = RECENCY ** recent.index(bought)
        for hit in hits:
            score = weight * hit.score
            if score > candidates.get(hit.book_id, (0.0, None))[0]:
                candidates[hit.book_id] = (score, bought)
    return candidates


def blend(by_strategy: Mapping[Strategy, Candidates], weights: Weights) -> Candidates:
    """HYBRID: each strategy's scores divided by its best, then weighted and summed. The reason is
    the bought book of the strategy that contributed most."""
    total: defaultdict[int, float] = defaultdict(float)
    reason: dict[int, tuple[float, int | None]] = {}
    for strategy, candidates in by_strategy.items():
        best = max((score for score, _ in candidates.values()), default=0.0)
        if best <= 0:
            continue
        for book, (score, because) in candidates.items():
            part = weights.of(strategy) * score / best
            total[book] += part
            if part > reason.get(book, (-1.0, None))[0]:
                reason[book] = (part, because)
    return {book: (score, reason[book][1]) for book, score in total.items()}


def rank(candidates: Candidates, strategy: Strategy, exclude: set[int], n: int) -> list[Recommendation]:
    ordered = sorted(
        ((book, score, because) for book, (score, because) in candidates.items() if book not in exclude),
        key=lambda item: (-item[1], item[0]),
    )
    return [Recommendation(book, score, strategy, because) for book, score, because in ordered[:n]]


# --- serving ---

Advance = Callable[[int], None]


def _ignore(_: int) -> None:
    return None


async def _in_stock(stock: InventorySource, book_ids: list[int]) -> set[int]:
    """Which of the books can be ordered now."""
    levels = await stock.stock_by_book_id.load_many(book_ids)
    return {level.book_id for level in levels if level.available > 0}


@dataclass(slots=True)
class Recommender:
    """Reads Redis first; a miss computes from the stores, stores the answer with a TTL, returns it."""

    history: PurchaseHistory
    inventory: Callable[[], InventorySource]  # a fresh source (its loaders) per computation
    index: VectorIndex
    cache: RecommendationCache
    weights: Weights = Weights()
    half_life_days: float = 7.0
    clock: Clock = SYSTEM

    async def for_customer(
        self, customer_id: int, strategy: Strategy, first: int, stock: InventorySource
    ) -> list[Recommendation]:
        """The customer's list, in stock now: `stock` is the request's inventory source, so a selected
        `book { stock }` costs no second statement."""
        cached = await self.cache.customer_list(customer_id, strategy.value)
        if cached is not None:
            listed = [Recommendation.from_json(item) for item in cached]
        else:
            stored = [r.as_json() for r in await self._compute_for_customer(customer_id, strategy)]
            await self.cache.store_customer_list(customer_id, strategy.value, stored)
            # As a cached read returns it (scores rounded), so a hit and a miss answer alike.
            listed = [Recommendation.from_json(item) for item in stored]
        # Stock moves faster than the cache expires: checked on every read, for twice as many as
        # asked (a few are out of stock), and for the rest only if that was not enough.
        head, tail = listed[: first * 2], listed[first * 2 :]
        available = await _in_stock(stock, [r.book_id for r in head])
        picked = [r for r in head if r.book_id in available]
        if len(picked) < first and tail:
            available = await _in_stock(stock, [r.book_id for r in tail])
            picked += [r for r in tail if r.book_id in available]
        return picked[:first]

    async def _compute_for_customer(self, customer_id: int, strategy: Strategy) -> list[Recommendation]:
        bought = [p.book_id for p in await self.history.of_customer(customer_id)]
        if not bought and strategy in (Strategy.HYBRID, Strategy.TRENDING):
            return await self.trending(None, LIST_SIZE)
        exclude = set(bought)
        trends = await self._trending_list(None) if strategy in (Strategy.TRENDING, Strategy.HYBRID) else []
        if strategy is Strategy.TRENDING:
            return [
                Recommendation.trending(t, Strategy.TRENDING) for t in trends if t.book_id not in exclude
            ][:LIST_SIZE]
        by_strategy: dict[Strategy, Candidates] = {}
        if strategy in (Strategy.CO_PURCHASE, Strategy.HYBRID):
            by_strategy[Strategy.CO_PURCHASE] = from_neighbours(
                bought, await self.neighbours(bought[:RECENT])
            )
        if strategy in (Strategy.CONTENT, Strategy.HYBRID):
            by_strategy[Strategy.CONTENT] = await from_vectors(self.index, bought)
        if strategy is Strategy.HYBRID:
            by_strategy[Strategy.TRENDING] = {t.book_id: (t.score, None) for t in trends}
            blended = rank(blend(by_strategy, self.weights), Strategy.HYBRID, exclude, LIST_SIZE)
            # A book no purchase explains is here for its popularity: its reason says when.
            by_book = {t.book_id: t for t in trends}
            return [
                replace(r, period=by_book[r.book_id].period, until=by_book[r.book_id].until)
                if r.because is None and r.book_id in by_book
                else r
                for r in blended
            ]
        return rank(by_strategy[strategy], strategy, exclude, LIST_SIZE)

    async def also_bought(self, book_id: int, first: int, stock: InventorySource) -> list[Recommendation]:
        scored = (await self.neighbours([book_id])).get(book_id, [])
        available = await _in_stock(stock, [b for b, _ in scored])
        picked = [(b, s) for b, s in scored if b in available][:first]
        return [Recommendation(b, s, Strategy.CO_PURCHASE, because=book_id) for b, s in picked]

    async def neighbours(self, book_ids: Sequence[int]) -> dict[int, Scored]:
        """Co-purchase neighbours: Redis, and for the books it lacks, two statements on the orders store."""
        found = await self.cache.neighbours(book_ids)
        missing = [b for b in book_ids if b not in found]
        if missing:
            co = await self.history.co_counts(missing)
            counts = await self.history.customer_counts(
                sorted({b for m in missing for b in co[m]} | set(missing))
            )
            computed = {b: neighbours_of(co[b], counts, counts.get(b, 0)) for b in missing if counts.get(b)}
            computed.update({b: [] for b in missing if b not in computed})
            await self.cache.store_neighbours(computed)
            found.update(computed)
        return found

    async def trending(self, genre: str | None, first: int) -> list[Recommendation]:
        trends = await self._trending_list(genre)
        return [Recommendation.trending(t, Strategy.TRENDING, genre) for t in trends[:first]]

    async def _trending_list(self, genre: str | None) -> list[Trend]:
        cached = await self.cache.trending(genre)
        if cached is not None:
            return [Trend.from_json(item) for item in cached]
        lists = await self.trending_lists(self.clock.now())
        await self.cache.store_trending(_as_json(lists))
        return lists.get(genre or "", [])

    async def trending_lists(self, now: datetime) -> dict[str, list[Trend]]:
        """The whole catalog's list under "" and one per genre.

        Sales of the window before `now`, decayed from `now`. Lists that leave short (a quiet shop, a
        small genre, a history that stopped long ago) are filled, each part ranked below the one
        before: with the window before the latest earlier sale, decayed from that sale, then with
        all-time best sellers; a store that never sold anything gets its newest books in stock.
        """
        since = now - TRENDING_WINDOW
        inventory = self.inventory()
        recent = trending_scores(await self.history.recent_sales(since), now, self.half_life_days)
        ranked = [Trend(book, score, Period.RECENT) for book, score in top(recent, len(recent))]
        lists = await self._by_genre(inventory, ranked)
        seen, floor = set(recent), ranked[-1].score if ranked else 1.0
        genres = await inventory.list_genres()
        if _short(lists, genres) and (latest := await self.history.latest_sale(before=since)) is not None:
            older = trending_scores(
                await self.history.recent_sales(latest - TRENDING_WINDOW, before=since),
                latest,
                self.half_life_days,
            )
            fill = [
                Trend(b, s, Period.LATEST, latest) for b, s in _below(floor, top(older, len(older)), seen)
            ]
            lists = await self._by_genre(inventory, fill, lists)
            seen, floor = seen | set(older), fill[-1].score if fill else floor
        if _short(lists, genres):
            best = await self.history.best_sellers(BEST_SELLERS)
            fill = [Trend(b, s, Period.ALL_TIME) for b, s in _below(floor, best, seen)]
            lists = await self._by_genre(inventory, fill, lists)
        if not lists[""]:
            lists = await self._newest(inventory, genres)
        return dict(lists)

    @staticmethod
    async def _newest(
        inventory: InventorySource, genres: Sequence[tuple[str, int]]
    ) -> defaultdict[str, list[Trend]]:
        """A store that never sold anything still shows something: its newest books in stock, for the
        catalog and for each genre (one statement each; only until the first sale)."""
        newest = BookFilter(in_stock=True)
        lists: defaultdict[str, list[Trend]] = defaultdict(list)
        for genre, size in [("", LIST_SIZE), *((g, TRENDING_PER_GENRE) for g, _ in genres)]:
            query = dataclasses.replace(newest, genres=(genre,)) if genre else newest
            page = await inventory.list_books(query, BookSort.PUBLISHED_YEAR, True, size, None)
            lists[genre] = [Trend(b.id, 1.0 / (rank + 1), Period.NEW) for rank, b in enumerate(page.items)]
        return lists

    @staticmethod
    async def _by_genre(
        inventory: InventorySource, trends: list[Trend], lists: defaultdict[str, list[Trend]] | None = None
    ) -> defaultdict[str, list[Trend]]:
        """`trends` appended, best first, to the whole catalog's list and to each of their genres'."""
        lists = lists if lists is not None else defaultdict(list)
        lists[""].extend(trends[: max(LIST_SIZE - len(lists[""]), 0)])
        genres = await inventory.genres_by_book_id.load_many([t.book_id for t in trends])
        for trend, book_genres in zip(trends, genres, strict=True):
            for genre in book_genres:
                if len(lists[genre]) < TRENDING_PER_GENRE:
                    lists[genre].append(trend)
        return lists

    async def rebuild(self, progress: Advance = _ignore) -> tuple[int, int]:
        """Recompute every book's neighbours and the trending lists into Redis (the worker's job).
        Returns (books with neighbours, trending lists)."""
        baskets: defaultdict[int, set[int]] = defaultdict(set)
        async for chunk in self.history.all_sales():
            for sale in chunk:
                baskets[sale.customer_id].add(sale.book_id)
            progress(len(chunk))
        neighbours = co_purchase_neighbours(baskets.values())
        # Kept a few rebuilds long, so a slow or failed rebuild never leaves the API without them.
        await self.cache.store_neighbours(neighbours, ttl=self.cache.ttl * 6)
        lists = await self.trending_lists(self.clock.now())
        await self.cache.store_trending(_as_json(lists), ttl=self.cache.ttl * 6)
        return len(neighbours), len(lists)


def recommender_for(settings: Settings, stores: Stores) -> Recommender:
    return Recommender(
        PurchaseHistory(stores.orders),
        functools.partial(InventorySource, stores.inventory),
        stores.index,
        RecommendationCache(stores.redis, settings.redis_key_prefix, settings.recs_ttl_seconds),
        weights=weights_of(settings),
        half_life_days=settings.trending_half_life_days,
        clock=settings.clock,
    )


def _short(lists: Mapping[str, list[Trend]], genres: Sequence[tuple[str, int]]) -> bool:
    """Whether a list has room for more: the catalog's, or a genre's that has more books than listed."""
    return len(lists.get("", [])) < LIST_SIZE or any(
        len(lists.get(genre, [])) < min(TRENDING_PER_GENRE, books) for genre, books in genres
    )


def _below(floor: float, scored: Sequence[tuple[int, float]], seen: set[int]) -> Scored:
    """`scored` without the books already listed, rescaled to rank below `floor` in the same order."""
    kept = [(book, score) for book, score in scored if book not in seen]
    best = max((score for _, score in kept), default=0.0)
    return [(book, floor * 0.99 * score / best) for book, score in kept] if best > 0 else []


def _as_json(lists: Mapping[str, list[Trend]]) -> dict[str, list[list[Any]]]:
    return {genre: [t.as_json() for t in trends] for genre, trends in lists.items()}


def weights_of(settings: Settings) -> Weights:
    return Weights(
        settings.recs_weight_content, settings.recs_weight_co_purchase, settings.recs_weight_trending
    )
