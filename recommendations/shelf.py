"""Recommendations as a shopper sees them: each with its book's row and its reason in words.

Both execution paths read them from here, so that Strawberry's `BookRecommendation`s and a plan's
JSON show the same books, in the same order, for the same reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from datasources.inventory.rows import BookRow
from datasources.inventory.source import InventorySource
from datasources.search.source import SearchSource
from recommendations.values import Recommendation, Strategy


@dataclass(frozen=True, slots=True)
class Pick:
    row: BookRow
    score: float
    strategy: Strategy
    reason: str


async def with_books(
    inventory: InventorySource, recommendations: Sequence[Recommendation], genre: str | None
) -> list[Pick]:
    """The recommendations whose books are still in the catalog, with the books their reasons name:
    one load for both."""
    wanted = [r.book_id for r in recommendations] + [r.because for r in recommendations if r.because]
    rows = await inventory.books_by_id.load_many(wanted)
    found = {row.id: row for row in rows if row is not None}
    titles = {pk: row.title for pk, row in found.items()}
    return [
        Pick(found[r.book_id], r.score, r.strategy, r.reason(titles, genre))
        for r in recommendations
        if r.book_id in found
    ]


async def similar_to(
    search: SearchSource, inventory: InventorySource, book_id: int, title: str, first: int
) -> list[Pick]:
    """The books closest in content to this one. Raises SourceUnavailable when search is down."""
    hits = await search.similar_by_book_id.load((book_id, first))
    rows = await inventory.books_by_id.load_many([hit.book_id for hit in hits])
    return [
        Pick(row, max(hit.score, 0.0), Strategy.CONTENT, f"Close in theme to “{title}”")
        for hit, row in zip(hits, rows, strict=True)
        if row is not None
    ]
