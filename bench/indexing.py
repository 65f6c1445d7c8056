"""Indexing throughput against its ceiling: the model's own speed on the same texts (encode only,
at its best batch size), and `build_index` on the same books into a fresh shard (reading the
catalog, embedding, writing the points and recording them in the inventory)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from datasources.inventory.bulk import book_documents
from datasources.search.edge import EdgeIndex
from datasources.stores import Stores
from embeddings.model import Embedder
from ingest.indexing import build_index, document_text

BATCH_SIZES = (16, 32, 64, 128)


@dataclass(frozen=True, slots=True)
class IndexingRow:
    what: str
    books: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.books / self.seconds


async def measure(stores: Stores, embedder: Embedder, books: int) -> list[IndexingRow]:
    """The first `books` books of the catalog: encoded alone at each batch size, then indexed."""
    docs = []
    async for chunk in book_documents(stores.inventory, chunk=500):
        docs.extend(chunk)
        if len(docs) >= books:
            break
    docs = docs[:books]
    texts = [document_text(doc) for doc in docs]
    embedder.embed_documents(texts[:64])  # warm-up: the first batches pay for allocation
    rows = []
    for size in BATCH_SIZES:
        started = time.perf_counter()
        await asyncio.to_thread(embedder.embed_documents, texts, size)
        rows.append(IndexingRow(f"model alone, batches of {size}", len(texts), time.perf_counter() - started))
    with tempfile.TemporaryDirectory() as directory:
        index = EdgeIndex(Path(directory) / "qdrant")
        started = time.perf_counter()
        report = await build_index(stores.inventory, index, embedder, book_ids=[doc.id for doc in docs])
        seconds = time.perf_counter() - started
        rows.append(IndexingRow("bookgraph index (fresh shard)", report.embedded, seconds))
        await index.close()
    return rows
