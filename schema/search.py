"""Search types: books ranked by similarity to a query, with their scores."""

from __future__ import annotations

import strawberry

from schema.books import Book
from schema.relay import PageInfo


@strawberry.type
class BookSearchEdge:
    cursor: str
    node: Book
    score: float = strawberry.field(description="Cosine similarity of the book to the query, -1 to 1.")


@strawberry.type(description="Books ranked by semantic similarity to a query.")
class BookSearchConnection:
    edges: list[BookSearchEdge]
    page_info: PageInfo
