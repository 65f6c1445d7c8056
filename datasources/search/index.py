"""`VectorIndex`, what both backends implement, and the pieces they share."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from datasources.base import store_errors
from datasources.filters import BookFilter
from errors import SourceUnavailable
from observability.telemetry import STORE_STATEMENTS

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
class Guard:
    """Which existing points a write may touch: those showing no newer version than
    `version_at_most` (a point written before versions too), and only `book_ids` when given."""

    version_at_most: int
    book_ids: tuple[int, ...] | None = None


# A backend-neutral condition on a point; each backend maps these few kinds to its own classes.
@dataclass(frozen=True, slots=True)
class AnyOf:
    key: str
    values: list[str] | list[int]


@dataclass(frozen=True, slots=True)
class Between:
    key: str
    at_least: int | None = None
    at_most: int | None = None
    above: int | None = None  # exclusive


@dataclass(frozen=True, slots=True)
class Equals:
    key: str
    value: bool


@dataclass(frozen=True, slots=True)
class Contains:
    key: str
    text: str


@dataclass(frozen=True, slots=True)
class HasId:
    ids: tuple[int, ...]


Clause = AnyOf | Between | Equals | Contains | HasId


def clauses(
    filter: BookFilter | None, exclude: Sequence[int] = (), guard: Guard | None = None
) -> tuple[list[Clause], list[Clause]]:
    """(must, must_not): what a point must and must not meet for the filter, the excluded ids and
    the guard; every condition is applied inside Qdrant, before the limit."""
    must: list[Clause] = []
    must_not: list[Clause] = []
    if filter is not None:
        f = filter
        if f.genres is not None:
            must.append(AnyOf("genres", list(f.genres)))
        if f.author_ids is not None:
            must.append(AnyOf("author_ids", list(f.author_ids)))
        if f.min_price_cents is not None or f.max_price_cents is not None:
            must.append(Between("price_cents", f.min_price_cents, f.max_price_cents))
        if f.min_year is not None or f.max_year is not None:
            must.append(Between("published_year", f.min_year, f.max_year))
        if f.in_stock is not None:
            must.append(Equals("in_stock", f.in_stock))
        if f.title_contains:
            must.append(Contains("title_lower", f.title_contains.lower()))
    if guard is not None:
        if guard.book_ids is not None:
            must.append(HasId(guard.book_ids))
        # must_not, so a point without a version (written before versions) matches.
        must_not.append(Between("version", above=guard.version_at_most))
    if exclude:
        must_not.append(HasId(tuple(exclude)))
    return must, must_not


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
        filter: BookFilter | None = None,
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

    def for_reading(self) -> AbstractAsyncContextManager[VectorIndex]:
        """This index for a reader outside the server (an offline evaluation), while the server
        may be using it."""

    async def close(self) -> None: ...


_STATEMENTS = STORE_STATEMENTS.labels(STORE)


@contextmanager
def backend_call(unavailable: Callable[[BaseException], bool], via: Any = None) -> Iterator[None]:
    """One counted backend call whose failure to answer (as `unavailable` tells it) becomes
    SourceUnavailable, traced and logged as every store call is (and refused at once while the
    breaker of the index `via` is open)."""
    _STATEMENTS.inc()
    with store_errors(STORE, unavailable, via=via):
        yield


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


def guarded_batches(points: Sequence[BookPoint]) -> Iterator[tuple[Guard, Sequence[BookPoint]]]:
    """Upsert batches, each of one version with the condition its existing points must meet:
    Qdrant takes one condition per upsert, and a catalog mostly shares a handful of versions."""
    groups: dict[int, list[BookPoint]] = {}
    for point in points:
        groups.setdefault(point.version, []).append(point)
    for version, group in sorted(groups.items()):
        for batch in batches(group):
            yield Guard(version), batch


def payload_guard(point: BookPoint) -> Guard:
    """The one point a payload rewrite may touch, unless it already shows a newer version."""
    return Guard(point.version, (point.book_id,))


def dense(vector: Any) -> list[float] | None:
    # Both backends return the unnamed vector as a plain list; a dict would mean named vectors.
    if isinstance(vector, dict):
        vector = vector.get("")
    return [float(x) for x in vector] if isinstance(vector, list) else None
