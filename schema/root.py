"""The root types and the executable schema."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.federation.schema import FederationAny
from strawberry.types.info import Info as FederationInfo

from auth.permissions import IsAdmin, IsCustomer, IsSignedIn
from errors import BadUserInput
from observability.tracing import OperationTracing
from resolvers import books as catalog
from resolvers import checkout, live
from resolvers import node as nodes
from resolvers import orders as ordering
from resolvers import search as searching
from schema.books import Author, Book, BookRecommendation, Genre
from schema.checkout import (
    CancelOrderPayload,
    OrderStatusChange,
    PlaceOrderPayload,
    RestockPayload,
    SetOrderStatusPayload,
    StockChange,
)
from schema.inline import InlineExecutionContext
from schema.orders import Customer, Order
from schema.relations import cost
from schema.relay import Connection, Node
from schema.search import BookSearchConnection

# Sized to the number of distinct operations clients send, so repeated queries skip
# parsing and validation (the largest fixed cost of a small query).
DOCUMENT_CACHE_SIZE = 1024


@strawberry.type
class Query:
    # Root fields are nullable so that a store that fails costs only its own fields,
    # not the whole response (a non-null root field would null `data` entirely).
    node: Node | None = strawberry.field(resolver=nodes.node, description="Any object by its global ID.")
    nodes: list[Node | None] = strawberry.field(
        resolver=nodes.nodes,
        description="Objects by their global IDs, in the same order (null where not found).",
    )
    book: Book | None = strawberry.field(resolver=catalog.book, description="A book by ID or ISBN.")
    books: Connection[Book] | None = strawberry.field(
        resolver=catalog.books, description="The catalog, filtered and ordered."
    )
    search_books: BookSearchConnection | None = strawberry.field(
        resolver=searching.search_books,
        description="Books ranked by meaning, not keywords; `filter` applies inside the search store.",
        metadata=cost(10),  # an embedding and a vector search
    )
    trending_books: list[BookRecommendation] | None = strawberry.field(
        resolver=searching.trending_books,
        description="What sells now (recent orders, decayed by age), optionally within one genre.",
        metadata=cost(2),
    )
    author: Author | None = strawberry.field(resolver=catalog.author)
    genres: list[Genre] | None = strawberry.field(
        resolver=catalog.genres, description="Every genre with its number of books."
    )
    viewer: Customer | None = strawberry.field(
        resolver=ordering.viewer, description="The signed-in customer; null without a customer token."
    )
    order: Order | None = strawberry.field(resolver=ordering.order, description="One of the viewer's orders.")


@strawberry.type
class Mutation:
    place_order: PlaceOrderPayload = strawberry.mutation(
        resolver=checkout.place_order,
        permission_classes=[IsCustomer],
        description="Place an order: stock is held for every line, or for none and `userErrors` says why.",
    )
    cancel_order: CancelOrderPayload = strawberry.mutation(
        resolver=checkout.cancel_order,
        permission_classes=[IsSignedIn],
        description="Cancel an order that has not shipped; its stock goes back on sale.",
    )
    set_order_status: SetOrderStatusPayload = strawberry.mutation(
        resolver=checkout.set_order_status,
        permission_classes=[IsAdmin],
        description="Move an order along CONFIRMED → SHIPPED → DELIVERED, or cancel it (administrators).",
    )
    restock: RestockPayload = strawberry.mutation(
        resolver=checkout.restock,
        permission_classes=[IsAdmin],
        description="Add copies of a book to the warehouse (administrators).",
    )


@strawberry.type
class Subscription:
    order_status_changed: AsyncGenerator[OrderStatusChange, None] = strawberry.subscription(
        resolver=live.order_status_changed,
        permission_classes=[IsSignedIn],
        description="Status changes of one order, or of all the viewer's orders when `orderId` is omitted.",
    )
    stock_changed: AsyncGenerator[StockChange, None] = strawberry.subscription(
        resolver=live.stock_changed, description="Stock levels of the given books as they change."
    )


ENTITIES = frozenset({"Book", "Author", "Customer", "Order"})


class BookgraphSchema(strawberry.federation.Schema):
    def entities_resolver(
        self, info: FederationInfo, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # Checked before any is resolved: Strawberry's resolver fails half-way through a malformed
        # list, leaving the references it already started unawaited.
        for representation in representations:
            if not (
                isinstance(representation, dict)
                and representation.keys() == {"__typename", "id"}
                and representation["__typename"] in ENTITIES
                and isinstance(representation["id"], str)
            ):
                raise BadUserInput(
                    "Each representation is `{__typename, id}` with __typename one of "
                    + ", ".join(sorted(ENTITIES))
                    + ".",
                    argument="representations",
                )
        # Copies: the resolver consumes what it is given.
        return super().entities_resolver(info, [FederationAny(dict(r)) for r in representations])  # type: ignore[call-overload]


def build_schema(*, inline: bool = True, **kwargs: Any) -> strawberry.Schema:
    # An Apollo Federation 2 subgraph as well: Book, Author, Customer and Order are entities keyed
    # by their global ID, so a router can put bookgraph beside other teams' graphs.
    return BookgraphSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Book, Author, Customer, Order],
        extensions=[
            # Factories: the LRU caches behind them are module-level, shared by every request.
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
            # Spans per operation (no-ops unless tracing is configured), never per field.
            OperationTracing,
        ],
        federation_version="2.5",
        execution_context_class=InlineExecutionContext if inline else None,
        **kwargs,
    )


schema = build_schema()
