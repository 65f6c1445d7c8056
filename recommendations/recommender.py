"""The `Recommender`: the algorithms on the stores, Redis first (a miss computes, stores the answer
with a TTL and returns it), and the trending lists the worker rebuilds."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from clock import SYSTEM, Clock
from config import Settings
from datasources.filters import BookFilter
from datasources.inventory.rows import BookSort
from datasources.inventory.source import InventorySource
from datasources.orders.purchases import PurchaseHistory
from datasources.redis.recommendations import RecommendationCache, Scored
from datasources.search.index import VectorIndex
from datasources.stores import Stores
from errors import SourceUnavailable
from recommendations.algorithms import (
    Advance,
    below,
    blend,
    co_purchase_neighbours,
    from_genres,
    from_neighbours,
    from_vectors,
    genre_shares,
    neighbours_of,
    rank,
    top,
    trending_scores,
)
from recommendations.values import (
    BEST_SELLERS,
    CO_PURCHASE_HISTORY,
    GENRE_HISTORY,
    LIST_SIZE,
    TRENDING_PER_GENRE,
    TRENDING_WINDOW,
    Candidates,
    Period,
    Recommendation,
    Strategy,
    Trend,
    Weights,
)

log = logging.getLogger(__name__)


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
    weights: Weights = dataclasses.field(default_factory=Weights)
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
            computed, whole = await self._compute_for_customer(customer_id, strategy)
            stored = [r.as_json() for r in computed]
            if whole:  # a list made without a store that was down is not kept past this request
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

    async def _compute_for_customer(
        self, customer_id: int, strategy: Strategy
    ) -> tuple[list[Recommendation], bool]:
        """The list, and whether it is whole: HYBRID goes on without CONTENT while search is down."""
        bought = [p.book_id for p in await self.history.of_customer(customer_id)]
        if not bought and strategy in (Strategy.HYBRID, Strategy.TRENDING, Strategy.POPULAR_IN_GENRES):
            return await self.trending(None, LIST_SIZE), True
        exclude = set(bought)
        trends = await self._trending_list(None) if strategy in (Strategy.TRENDING, Strategy.HYBRID) else []
        if strategy is Strategy.TRENDING:
            listed = [t for t in relative(trends) if t.book_id not in exclude]
            return [Recommendation.trending(t, Strategy.TRENDING) for t in listed][:LIST_SIZE], True
        by_strategy: dict[Strategy, Candidates] = {}
        whole = True
        in_genres: dict[int, tuple[float, str, Trend]] = {}
        if strategy in (Strategy.POPULAR_IN_GENRES, Strategy.HYBRID):
            in_genres = await self._popular_in_genres(bought)
            by_strategy[Strategy.POPULAR_IN_GENRES] = {
                b: (score, None) for b, (score, _, _) in in_genres.items()
            }
        if strategy in (Strategy.CO_PURCHASE, Strategy.HYBRID):
            by_strategy[Strategy.CO_PURCHASE] = from_neighbours(
                bought, await self.neighbours(bought[:CO_PURCHASE_HISTORY])
            )
        if strategy is Strategy.CONTENT:
            by_strategy[Strategy.CONTENT] = await from_vectors(self.index, bought)
        elif strategy is Strategy.HYBRID:
            try:
                by_strategy[Strategy.CONTENT] = await from_vectors(self.index, bought)
            except SourceUnavailable:
                log.warning("search unavailable: HYBRID recommendations without CONTENT")
                whole = False
        if strategy is Strategy.HYBRID:
            by_strategy[Strategy.TRENDING] = {t.book_id: (t.score, None) for t in trends}
            ranked = rank(blend(by_strategy, await self.blend_weights()), Strategy.HYBRID, exclude, LIST_SIZE)
        else:
            ranked = rank(by_strategy[strategy], strategy, exclude, LIST_SIZE)
        # A book no purchase explains is here for its popularity: its reason says where and when.
        overall = {t.book_id: t for t in trends}
        return [_popular_for(r, in_genres, overall) if r.because is None else r for r in ranked], whole

    async def blend_weights(self) -> Weights:
        """HYBRID's weights: as `bookgraph recs tune` stored them, else the configured defaults."""
        tuned = await self.cache.weights()
        return Weights.from_json(tuned["weights"]) if tuned is not None else self.weights

    async def _popular_in_genres(self, bought: Sequence[int]) -> dict[int, tuple[float, str, Trend]]:
        """POPULAR_IN_GENRES: the books trending in the genres the customer buys (book → score, the
        genre that counted most, its trend there)."""
        recent = list(bought[:GENRE_HISTORY])
        of = await self.inventory().genres_by_book_id.load_many(recent)
        shares = genre_shares(recent, dict(zip(recent, of, strict=True)))
        lists = await self._trending_lists_of(sorted(shares))
        trends = {(genre, t.book_id): t for genre, listed in lists.items() for t in listed}
        scored = from_genres(
            shares, {genre: [(t.book_id, t.score) for t in listed] for genre, listed in lists.items()}
        )
        return {book: (score, genre, trends[genre, book]) for book, (score, genre) in scored.items()}

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
        trends = relative(await self._trending_list(genre))
        return [Recommendation.trending(t, Strategy.TRENDING, genre) for t in trends[:first]]

    async def _trending_lists_of(self, genres: Sequence[str]) -> dict[str, list[Trend]]:
        cached = await self.cache.trending_of(genres)
        if cached is not None:
            return {genre: [Trend.from_json(item) for item in listed] for genre, listed in cached.items()}
        lists = await self.trending_lists(self.clock.now())
        await self.cache.store_trending(_as_json(lists))
        return {genre: lists.get(genre, []) for genre in genres}

    async def _trending_list(self, genre: str | None) -> list[Trend]:
        return (await self._trending_lists_of([genre or ""]))[genre or ""]

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
            fill = [Trend(b, s, Period.LATEST, latest) for b, s in below(floor, top(older, len(older)), seen)]
            lists = await self._by_genre(inventory, fill, lists)
            seen, floor = seen | set(older), fill[-1].score if fill else floor
        if _short(lists, genres):
            best = await self.history.best_sellers(BEST_SELLERS)
            fill = [Trend(b, s, Period.ALL_TIME) for b, s in below(floor, best, seen)]
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


