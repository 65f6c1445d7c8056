"""Catalog types: Book, Author, Stock, Genre and the books filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from context import Info
from datasources.inventory.rows import AuthorRow, BookRow, BookSort, StockRow
from recommendations.shelf import Pick, similar_to, with_books
from recommendations.values import Recommendation, Strategy
from schema.money import Money
from schema.relations import Prefetched, Relation, cost, load_relations, relation
from schema.relay import Connection, Node, check_first, decode_cursor, pk_of, to_global_id


@strawberry.enum
class StockStatus(Enum):
    IN_STOCK = "IN_STOCK"
    LOW_STOCK = "LOW_STOCK"
    OUT_OF_STOCK = "OUT_OF_STOCK"


@strawberry.type
class Stock:
    on_hand: int = strawberry.field(description="Copies in the warehouse.")
    reserved: int = strawberry.field(description="Copies held for orders not yet shipped.")
    available: int = strawberry.field(description="Copies that can still be ordered.")
    status: StockStatus

    @classmethod
    def from_row(cls, row: StockRow, low_threshold: int) -> Stock:
        available = row.available
        if available <= 0:
            status = StockStatus.OUT_OF_STOCK
        elif available <= low_threshold:
            status = StockStatus.LOW_STOCK
        else:
            status = StockStatus.IN_STOCK
        return cls(on_hand=row.on_hand, reserved=row.reserved, available=available, status=status)


@strawberry.federation.type(keys=["id"])
class Book(Node, Prefetched):
    pk: strawberry.Private[int]
    isbn: str
    title: str
    description: str
    published_year: int
    price: Money
    prefetched: strawberry.Private[dict[Relation[Any, Any], Any]] = field(default_factory=dict)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Book | None:
        """A federation gateway's reference, through the same loader (so 100 are one statement)."""
        row = await info.context.inventory.books_by_id.load(pk_of(id, "Book"))
        return cls.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: BookRow) -> Book:
        return cls(
            id=to_global_id("Book", row.id),
            pk=row.id,
            isbn=row.isbn,
            title=row.title,
            description=row.description,
            published_year=row.published_year,
            price=Money.of(row.price_cents, row.currency),
        )

    authors = relation(
        Relation(
            store="inventory",
            loader="authors_by_book_id",
            key="pk",
            many=True,
            convert=lambda _, rows, __: [Author.from_row(row) for row in rows],
        ),
        graphql_type=list["Author"],
    )
    genres = relation(
        Relation(
            store="inventory",
            loader="genres_by_book_id",
            key="pk",
            many=True,
            convert=lambda _, genres, __: genres,
        ),
        graphql_type=list[str],
    )
    stock = relation(
        Relation(
            store="inventory",
            loader="stock_by_book_id",
            key="pk",
            many=False,
            convert=lambda _, row, context: Stock.from_row(row, context.settings.low_stock_threshold),
        ),
        graphql_type=Stock,
    )

    @strawberry.field(
        description="The books closest in content to this one (null when search is down).", metadata=cost(5)
    )
    async def similar_books(self, info: Info, first: int = 10) -> list[BookRecommendation] | None:
        check_first(first, minimum=1)
        context = info.context
        picks = await similar_to(context.search, context.inventory, self.pk, self.title, first)
        recommended = [BookRecommendation.of(pick) for pick in picks]
        await load_relations(info, recommended)
        return recommended

    @strawberry.field(
        description="Customers who bought this book also bought these (in stock only).", metadata=cost(5)
    )
    async def also_bought(self, info: Info, first: int = 10) -> list[BookRecommendation]:
        check_first(first, minimum=1)
        recommender = info.context.recommender
        return await recommended_books(
            info, await recommender.also_bought(self.pk, first, info.context.inventory), None
        )


RecommendationStrategy = strawberry.enum(Strategy, name="RecommendationStrategy")


@strawberry.type
class BookRecommendation:
    book: Book
    score: float = strawberry.field(
        description=(
            "How strongly the strategy recommends this book, from 0 to 1 (1 is the strongest it "
            "gives): CONTENT, the book's cosine similarity to a recent purchase; CO_PURCHASE, how "
            "often it is bought with the recent purchases; TRENDING, its recent sales as a share of "
            "the list's first; HYBRID, the blend of those, each as a share of its best."
        )
    )
    strategy: RecommendationStrategy  # type: ignore[valid-type]
    reason: str = strawberry.field(description="Why this book, in words a shopper reads.")

    @classmethod
    def of(cls, pick: Pick) -> BookRecommendation:
        return cls(book=Book.from_row(pick.row), score=pick.score, strategy=pick.strategy, reason=pick.reason)


async def recommended_books(
    info: Info, recommendations: Sequence[Recommendation], genre: str | None
) -> list[BookRecommendation]:
    """Recommendations with their books and the books their reasons name: one load for both."""
    picks = await with_books(info.context.inventory, recommendations, genre)
    result = [BookRecommendation.of(pick) for pick in picks]
    await load_relations(info, result)
    return result


@strawberry.federation.type(keys=["id"])
class Author(Node):
    pk: strawberry.Private[int]
    name: str

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Author | None:
        row = await info.context.inventory.authors_by_id.load(pk_of(id, "Author"))
        return cls.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: AuthorRow) -> Author:
        return cls(id=to_global_id("Author", row.id), pk=row.id, name=row.name)

    @strawberry.field(description="The author's books, by title.")
    async def books(self, info: Info, first: int = 20, after: str | None = None) -> Connection[Book]:
        inventory = info.context.inventory
        key = (self.pk, check_first(first), decode_cursor(after, "author-books"))
        page = await inventory.books_by_author_id.load(key)

        async def count() -> int:
            return await inventory.book_count_by_author_id.load(self.pk)

        connection = Connection.of(page, "author-books", Book.from_row, count)
        await load_relations(info, connection)
        return connection


@strawberry.type
class Genre:
    name: str
    book_count: int


@strawberry.input(description="An inclusive range of prices; either end may be left open.")
class PriceRange:
    min: Decimal | None = None
    max: Decimal | None = None


@strawberry.input(description="An inclusive range of years; either end may be left open.")
class YearRange:
    min: int | None = None
    max: int | None = None


@strawberry.input(name="BookFilter", description="Books matching every given condition.")
class BookFilterInput:
    genres: list[str] | None = strawberry.field(default=None, description="Any of these genres.")
    author_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="By any of these authors."
    )
    price_range: PriceRange | None = None
    in_stock: bool | None = strawberry.field(
        default=None, description="Only books that can (or cannot) be ordered."
    )
    published_year_range: YearRange | None = None
    title_contains: str | None = strawberry.field(default=None, description="Case-insensitive.")


BookOrderField = strawberry.enum(BookSort, name="BookOrderField")


@strawberry.enum
class OrderDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input
class BookOrder:
    field: BookOrderField = BookSort.TITLE  # type: ignore[valid-type]
    direction: OrderDirection = OrderDirection.ASC
