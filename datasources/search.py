"""The search store: one Qdrant point per book (its sentence embedding) with a payload to filter on.

Two backends behind `VectorIndex`: an in-process Qdrant Edge shard on local disk (the default, for a
laptop with nothing installed) and a Qdrant server through qdrant-client. Only this module imports
qdrant packages.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import qdrant_edge as qe
from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

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


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """None means "no constraint"; every condition is applied inside Qdrant, before the limit."""

    genres: tuple[str, ...] | None = None  # any of
    author_ids: tuple[int, ...] | None = None  # any of
    min_price_cents: int | None = None  # inclusive
    max_price_cents: int | None = None
    in_stock: bool | None = None
    min_year: int | None = None
    max_year: int | None = None
    title_contains: str | None = None  # case-insensitive substring of the title


@dataclass(frozen=True, slots=True)
class Hit:
    book_id: int
    score: float  # cosine similarity


class VectorIndex(Protocol):
    async def ensure_collection(self) -> None:
        """Create the collection (or shard) and its payload indexes if absent; idempotent."""

    async def upsert(self, points: Sequence[BookPoint]) -> None: ...

    async def delete(self, book_ids: Sequence[int]) -> None: ...

    async def set_in_stock(self, stock: Mapping[int, bool]) -> None:
        """Rewrite only the in_stock payload of the points that exist; unknown ids are ignored."""

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

    async def content_hashes(self) -> dict[int, str]: ...

    async def optimize(self) -> None:
        """Build the vector index after a large load (a server does this by itself)."""

    async def count(self) -> int: ...

    async def ping(self) -> None:
        """Raise SourceUnavailable("search") unless the collection answers."""

    async def close(self) -> None: ...


def open_index(qdrant_url: str | None, data_dir: Path) -> VectorIndex:
    """A Qdrant server when a URL is configured, else the embedded shard under the data directory."""
    if qdrant_url:
        return ClientIndex(qdrant_url)
    return EdgeIndex(data_dir / "qdrant")


# --- shared ----------------------------------------------------------------------------------------

_STATEMENTS = STORE_STATEMENTS.labels(STORE)


@contextmanager
def _backend_call(unavailable: Callable[[BaseException], bool]) -> Iterator[None]:
    """One counted backend call whose failure to answer becomes SourceUnavailable, as in base.store_errors."""
    _STATEMENTS.inc()
    try:
        yield
    except Exception as exc:
        if not unavailable(exc):
            raise
        log.warning("store unavailable", extra={"store": STORE, "error": repr(exc)})
        raise SourceUnavailable(STORE) from exc


def _missing(reason: str) -> SourceUnavailable:
    log.warning("store unavailable", extra={"store": STORE, "error": reason})
    return SourceUnavailable(STORE)


def _payload(point: BookPoint) -> dict[str, Any]:
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
    }


def _batches(points: Sequence[BookPoint]) -> Iterator[Sequence[BookPoint]]:
    for start in range(0, len(points), UPSERT_BATCH):
        yield points[start : start + UPSERT_BATCH]


def _by_value(stock: Mapping[int, bool]) -> dict[bool, list[int]]:
    groups: dict[bool, list[int]] = {}
    for book_id, in_stock in stock.items():
        groups.setdefault(in_stock, []).append(book_id)
    return groups


def _dense(vector: Any) -> list[float] | None:
    # Both backends return the unnamed vector as a plain list; a dict would mean named vectors.
    if isinstance(vector, dict):
        vector = vector.get("")
    return [float(x) for x in vector] if isinstance(vector, list) else None


# --- embedded: Qdrant Edge -------------------------------------------------------------------------

_EDGE_CONFIG = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=VECTOR_SIZE, distance=qe.Distance.Cosine))
# field → (index type, parameters when not that type's defaults)
_EDGE_INDEXES: dict[str, tuple[qe.PayloadSchemaType, qe.KeywordIndexParams | None]] = {
    "genres": (qe.PayloadSchemaType.Keyword, None),
    "author_ids": (qe.PayloadSchemaType.Integer, None),
    "price_cents": (qe.PayloadSchemaType.Integer, None),
    "published_year": (qe.PayloadSchemaType.Integer, None),
    "in_stock": (qe.PayloadSchemaType.Integer, None),  # stored as 0/1: see _edge_payload
    # A keyword index with `prefix` serves MatchSubstring from its dictionary instead of the payload.
    "title_lower": (qe.PayloadSchemaType.Keyword, qe.KeywordIndexParams(prefix=True)),
}


def _edge_unavailable(exc: BaseException) -> bool:
    # The binding raises a bare Exception for every storage error ("Service runtime error: ...");
    # TypeError and the like are bugs in the call and stay as they are.
    return type(exc) is Exception or isinstance(exc, OSError)


def _edge_payload(point: BookPoint) -> dict[str, Any]:
    # qdrant-edge-py 0.9 turns MatchValue(True) into the integer 1, which never matches a bool
    # payload, so the shard keeps in_stock as 0/1 and its filter matches the integer.
    return {**_payload(point), "in_stock": int(point.in_stock)}


def _edge_filter(conditions: SearchFilter | None, exclude: Sequence[int] = ()) -> qe.Filter | None:
    must: list[Any] = []
    if conditions is not None:
        f = conditions
        if f.genres is not None:
            must.append(qe.FieldCondition(key="genres", match=qe.MatchAny(list(f.genres))))
        if f.author_ids is not None:
            must.append(qe.FieldCondition(key="author_ids", match=qe.MatchAny(list(f.author_ids))))
        if f.min_price_cents is not None or f.max_price_cents is not None:
            price = qe.RangeFloat(gte=f.min_price_cents, lte=f.max_price_cents)
            must.append(qe.FieldCondition(key="price_cents", range=price))
        if f.min_year is not None or f.max_year is not None:
            year = qe.RangeFloat(gte=f.min_year, lte=f.max_year)
            must.append(qe.FieldCondition(key="published_year", range=year))
        if f.in_stock is not None:
            must.append(qe.FieldCondition(key="in_stock", match=qe.MatchValue(int(f.in_stock))))
        if f.title_contains:
            title = qe.MatchSubstring(f.title_contains.lower())
            must.append(qe.FieldCondition(key="title_lower", match=title))
    must_not: list[Any] = [qe.HasIdCondition(set(exclude))] if exclude else []
    if not (must or must_not):
        return None
    return qe.Filter(must=must or None, must_not=must_not or None)


def _edge_hits(points: Sequence[qe.ScoredPoint]) -> list[Hit]:
    return [Hit(int(p.id), p.score) for p in points]


class EdgeIndex:
    """An in-process Qdrant Edge shard in `path`: created by ensure_collection, loaded on first use.

    Edge calls are synchronous and hold the GIL (measured: a thread running one would not free the
    event loop), so they run inline; they take well under a millisecond for a search, and upserts are
    split into batches so one write does not stall the loop. The binding is thread-safe, so no lock.
    Only one EdgeShard may hold a directory at a time (its WAL is locked), across processes too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._shard: qe.EdgeShard | None = None
        self._closed = False

    def _exists(self) -> bool:
        return (self.path / "edge_config.json").exists()

    def _open(self, *, create: bool = False) -> qe.EdgeShard:
        if self._shard is not None:
            return self._shard
        if self._closed:
            raise _missing(f"edge shard {self.path} is closed")
        if self._exists():
            # Passing the config checks the shard on disk was made for the same vectors.
            self._shard = qe.EdgeShard.load(str(self.path), _EDGE_CONFIG)
        elif create:
            self._shard = qe.EdgeShard.create(str(self.path), _EDGE_CONFIG)
        else:
            raise _missing(f"no edge shard in {self.path}")
        return self._shard

    @contextmanager
    def _call(self, *, create: bool = False) -> Iterator[qe.EdgeShard]:
        with _backend_call(_edge_unavailable):
            yield self._open(create=create)

    def _write(self, operation: qe.UpdateOperation) -> None:
        with self._call() as shard:
            shard.update(operation)
            # Flushed before returning, so a batch the indexer saw finish survives a crash.
            shard.flush()

    async def optimize(self) -> None:
        # Edge has no background optimizer: until this runs, segments are searched brute-force.
        with self._call() as shard:
            shard.optimize()

    async def ensure_collection(self) -> None:
        with self._call(create=True) as shard:
            indexed = shard.info().payload_schema
        for field, (kind, params) in _EDGE_INDEXES.items():
            # A changed type replaces the index (creating an index over an existing one does).
            if field not in indexed or indexed[field].data_type != kind:
                self._write(qe.UpdateOperation.create_field_index(field, params or kind))

    async def upsert(self, points: Sequence[BookPoint]) -> None:
        for batch in _batches(points):
            edge_points = [qe.Point(p.book_id, list(p.vector), _edge_payload(p)) for p in batch]
            self._write(qe.UpdateOperation.upsert_points(edge_points))
            await asyncio.sleep(0)  # let requests in between batches

    async def delete(self, book_ids: Sequence[int]) -> None:
        if book_ids:
            self._write(qe.UpdateOperation.delete_points(list(book_ids)))

    async def set_in_stock(self, stock: Mapping[int, bool]) -> None:
        # By filter, not by ids: set_payload by ids fails on the first id that has no point.
        for in_stock, book_ids in _by_value(stock).items():
            points = qe.Filter(must=[qe.HasIdCondition(set(book_ids))])
            payload = {"in_stock": int(in_stock)}  # 0/1, as in _edge_payload
            self._write(qe.UpdateOperation.set_payload_by_filter(points, payload))

    async def search(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        filter: SearchFilter | None = None,
        exclude: Sequence[int] = (),
    ) -> list[Hit]:
        request = qe.QueryRequest(
            limit=limit,
            offset=offset,
            query=qe.Query.Nearest(list(vector)),
            filter=_edge_filter(filter, exclude),
            with_payload=False,
            with_vector=False,
        )
        with self._call() as shard:
            return _edge_hits(shard.query(request))

    async def search_many(
        self, vectors: Sequence[Sequence[float]], *, limit: int, excludes: Sequence[Sequence[int]]
    ) -> list[list[Hit]]:
        if not vectors:
            return []
        requests = [
            qe.QueryRequest(
                limit=limit,
                query=qe.Query.Nearest(list(vector)),
                filter=_edge_filter(None, exclude),
                with_payload=False,
                with_vector=False,
            )
            for vector, exclude in zip(vectors, excludes, strict=True)
        ]
        with self._call() as shard:
            results = shard.query_batch(qe.QueryBatchRequest(requests))
        return [_edge_hits(points) for points in results]

    async def vectors(self, book_ids: Sequence[int]) -> dict[int, list[float]]:
        if not book_ids:
            return {}
        with self._call() as shard:
            # with_vector has no default at runtime, whatever the stub says.
            records = shard.retrieve(list(book_ids), False, True)
        found = {int(r.id): _dense(r.vector) for r in records}
        return {book_id: vector for book_id, vector in found.items() if vector is not None}

    async def content_hashes(self) -> dict[int, str]:
        hashes: dict[int, str] = {}
        offset: qe.PointId | None = None
        while True:
            request = qe.ScrollRequest(
                offset=offset, limit=SCROLL_PAGE, with_payload=["content_hash"], with_vector=False
            )
            with self._call() as shard:
                records, offset = shard.scroll(request)
            for record in records:
                hashes[int(record.id)] = (record.payload or {}).get("content_hash", "")
            if offset is None:
                return hashes
            await asyncio.sleep(0)

    async def count(self) -> int:
        with self._call() as shard:
            return shard.count(qe.CountRequest(exact=True))

    async def ping(self) -> None:
        with self._call() as shard:
            shard.info()

    async def close(self) -> None:
        self._closed = True
        if self._shard is not None:
            shard, self._shard = self._shard, None
            shard.close()  # releases the WAL lock, so another EdgeIndex may open the directory


