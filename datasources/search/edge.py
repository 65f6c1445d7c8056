"""The embedded search backend: an in-process Qdrant Edge shard on local disk."""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from datasources.filters import BookFilter
from datasources.search import index as shared  # SCROLL_PAGE read at each call: tests shrink it
from datasources.search.index import (
    VECTOR_SIZE,
    AnyOf,
    Between,
    BookPoint,
    Clause,
    Contains,
    Equals,
    Guard,
    HasId,
    Hit,
    VectorIndex,
    backend_call,
    batches,
    clauses,
    dense,
    guarded_batches,
    missing,
    payload,
    payload_guard,
)

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
    return {**payload(point), "in_stock": int(point.in_stock)}


def _edge_filter(
    filter: BookFilter | None, exclude: Sequence[int] = (), guard: Guard | None = None
) -> qe.Filter | None:
    must, must_not = clauses(filter, exclude, guard)
    if not (must or must_not):
        return None
    return qe.Filter(
        must=[_edge_condition(c) for c in must] or None,
        must_not=[_edge_condition(c) for c in must_not] or None,
    )


def _edge_condition(clause: Clause) -> Any:
    match clause:
        case AnyOf(key, values):
            return qe.FieldCondition(key=key, match=qe.MatchAny(values))
        case Between(key, at_least, at_most, above):
            return qe.FieldCondition(key=key, range=qe.RangeFloat(gte=at_least, lte=at_most, gt=above))
        case Equals(key, value):
            # Edge keeps booleans as 0/1 (see _edge_payload).
            return qe.FieldCondition(key=key, match=qe.MatchValue(int(value)))
        case Contains(key, text):
            return qe.FieldCondition(key=key, match=qe.MatchSubstring(text))
        case HasId(ids):
            return qe.HasIdCondition(set(ids))


def _edge_guard(guard: Guard) -> qe.Filter:
    return _edge_filter(None, guard=guard) or qe.Filter()  # a guard always names a version


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
            raise missing(f"edge shard {self.path} is closed")
        if self._held_elsewhere():
            raise missing(f"edge shard {self.path} is held by another owner")
        if self._exists():
            # Passing the config checks the shard on disk was made for the same vectors.
            self._shard = qe.EdgeShard.load(str(self.path), _EDGE_CONFIG)
        elif create:
            self._shard = qe.EdgeShard.create(str(self.path), _EDGE_CONFIG)
        else:
            raise missing(f"no edge shard in {self.path}")
        return self._shard

    def _held_elsewhere(self) -> bool:
        """Whether another shard, in this process or another, holds the directory. Loading it then
        would open (and write) its segments before failing on the WAL's lock, corrupting the
        owner's payload indexes; the same lock, tried first, costs nothing. (Taken between this
        check and the load, the load still fails on the WAL: the window is that narrow.)"""
        try:
            fd = os.open(self.path / "wal", os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    @contextmanager
    def _call(self, *, create: bool = False) -> Iterator[qe.EdgeShard]:
        with backend_call(_edge_unavailable):
            yield self._open(create=create)

    def _write(self, *operations: qe.UpdateOperation) -> None:
        with self._call() as shard:
            for operation in operations:
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
        for guard, batch in guarded_batches(points):
            edge_points = [qe.Point(p.book_id, list(p.vector), _edge_payload(p)) for p in batch]
            self._write(qe.UpdateOperation.upsert_points(edge_points, condition=_edge_guard(guard)))
            await asyncio.sleep(0)  # let requests in between batches

    async def delete(self, book_ids: Sequence[int]) -> None:
        if book_ids:
            self._write(qe.UpdateOperation.delete_points(list(book_ids)))

    async def set_payloads(self, points: Sequence[BookPoint]) -> None:
        # By filter, not by ids: set_payload by ids fails on the first id that has no point.
        for batch in batches(points):
            self._write(
                *(
                    qe.UpdateOperation.set_payload_by_filter(_edge_guard(payload_guard(p)), _edge_payload(p))
                    for p in batch
                )
            )
            await asyncio.sleep(0)

    async def search(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        filter: BookFilter | None = None,
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
        found = {int(r.id): dense(r.vector) for r in records}
        return {book_id: vector for book_id, vector in found.items() if vector is not None}

    async def content_hashes(self, book_ids: Sequence[int] | None = None) -> dict[int, str]:
        if book_ids is not None:
            return await self._content_hashes_of(book_ids)
        hashes: dict[int, str] = {}
        offset: qe.PointId | None = None
        while True:
            request = qe.ScrollRequest(
                offset=offset, limit=shared.SCROLL_PAGE, with_payload=["content_hash"], with_vector=False
            )
            with self._call() as shard:
                records, offset = shard.scroll(request)
            for record in records:
                hashes[int(record.id)] = (record.payload or {}).get("content_hash", "")
            if offset is None:
                return hashes
            await asyncio.sleep(0)

    async def _content_hashes_of(self, book_ids: Sequence[int]) -> dict[int, str]:
        hashes: dict[int, str] = {}
        for start in range(0, len(book_ids), shared.SCROLL_PAGE):
            with self._call() as shard:
                records = shard.retrieve(
                    list(book_ids[start : start + shared.SCROLL_PAGE]), ["content_hash"], False
                )
            for record in records:
                hashes[int(record.id)] = (record.payload or {}).get("content_hash", "")
        return hashes

    async def count(self) -> int:
        with self._call() as shard:
            return shard.count(qe.CountRequest(exact=True))

    async def ping(self) -> None:
        with self._call() as shard:
            shard.info()

    @asynccontextmanager
    async def for_reading(self) -> AsyncIterator[VectorIndex]:
        """Itself, unless another process holds the shard (a server is running): then a copy of its
        directory, taken file by file (a few megabytes per thousand books) and removed after. Only
        one shard may hold a WAL, and a reader must not wait for the server to stop; what the server
        writes meanwhile is not in the copy, and the copy never touches the original."""
        if not self._held_elsewhere():
            yield self
            return
        with tempfile.TemporaryDirectory(prefix="bookgraph-shard-") as directory:
            copy = EdgeIndex(Path(directory) / "qdrant")
            await asyncio.to_thread(shutil.copytree, self.path, copy.path)
            try:
                yield copy
            finally:
                await copy.close()

    async def close(self) -> None:
        self._closed = True
        if self._shard is not None:
            shard, self._shard = self._shard, None
            shard.close()  # releases the WAL lock, so another EdgeIndex may open the directory
