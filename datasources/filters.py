"""What a list or a search of books may be narrowed by: one value, free of any driver, that the
inventory translates to SQL (`inventory.where`) and each search backend to a Qdrant filter
(`search.index.clauses`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BookFilter:
    """Books meeting every condition given; None means "no constraint". Bounds are inclusive."""

    genres: tuple[str, ...] | None = None  # any of
    author_ids: tuple[int, ...] | None = None  # any of
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    in_stock: bool | None = None
    min_year: int | None = None
    max_year: int | None = None
    title_contains: str | None = None  # case-insensitive substring of the title

    @property
    def single_genre(self) -> str | None:
        return self.genres[0] if self.genres is not None and len(self.genres) == 1 else None


EVERY_BOOK = BookFilter()