# --- server: qdrant-client -------------------------------------------------------------------------

_CLIENT_INDEXES: dict[str, qm.PayloadSchemaType | qm.KeywordIndexParams] = {
    "genres": qm.PayloadSchemaType.KEYWORD,
    "author_ids": qm.PayloadSchemaType.INTEGER,
    "price_cents": qm.PayloadSchemaType.INTEGER,
    "published_year": qm.PayloadSchemaType.INTEGER,
    "in_stock": qm.PayloadSchemaType.BOOL,
    "title_lower": qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, prefix=True),
}


def _client_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OSError | TimeoutError | ResponseHandlingException):  # no answer at all
        return True
    if isinstance(exc, UnexpectedResponse):  # 404: the collection is missing; 5xx: the server failed
        return exc.status_code == 404 or (exc.status_code or 0) >= 500
    # The in-process ":memory:" mode reports a missing collection as ValueError("Collection books not found").
    return isinstance(exc, ValueError) and "not found" in str(exc)


def _client_filter(conditions: SearchFilter | None, exclude: Sequence[int] = ()) -> qm.Filter | None:
    must: list[qm.Condition] = []
    if conditions is not None:
        f = conditions
        if f.genres is not None:
            must.append(qm.FieldCondition(key="genres", match=qm.MatchAny(any=list(f.genres))))
        if f.author_ids is not None:
            must.append(qm.FieldCondition(key="author_ids", match=qm.MatchAny(any=list(f.author_ids))))
        if f.min_price_cents is not None or f.max_price_cents is not None:
            price = qm.Range(gte=f.min_price_cents, lte=f.max_price_cents)
            must.append(qm.FieldCondition(key="price_cents", range=price))
        if f.min_year is not None or f.max_year is not None:
            year = qm.Range(gte=f.min_year, lte=f.max_year)
            must.append(qm.FieldCondition(key="published_year", range=year))
        if f.in_stock is not None:
            must.append(qm.FieldCondition(key="in_stock", match=qm.MatchValue(value=f.in_stock)))
        if f.title_contains:
            title = qm.MatchSubstring(substring=f.title_contains.lower())
            must.append(qm.FieldCondition(key="title_lower", match=title))
    must_not: list[qm.Condition] = [qm.HasIdCondition(has_id=list(exclude))] if exclude else []
    if not (must or must_not):
        return None
    return qm.Filter(must=must or None, must_not=must_not or None)