def _popular_for(
    recommendation: Recommendation,
    in_genres: Mapping[int, tuple[float, str, Trend]],
    overall: Mapping[int, Trend],
) -> Recommendation:
    """A recommendation no bought book explains, with where and when its book was popular: in the
    customer's genre that counted most, else with every reader."""
    if recommendation.book_id in in_genres:
        _, genre, trend = in_genres[recommendation.book_id]
        return replace(recommendation, genre=genre, period=trend.period, until=trend.until)
    if recommendation.book_id in overall:
        trend = overall[recommendation.book_id]
        return replace(recommendation, period=trend.period, until=trend.until)
    return recommendation


def relative(trends: Sequence[Trend]) -> list[Trend]:
    """Scores as a share of the list's first (0 to 1): the raw ones are decayed copies sold."""
    best = trends[0].score if trends else 0.0
    return [replace(t, score=t.score / best) for t in trends] if best > 0 else list(trends)


def _short(lists: Mapping[str, list[Trend]], genres: Sequence[tuple[str, int]]) -> bool:
    """Whether a list has room for more: the catalog's, or a genre's that has more books than listed."""
    return len(lists.get("", [])) < LIST_SIZE or any(
        len(lists.get(genre, [])) < min(TRENDING_PER_GENRE, books) for genre, books in genres
    )


def _as_json(lists: Mapping[str, list[Trend]]) -> dict[str, list[list[Any]]]:
    return {genre: [t.as_json() for t in trends] for genre, trends in lists.items()}


def weights_of(settings: Settings) -> Weights:
    return Weights(
        settings.recs_weight_content,
        settings.recs_weight_co_purchase,
        settings.recs_weight_trending,
        settings.recs_weight_genres,
    )
