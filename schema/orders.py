"""Order types: Customer, Order, OrderLine, OrderEvent."""

from __future__ import annotations

from dataclasses import field
from datetime import datetime
from typing import Any

import strawberry

from context import Info
from datasources.orders.rows import CustomerRow, OrderEventRow, OrderLineRow, OrderRow, OrderStatus
from errors import Forbidden
from recommendations.values import Strategy
from schema.books import (
    Book,
    BookRecommendation,
    RecommendationStrategy,
    recommended_books,
)
from schema.money import Money
from schema.relations import Prefetched, Relation, cost, load_relations, relation
from schema.relay import Connection, Node, check_first, decode_cursor, pk_of, to_global_id

strawberry.enum(OrderStatus)  # the orders store's own values, exposed as they are


@strawberry.federation.type(keys=["id"])
class Customer(Node):
    pk: strawberry.Private[int]
    name: str
    email: str
    created_at: datetime

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Customer:
        # The same row rule as node(id:): the customer, or an admin.
        return cls.from_row(await info.context.orders.visible_customer(pk_of(id, "Customer")))

    @classmethod
    def from_row(cls, row: CustomerRow) -> Customer:
        return cls(
            id=to_global_id("Customer", row.id),
            pk=row.id,
            name=row.name,
            email=row.email,
            created_at=row.created_at,
        )

    @strawberry.field(description="The customer's orders, newest first.")
    async def orders(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        status: list[OrderStatus] | None = None,
    ) -> Connection[Order]:
        source = info.context.orders
        statuses = tuple(sorted(s.value for s in status)) if status is not None else None
        page = await source.orders_by_customer_id.load(
            (self.pk, statuses, check_first(first), decode_cursor(after, "customer-orders"))
        )

        async def count() -> int:
            return await source.order_count_by_customer_id.load((self.pk, statuses))

        connection = Connection.of(page, "customer-orders", Order.from_row, count)
        await load_relations(info, connection)
        return connection

    @strawberry.field(
        description=(
            "Books for this customer, best first; never one already bought or out of stock. Null, "
            "with an error, when a store the strategy needs is down (HYBRID goes on without search)."
        ),
        metadata=cost(5),
    )
    async def recommendations(
        self,
        info: Info,
        first: int = 10,
        strategy: RecommendationStrategy = Strategy.HYBRID,  # type: ignore[valid-type]
    ) -> list[BookRecommendation] | None:
        check_first(first, minimum=1)
        # A Customer is only reachable by those who may see it; checked again here because the
        # list is personal (an admin may look, another customer may not).
        if not await info.context.orders.may_see_customer(self.pk):
            raise Forbidden("Recommendations are for their customer only.")
        listed = await info.context.recommender.for_customer(self.pk, strategy, first, info.context.inventory)
        return await recommended_books(info, listed, None)


@strawberry.type
class OrderLine(Prefetched):
    book_pk: strawberry.Private[int]
    quantity: int
    unit_price: Money = strawberry.field(description="The price when the order was placed.")
    subtotal: Money
    prefetched: strawberry.Private[dict[Relation[Any, Any], Any]] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: OrderLineRow, currency: str) -> OrderLine:
        return cls(
            book_pk=row.book_id,
            quantity=row.quantity,
            unit_price=Money.of(row.unit_price_cents, currency),
            subtotal=Money.of(row.unit_price_cents * row.quantity, currency),
        )

    @strawberry.field(description="The book's ID, without a trip to the inventory store.")
    def book_id(self) -> strawberry.ID:
        return to_global_id("Book", self.book_pk)

    book = relation(
        Relation(
            store="inventory",
            loader="books_by_id",
            key="book_pk",
            many=False,
            convert=lambda _, row, __: Book.from_row(row) if row is not None else None,
        ),
        graphql_type=Book | None,
        description="Null when the book has since left the catalog.",
    )


@strawberry.type
class OrderEvent:
    from_status: OrderStatus | None
    to_status: OrderStatus
    occurred_at: datetime
    note: str | None

    @classmethod
    def from_row(cls, row: OrderEventRow) -> OrderEvent:
        return cls(
            from_status=row.from_status,
            to_status=row.to_status,
            occurred_at=row.occurred_at,
            note=row.note,
        )


@strawberry.federation.type(keys=["id"])
class Order(Node, Prefetched):
    pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    number: str
    status: OrderStatus
    placed_at: datetime
    total: Money
    prefetched: strawberry.Private[dict[Relation[Any, Any], Any]] = field(default_factory=dict)

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Order:
        return cls.from_row(await info.context.orders.visible_order(pk_of(id, "Order")))

    @classmethod
    def from_row(cls, row: OrderRow) -> Order:
        return cls(
            id=to_global_id("Order", row.id),
            pk=row.id,
            customer_pk=row.customer_id,
            number=row.number,
            status=row.status,
            placed_at=row.placed_at,
            total=Money.of(row.total_cents, row.currency),
        )

    lines = relation(
        Relation(
            store="orders",
            loader="lines_by_order_id",
            key="pk",
            many=True,
            convert=lambda order, rows, _: [OrderLine.from_row(r, order.total.currency) for r in rows],
        ),
        graphql_type=list[OrderLine],
    )
    customer = relation(
        Relation(
            store="orders",
            loader="customers_by_id",
            key="customer_pk",
            many=False,
            convert=lambda order, row, _: _customer_of(order, row),
        ),
        graphql_type=Customer,
    )
    events = relation(
        Relation(
            store="orders",
            loader="events_by_order_id",
            key="pk",
            many=True,
            convert=lambda _, rows, __: [OrderEvent.from_row(r) for r in rows],
        ),
        graphql_type=list[OrderEvent],
        description="Every status change, oldest first.",
    )


def _customer_of(order: Order, row: CustomerRow | None) -> Customer:
    if row is None:  # the foreign key makes this impossible short of a broken database
        raise LookupError(f"order {order.pk} has no customer {order.customer_pk}")
    return Customer.from_row(row)
