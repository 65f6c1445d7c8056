"""The server search backend: a Qdrant server (or qdrant-client's `:memory:` mode)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager

from qdrant_client import AsyncQdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from datasources.filters import BookFilter
from datasources.search import index as shared  # SCROLL_PAGE read at each call: tests shrink it
from datasources.search.index import (
    COLLECTION,
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
    payload,
    payload_guard,
)

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


def _client_filter(
    filter: BookFilter | None, exclude: Sequence[int] = (), guard: Guard | None = None
) -> qm.Filter | None:
    must, must_not = clauses(filter, exclude, guard)
    if not (must or must_not):
        return None
    return qm.Filter(
        must=[_client_condition(c) for c in must] or None,
        must_not=[_client_condition(c) for c in must_not] or None,
    )


def _client_condition(clause: Clause) -> qm.Condition:
    match clause:
        case AnyOf(key, values):
            return qm.FieldCondition(key=key, match=qm.MatchAny(any=values))
        case Between(key, at_least, at_most, above):
            return qm.FieldCondition(key=key, range=qm.Range(gte=at_least, lte=at_most, gt=above))
        case Equals(key, value):
            return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))
        case Contains(key, text):
            return qm.FieldCondition(key=key, match=qm.MatchSubstring(substring=text))
        case HasId(ids):
            return qm.HasIdCondition(has_id=list(ids))


def _client_guard(guard: Guard) -> qm.Filter:
    return _client_filter(None, guard=guard) or qm.Filter()  # a guard always names a version


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
        with backend_call(_client_unavailable, via=self):
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
        for guard, batch in guarded_batches(points):
            structs = [qm.PointStruct(id=p.book_id, vector=list(p.vector), payload=payload(p)) for p in batch]
            with self._call() as client:
                await client.upsert(COLLECTION, points=structs, update_filter=_client_guard(guard), wait=True)

    async def delete(self, book_ids: Sequence[int]) -> None:
        if book_ids:
            selector = qm.PointIdsList(points=list(book_ids))
            with self._call() as client:
                await client.delete(COLLECTION, points_selector=selector, wait=True)

    async def set_payloads(self, points: Sequence[BookPoint]) -> None:
        # By filter, not by ids: a server answers 404 for an id that has no point.
        for batch in batches(points):
            operations: list[qm.UpdateOperation] = [
                qm.SetPayloadOperation(
                    set_payload=qm.SetPayload(payload=payload(p), filter=_client_guard(payload_guard(p)))
                )
                for p in batch
            ]
            with self._call() as client:
                await client.batch_update_points(COLLECTION, update_operations=operations, wait=True)

    async def search(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        filter: BookFilter | None = None,
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
        found = {int(r.id): dense(r.vector) for r in records}
        return {book_id: vector for book_id, vector in found.items() if vector is not None}

    async def content_hashes(self, book_ids: Sequence[int] | None = None) -> dict[int, str]:
        if book_ids is not None:
            return await self._content_hashes_of(book_ids)
        hashes: dict[int, str] = {}
        offset: qm.ExtendedPointId | None = None
        while True:
            with self._call() as client:
                records, offset = await client.scroll(
                    COLLECTION,
                    limit=shared.SCROLL_PAGE,
                    offset=offset,
                    with_payload=["content_hash"],
                    with_vectors=False,
                )
            for record in records:
                hashes[int(record.id)] = (record.payload or {}).get("content_hash", "")
            if offset is None:
                return hashes

    async def _content_hashes_of(self, book_ids: Sequence[int]) -> dict[int, str]:
        hashes: dict[int, str] = {}
        for start in range(0, len(book_ids), shared.SCROLL_PAGE):
            with self._call() as client:
                records = await client.retrieve(
                    COLLECTION,
                    ids=list(book_ids[start : start + shared.SCROLL_PAGE]),
                    with_payload=["content_hash"],
                    with_vectors=False,
                )
            for record in records:
                hashes[int(record.id)] = (record.payload or {}).get("content_hash", "")
        return hashes

    async def count(self) -> int:
        with self._call() as client:
            return (await client.count(COLLECTION, exact=True)).count

    async def ping(self) -> None:
        with self._call() as client:
            await client.get_collection(COLLECTION)

    def for_reading(self) -> AbstractAsyncContextManager[VectorIndex]:
        return contextlib.nullcontext(self)  # a server has room for every reader

    async def close(self) -> None:
        await self._client.close()
