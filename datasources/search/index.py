"""`VectorIndex`, what both backends implement, and the pieces they share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from errors import SourceUnavailable
from observability import STORE_STATEMENTS

log = logging.getLogger(__name__)

STORE = "search"
VECTOR_SIZE = 384
COLLECTION = "books"

# Points per scroll page in content_hashes(); a module constant so tests can force several pages.
SCROLL_PAGE = 1_000
# Points per upsert call: bounds how long one write holds the event loop (Edge) or one HTTP body (server).
UPSERT_BATCH = 256


@dataclass(frozen=True, slots=True)
class BookPoint:
    book_id: int  # the point id (unsigned int) is the book id
    vector: Sequence[float]  # VECTOR_SIZE floats
    genres: tuple[str, ...]
    author_ids: tuple[int, ...]
    title: str
    price_cents: int
    published_year: int
    in_stock: bool
    content_hash: str  # stored in the payload; lets the indexer skip unchanged books
    # The book's search version (stock_levels.search_version) this point shows. A write never
    # replaces a point that shows a newer one, so appliers racing each other cannot go backwards.
    version: int = 0


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """None means "no constraint"; every condition is applied inside Qdrant, before the limit.

    `book_ids` and `version_at_most` serve the writers: they guard which points a write may touch.
    """

    genres: tuple[str, ...] | None = None  # any of
    author_ids: tuple[int, ...] | None = None  # any of
    min_price_cents: int | None = None  # inclusive
    max_price_cents: int | None = None
    in_stock: bool | None = None
    min_year: int | None = None
    max_year: int | None = None
    title_contains: str | None = None  # case-insensitive substring of the title
    book_ids: tuple[int, ...] | None = None  # any of
    # Points showing no newer version than this (a point written before versions passes too).
    version_at_most: int | None = None


@dataclass(frozen=True, slots=True)
class Hit:
    book_id: int
    score: float  # cosine similarity


class VectorIndex(Protocol):
    async def ensure_collection(self) -> None:
        """Create the collection (or shard) and its payload indexes if absent; idempotent."""

    async def upsert(self, points: Sequence[BookPoint]) -> None: ...

    async def delete(self, book_ids: Sequence[int]) -> None: ...

    async def set_payloads(self, points: Sequence[BookPoint]) -> None:
        """Rewrite the payload of the points that exist, leaving their vectors as they are (the
        given vectors are not read); unknown ids are ignored. Like upsert, a point showing a newer
        version than the one given is left alone."""

    async def search(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        filter: SearchFilter | None = None,
        exclude: Sequence[int] = (),
    ) -> list[Hit]:
        """Nearest points first."""

    async def search_many(
        self, vectors: Sequence[Sequence[float]], *, limit: int, excludes: Sequence[Sequence[int]]
    ) -> list[list[Hit]]:
        """One batched call; excludes[i] applies to vectors[i]."""

    async def vectors(self, book_ids: Sequence[int]) -> dict[int, list[float]]:
        """Stored vectors (normalised: Qdrant stores cosine vectors at unit length); missing ids absent."""

    async def content_hashes(self, book_ids: Sequence[int] | None = None) -> dict[int, str]:
        """Book id → the content hash its point carries: every point, or those of `book_ids`."""

    async def optimize(self) -> None:
        """Build the vector index after a large load (a server does this by itself)."""

    async def count(self) -> int: ...

    async def ping(self) -> None:
        """Raise SourceUnavailable("search") unless the collection answers."""

    async def close(self) -> None: ...


_STATEMENTS = STORE_STATEMENTS.labels(STORE)


@contextmanager
def backend_call(unavailable: Callable[[BaseException], bool]) -> Iterator[None]:
    """One counted backend call whose failure to answer becomes SourceUnavailable, as in base.store_errors."""
    _STATEMENTS.inc()
    try:
        yield
    except Exception as exc:
        if not unavailable(exc):
            raise
        log.warning("store unavailable", extra={"store": STORE, "error": repr(exc)})
        raise SourceUnavailable(STORE) from exc


def missing(reason: str) -> SourceUnavailable:
    log.warning("store unavailable", extra={"store": STORE, "error": reason})
    return SourceUnavailable(STORE)


def payload(point: BookPoint) -> dict[str, Any]:
    return {
        "genres": list(point.genres),
        "author_ids": list(point.author_ids),
        "title": point.title,
        # Substring matching is case-sensitive in Qdrant: filters match a lowercased copy instead.
        "title_lower": point.title.lower(),
        "price_cents": point.price_cents,
        "published_year": point.published_year,
        "in_stock": point.in_stock,
        "content_hash": point.content_hash,
        "version": point.version,
    }


def batches(points: Sequence[BookPoint]) -> Iterator[Sequence[BookPoint]]:
    for start in range(0, len(points), UPSERT_BATCH):
        yield points[start : start + UPSERT_BATCH]


def guarded_batches(points: Sequence[BookPoint]) -> Iterator[tuple[SearchFilter, Sequence[BookPoint]]]:
    """Upsert batches, each of one version with the condition its existing points must meet:
    Qdrant takes one condition per upsert, and a catalog mostly shares a handful of versions."""
    groups: dict[int, list[BookPoint]] = {}
    for point in points:
        groups.setdefault(point.version, []).append(point)
    for version, group in sorted(groups.items()):
        for batch in batches(group):
            yield SearchFilter(version_at_most=version), batch


def payload_guard(point: BookPoint) -> SearchFilter:
    """The one point a payload rewrite may touch, unless it already shows a newer version."""
    return SearchFilter(book_ids=(point.book_id,), version_at_most=point.version)


def dense(vector: Any) -> list[float] | None:
    # Both backends return the unnamed vector as a plain list; a dict would mean named vectors.
    if isinstance(vector, dict):
        vector = vector.get("")
    return [float(x) for x in vector] if isinstance(vector, list) else None
