"""Per-request access to the search store: semantic search and nearest neighbours, batched."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from aiodataloader import DataLoader

from datasources.base import loader
from datasources.filters import BookFilter
from datasources.search.index import STORE, Hit, VectorIndex
from embeddings.model import Model

SimilarKey = tuple[int, int]  # (book id, how many)


@dataclass(slots=True)
class Coverage:
    """How much of the catalog the index holds, as last counted: while a first start (or a large
    import) is still being embedded, search answers from the books indexed so far, and says so."""

    books: int = 0
    indexed: int = 0

    @property
    def complete(self) -> bool:
        return self.indexed >= self.books

    def describe(self) -> str:
        return f"indexing {self.indexed:,}/{self.books:,}"

    def extension(self) -> dict[str, Any]:
        """What a response that searched says of the index (`extensions.searchIndex`)."""
        return {"complete": self.complete, "indexedBooks": self.indexed, "books": self.books}


class SearchSource:
    def __init__(self, index: VectorIndex, model: Model, coverage: Coverage | None = None) -> None:
        self.index = index
        self.model = model
        self.coverage = coverage or Coverage()

    async def search(self, query: str, *, limit: int, offset: int, filter: BookFilter | None) -> list[Hit]:
        embedder = await self.model.get()
        vector = await embedder.embed_query(query)
        return await self.index.search(vector, limit=limit, offset=offset, filter=filter)

    @cached_property
    def similar_by_book_id(self) -> DataLoader[SimilarKey, list[Hit]]:
        """Nearest neighbours of each book's own vector, excluding the book: one retrieve and one
        batched query for all the books of a level."""

        async def batch(keys: list[SimilarKey]) -> list[list[Hit]]:
            stored = await self.index.vectors(sorted({book_id for book_id, _ in keys}))
            present = [key for key in keys if key[0] in stored]
            limit = max((first for _, first in present), default=0)
            results = await self.index.search_many(
                [stored[book_id] for book_id, _ in present],
                limit=limit,
                excludes=[[book_id] for book_id, _ in present],
            )
            found = {key: hits[: key[1]] for key, hits in zip(present, results, strict=True)}
            return [found.get(key, []) for key in keys]

        return loader("similar_by_book_id", STORE, batch, via=self.index)