def _client_hits(points: Sequence[qm.ScoredPoint]) -> list[Hit]:
    return [Hit(int(p.id), p.score) for p in points]


class ClientIndex:
    """A collection on a Qdrant server ("http://host:6333"), or in qdrant-client's ":memory:" mode."""

    def __init__(self, location: str, *, timeout: float = 3.0) -> None:
        # The client rounds its timeout up to whole seconds anyway; say so rather than pass a float.
        self._client = AsyncQdrantClient(
            location=location, timeout=math.ceil(timeout), check_compatibility=False
        )
        # Local mode scans instead of using payload indexes, and warns on creating one.
        self._local = location == ":memory:"

    @contextmanager
    def _call(self) -> Iterator[AsyncQdrantClient]:
        with _backend_call(_client_unavailable):
            yield self._client

    async def optimize(self) -> None:
        return None  # the server optimizes in the background

    async def ensure_collection(self) -> None:
        with self._call() as client:
            exists = await client.collection_exists(COLLECTION)
        if not exists:
            vectors = qm.VectorParams(size=VECTOR_SIZE, distance=qm.Distance.COSINE)
            with self._call() as client:
                await client.create_collection(COLLECTION, vectors_config=vectors)
        if self._local:
            return
        with self._call() as client:
            indexed = (await client.get_collection(COLLECTION)).payload_schema
        for field, schema in _CLIENT_INDEXES.items():
            if field not in indexed:
                with self._call() as client:
                    await client.create_payload_index(COLLECTION, field, field_schema=schema, wait=True)

    async def upsert(self, points: Sequence[BookPoint]) -> None:
        for batch in _batches(points):
            structs = [
                qm.PointStruct(id=p.book_id, vector=list(p.vector), payload=_payload(p)) for p in batch
            ]
            with self._call() as client:
                await client.upsert(COLLECTION, points=structs, wait=True)

    async def delete(self, book_ids: Sequence[int]) -> None:
        if book_ids:
            selector = qm.PointIdsList(points=list(book_ids))
            with self._call() as client:
                await client.delete(COLLECTION, points_selector=selector, wait=True)

    async def set_in_stock(self, stock: Mapping[int, bool]) -> None:
        # By filter, not by ids: local mode raises KeyError on an id that has no point.
        for in_stock, book_ids in _by_value(stock).items():
            points = qm.Filter(must=[qm.HasIdCondition(has_id=list(book_ids))])
            with self._call() as client:
                await client.set_payload(COLLECTION, payload={"in_stock": in_stock}, points=points, wait=True)

    async def search(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        filter: SearchFilter | None = None,
        exclude: Sequence[int] = (),
    ) -> list[Hit]:
        with self._call() as client:
            response = await client.query_points(
                COLLECTION,
                query=list(vector),
                limit=limit,
                offset=offset,
                query_filter=_client_filter(filter, exclude),
                with_payload=False,
                with_vectors=False,
            )
        return _client_hits(response.points)

    async def search_many(
        self, vectors: Sequence[Sequence[float]], *, limit: int, excludes: Sequence[Sequence[int]]
    ) -> list[list[Hit]]:
        if not vectors:
            return []
        requests = [
            qm.QueryRequest(
                query=list(vector),
                limit=limit,
                filter=_client_filter(None, exclude),
                with_payload=False,
                with_vector=False,
            )
            for vector, exclude in zip(vectors, excludes, strict=True)
        ]
        with self._call() as client:
            responses = await client.query_batch_points(COLLECTION, requests=requests)
        return [_client_hits(response.points) for response in responses]

    async def vectors(self, book_ids: Sequence[int]) -> dict[int, list[float]]:
        if not book_ids:
            return {}
        with self._call() as client:
            records = await client.retrieve(
                COLLECTION, ids=list(book_ids), with_payload=False, with_vectors=True
            )
        found = {int(r.id): _dense(r.vector) for r in records}
        return {book_id: vector for book_id, vector in found.items() if vector is not None}

    async def content_hashes(self) -> dict[int, str]:
        hashes: dict[int, str] = {}
        offset: qm.ExtendedPointId | None = None
        while True:
            with self._call() as client:
                records, offset = await client.scroll(
                    COLLECTION,
                    limit=SCROLL_PAGE,
                    offset=offset,
                    with_payload=["content_hash"],
                    with_vectors=False,
                )
            for record in records:
                hashes[int(record.id)] = (record.payload or {}).get("content_hash", "")
            if offset is None:
                return hashes

    async def count(self) -> int:
        with self._call() as client:
            return (await client.count(COLLECTION, exact=True)).count

    async def ping(self) -> None:
        with self._call() as client:
            await client.get_collection(COLLECTION)

    async def close(self) -> None:
        await self._client.close()
