"""The algorithms, plain functions over plain data: the offline evaluation runs exactly the code
that serves."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

import numpy as np
from scipy import sparse

from datasources.orders.purchases import Sale
from datasources.redis.recommendations import Scored
from datasources.search.index import VectorIndex
from recommendations.values import (
    CO_PURCHASE_HISTORY,
    CO_PURCHASE_RECENCY,
    GENRE_HISTORY,
    LIST_SIZE,
    NEIGHBOURS,
    RECENCY,
    RECENCY_OF_GENRES,
    RECENT,
    SHRINK,
    Candidates,
    Recommendation,
    Strategy,
    Weights,
)


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


def below(floor: float, scored: Sequence[tuple[int, float]], seen: AbstractSet[int]) -> Scored:
    """`scored` without the books already listed, rescaled to rank below `floor` in the same order
    (a trending list filled from an older window or from all-time sales)."""
    kept = [(book, score) for book, score in scored if book not in seen]
    best = max((score for _, score in kept), default=0.0)
    return [(book, floor * 0.99 * score / best) for book, score in kept] if best > 0 else []


def from_neighbours(history: Sequence[int], neighbours: Mapping[int, Scored]) -> Candidates:
    """CO_PURCHASE for a customer: each book's similarity to the recent purchases, averaged with the
    recency weights (0 to 1, as each similarity is: 1 when every recent purchase was always bought
    with it)."""
    recent = history[:CO_PURCHASE_HISTORY]
    weights = sum(CO_PURCHASE_RECENCY**rank for rank in range(len(recent)))
    scores: defaultdict[int, float] = defaultdict(float)
    best: dict[int, tuple[float, int]] = {}
    for rank, bought in enumerate(recent):
        weight = CO_PURCHASE_RECENCY**rank
        for other, score in neighbours.get(bought, []):
            contribution = weight * score
            scores[other] += contribution / weights
            if contribution > best.get(other, (0.0, 0))[0]:
                best[other] = (contribution, bought)
    return {book: (score, best[book][1]) for book, score in scores.items()}


async def from_vectors(index: VectorIndex, history: Sequence[int], limit: int = LIST_SIZE) -> Candidates:
    """CONTENT for a customer: nearest books to each recent purchase (one batched search), scored
    by their best cosine similarity to one, weighted by its recency (0 to 1: opposites count as 0)."""
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
            score = weight * max(hit.score, 0.0)
            if score > candidates.get(hit.book_id, (0.0, None))[0]:
                candidates[hit.book_id] = (score, bought)
    return candidates


def genre_shares(history: Sequence[int], genres: Mapping[int, Sequence[str]]) -> dict[str, float]:
    """How much of the customer's recent purchases each genre is, weighted by recency; the shares sum
    to 1 (a book in two genres counts half in each)."""
    shares: defaultdict[str, float] = defaultdict(float)
    for rank, bought in enumerate(history[:GENRE_HISTORY]):
        of = genres.get(bought) or ()
        for genre in of:
            shares[genre] += RECENCY_OF_GENRES**rank / len(of)
    total = sum(shares.values())
    return {genre: share / total for genre, share in shares.items()} if total > 0 else {}


def from_genres(shares: Mapping[str, float], popular: Mapping[str, Scored]) -> dict[int, tuple[float, str]]:
    """POPULAR_IN_GENRES for a customer: the books popular in the genres they buy, each scored by
    its popularity in a genre as a share of that genre's first, weighted by the genre's share of
    the customer's purchases and summed (0 to 1); with the genre that counted most, for its reason."""
    scores: defaultdict[int, float] = defaultdict(float)
    best: dict[int, tuple[float, str]] = {}
    for genre, share in shares.items():
        listed = popular.get(genre, [])
        first = listed[0][1] if listed else 0.0
        if first <= 0:
            continue
        for book, score in listed:
            part = share * score / first
            scores[book] += part
            if part > best.get(book, (0.0, ""))[0]:
                best[book] = (part, genre)
    return {book: (score, best[book][1]) for book, score in scores.items()}


def blend(by_strategy: Mapping[Strategy, Candidates], weights: Weights) -> Candidates:
    """HYBRID: each strategy's scores divided by its best, then weighted and summed, over the weights
    of the strategies that had candidates (0 to 1: 1 is the best of every one of them). The reason is
    the bought book of the strategy that contributed most."""
    total: defaultdict[int, float] = defaultdict(float)
    reason: dict[int, tuple[float, int | None]] = {}
    bests = {
        strategy: best
        for strategy, candidates in by_strategy.items()
        if (best := max((score for score, _ in candidates.values()), default=0.0)) > 0
    }
    weighed = sum(weights.of(strategy) for strategy in bests)
    if weighed <= 0:
        return {}
    for strategy, best in bests.items():
        for book, (score, because) in by_strategy[strategy].items():
            part = weights.of(strategy) * score / best / weighed
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


Advance = Callable[[int], None]
