"""Catalog → search: embed each book and keep one Qdrant point per book, incrementally.

A point carries a content hash of what was embedded and of its filterable payload. A run embeds
only books whose text changed, rewrites only the payload of books whose price, genres or stock
changed, and deletes the points of books that are gone. Every batch is written (and flushed)
before the next is embedded, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from datasources.bulk import BookDocument, book_count, book_documents
from datasources.search import BookPoint, VectorIndex
from datasources.stores import Stores
from embeddings import MODEL_NAME, Embedder, get_embedder
from progress import Track, silent

if TYPE_CHECKING:  # an annotation only: the engine is handed through, never driven here
    from sqlalchemy.ext.asyncio import AsyncEngine

Progress = Callable[[int], None]


@dataclass(slots=True)
class IndexReport:
    embedded: int = 0
    payload_updated: int = 0
    unchanged: int = 0
    deleted: int = 0


def document_text(doc: BookDocument) -> str:
    by = f" By {', '.join(doc.authors)}." if doc.authors else ""
    genres = f" {', '.join(doc.genres)}." if doc.genres else ""
    return f"{doc.title}.{by}{genres} {doc.description}".strip()


def content_hash(doc: BookDocument) -> str:
    """`<text hash>.<payload hash>`: the first part says whether the vector must be recomputed."""
    text = hashlib.blake2b(f"{MODEL_NAME}\n{document_text(doc)}".encode(), digest_size=8).hexdigest()
    payload = json.dumps(
        [doc.title, doc.genres, doc.author_ids, doc.price_cents, doc.published_year, doc.in_stock]
    )
    return f"{text}.{hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()}"


def point(doc: BookDocument, vector: Sequence[float], digest: str) -> BookPoint:
    return BookPoint(
        book_id=doc.id,
        vector=vector,
        genres=doc.genres,
        author_ids=doc.author_ids,
        title=doc.title,
        price_cents=doc.price_cents,
        published_year=doc.published_year,
        in_stock=doc.in_stock,
        content_hash=digest,
    )


async def index_catalog(
    stores: Stores, track: Track = silent, *, batch_size: int = 128, book_ids: Sequence[int] | None = None
) -> IndexReport:
    """The process's model over the stores' catalog, with a progress bar of books/s."""
    embedder = await asyncio.to_thread(get_embedder)
    total = len(book_ids) if book_ids is not None else await book_count(stores.inventory)
    return await build_index(
        stores.inventory,
        stores.index,
        embedder,
        track("index", total),
        batch_size=batch_size,
        book_ids=book_ids,
    )


async def build_index(
    inventory: AsyncEngine,
    index: VectorIndex,
    embedder: Embedder,
    progress: Progress = lambda _: None,
    *,
    batch_size: int = 128,
    book_ids: Sequence[int] | None = None,
) -> IndexReport:
    """Bring the index in line with the catalog (or with the given books only)."""
    await index.ensure_collection()
    report = IndexReport()
    existing = await index.content_hashes()
    seen: set[int] = set()
    async for docs in book_documents(inventory, chunk=batch_size, book_ids=book_ids):
        to_embed: list[tuple[BookDocument, str]] = []
        payload_only: list[tuple[BookDocument, str]] = []
        for doc in docs:
            seen.add(doc.id)
            digest = content_hash(doc)
            old = existing.get(doc.id)
            if old == digest:
                report.unchanged += 1
            elif old is not None and old.split(".")[0] == digest.split(".")[0]:
                payload_only.append((doc, digest))
            else:
                to_embed.append((doc, digest))
        if to_embed:
            texts = [document_text(doc) for doc, _ in to_embed]
            vectors = await asyncio.to_thread(embedder.embed_documents, texts)
            await index.upsert([point(doc, v, h) for (doc, h), v in zip(to_embed, vectors, strict=True)])
            report.embedded += len(to_embed)
        if payload_only:
            stored = await index.vectors([doc.id for doc, _ in payload_only])
            await index.upsert([point(doc, stored[doc.id], h) for doc, h in payload_only if doc.id in stored])
            report.payload_updated += len(payload_only)
        progress(len(docs))
    if book_ids is None:
        gone = [book_id for book_id in existing if book_id not in seen]
    else:
        gone = [book_id for book_id in book_ids if book_id in existing and book_id not in seen]
    if gone:
        await index.delete(gone)
        report.deleted = len(gone)
    if report.embedded or report.payload_updated or report.deleted:
        await index.optimize()
    return report
