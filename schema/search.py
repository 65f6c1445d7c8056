"""Search and recommendation types: scored hits and recommended books."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.relay import PageInfo

if TYPE_CHECKING:
    from schema.books import Book

LazyBook = Annotated["Book", strawberry.lazy("schema.books")]


@strawberry.type
class BookSearchEdge:
    cursor: str
    node: LazyBook
    score: float = strawberry.field(description="Cosine similarity of the book to the query, -1 to 1.")


@strawberry.type(description="Books ranked by semantic similarity to a query.")
class BookSearchConnection:
    edges: list[BookSearchEdge]
    page_info: PageInfo


@strawberry.enum
class RecommendationStrategy(Enum):
    CONTENT = "CONTENT"
    CO_PURCHASE = "CO_PURCHASE"
    TRENDING = "TRENDING"
    HYBRID = "HYBRID"


@strawberry.type
class BookRecommendation:
    book: LazyBook
    score: float
    strategy: RecommendationStrategy
    reason: str = strawberry.field(description="Why this book, in words a shopper reads.")
