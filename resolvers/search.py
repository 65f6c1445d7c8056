"""Semantic search over the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from context import Context, Info
from datasources.inventory.rows import BookRow
from embeddings.model import normalise_query
from errors import BadUserInput
from resolvers.books import book_filter
from schema.books import Book, BookFilterInput, BookRecommendation, recommended_books
from schema.relations import load_relations
from schema.relay import PageInfo, Ranking, check_first
from schema.search import BookSearchConnection, BookSearchEdge

MAX_QUERY_LENGTH = 1000


async def search_books(
    info: Info,
    query: str,
    first: int = 10,
    after: str | None = None,
    filter: BookFilterInput | None = None,
) -> BookSearchConnection | None:
    found = await search_page(info.context, query, first, after, filter)
    edges = [
        BookSearchEdge(cursor=cursor, node=Book.from_row(row), score=score)
        for cursor, row, score in found.hits
    ]
    await load_relations(info, edges)
    return BookSearchConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=found.has_next,
            has_previous_page=found.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: list[tuple[str, BookRow, float]]  # (cursor, book, score), best first
    has_next: bool
    has_previous: bool


async def search_page(
    context: Context, query: str, first: int, after: str | None, filter: BookFilterInput | None
) -> SearchPage:
    """The page of hits the arguments ask for; compiled plans search through this too."""
    # Everything is validated before the query is embedded: bad input costs no model time.
    text = query.strip()
    if not text:
        raise BadUserInput("`query` must not be empty.", argument="query")
    if len(text) > MAX_QUERY_LENGTH:
        raise BadUserInput(f"`query` is limited to {MAX_QUERY_LENGTH} characters.", argument="query")
    check_first(first, minimum=1)
    conditions = book_filter(filter)
    ranking = Ranking.of("search", normalise_query(text), conditions)
    offset = ranking.offset(after)

    hits = await context.search.search(text, limit=first + 1, offset=offset, filter=conditions)
    if not context.search.coverage.complete:  # a first start still embedding the catalog
        context.extensions["searchIndex"] = context.search.coverage.extension()
    page = hits[:first]
    rows = await context.inventory.books_by_id.load_many([hit.book_id for hit in page])
    return SearchPage(
        [
            (ranking.cursor(offset + i + 1), row, hit.score)
            for i, (hit, row) in enumerate(zip(page, rows, strict=True))
            if row is not None  # a book deleted since it was indexed
        ],
        has_next=len(hits) > first,
        has_previous=offset > 0,
    )


async def trending_books(info: Info, first: int = 10, genre: str | None = None) -> list[BookRecommendation]:
    check_first(first, minimum=1)
    listed = await info.context.recommender.trending(genre, first)
    return await recommended_books(info, listed, genre)
