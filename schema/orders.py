"""Order types: Customer, Order, OrderLine, OrderEvent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import field
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from context import Info
from datasources.orders import CustomerRow, OrderEventRow, OrderLineRow, OrderRow
from errors import Forbidden
from recommender import Strategy
from schema.books import Book, check_count, in_stock_checker, prefetch_books, recommended_books
from schema.lookahead import Prefetched, Selection, below, fill, lookahead
from schema.money import Money
from schema.relay import Connection, Node, check_first, decode_cursor, pk_of, to_global_id
from schema.search import BookRecommendation, RecommendationStrategy


@strawberry.enum
class OrderStatus(Enum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


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
        await prefetch_orders(info, connection.nodes(), below(lookahead(info), "edges", "node"))
        return connection

    @strawberry.field(
        description="Books for this customer, best first; never one already bought or out of stock."
    )
    async def recommendations(
        self,
        info: Info,
        first: int = 10,
        strategy: RecommendationStrategy = RecommendationStrategy.HYBRID,
    ) -> list[BookRecommendation]:
        check_count(first)
        # A Customer is only reachable by those who may see it; checked again here because the
        # list is personal (an admin may look, another customer may not).
        if not await info.context.orders.may_see_customer(self.pk):
            raise Forbidden("Recommendations are for their customer only.")
        listed = await info.context.recommender.for_customer(
            self.pk, Strategy(strategy.value), first, in_stock_checker(info)
        )
        return await recommended_books(info, listed, None)


@strawberry.type
class OrderLine(Prefetched):
    book_pk: strawberry.Private[int]
    quantity: int
    unit_price: Money = strawberry.field(description="The price when the order was placed.")
    subtotal: Money
    prefetched: strawberry.Private[dict[str, Any]] = field(default_factory=dict)

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

    @strawberry.field(description="Null when the book has since left the catalog.", graphql_type=Book | None)
    def book(self, info: Info) -> Book | Awaitable[Book | None] | None:
        return self.relation("book", lambda: self._book(info))

    async def _book(self, info: Info) -> Book | None:
        row = await info.context.inventory.books_by_id.load(self.book_pk)
        return Book.from_row(row) if row is not None else None


async def prefetch_lines(info: Info, lines: Sequence[OrderLine], selection: Selection) -> None:
    if not lines or "book" not in selection:
        return
    loading = info.context.inventory.books_by_id.load_many([line.book_pk for line in lines])
    books = await fill(lines, "book", loading, lambda _, row: Book.from_row(row) if row is not None else None)
    await prefetch_books(info, [b for b in books if b is not None], selection["book"])


@strawberry.type
class OrderEvent:
    from_status: OrderStatus | None
    to_status: OrderStatus
    occurred_at: datetime
    note: str | None

    @classmethod
    def from_row(cls, row: OrderEventRow) -> OrderEvent:
        return cls(
            from_status=OrderStatus(row.from_status) if row.from_status else None,
            to_status=OrderStatus(row.to_status),
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
    prefetched: strawberry.Private[dict[str, Any]] = field(default_factory=dict)

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
            status=OrderStatus(row.status),
            placed_at=row.placed_at,
            total=Money.of(row.total_cents, row.currency),
        )

    @strawberry.field(graphql_type=list[OrderLine])
    def lines(self, info: Info) -> list[OrderLine] | Awaitable[list[OrderLine]]:
        return self.relation("lines", lambda: self._lines(info))

    async def _lines(self, info: Info) -> list[OrderLine]:
        rows = await info.context.orders.lines_by_order_id.load(self.pk)
        lines = [OrderLine.from_row(r, self.total.currency) for r in rows]
        await prefetch_lines(info, lines, lookahead(info))
        return lines

    @strawberry.field(graphql_type=Customer)
    def customer(self, info: Info) -> Customer | Awaitable[Customer]:
        return self.relation("customer", lambda: self._customer(info))

    async def _customer(self, info: Info) -> Customer:
        return _customer_of(self, await info.context.orders.customers_by_id.load(self.customer_pk))

    @strawberry.field(description="Every status change, oldest first.", graphql_type=list[OrderEvent])
    def events(self, info: Info) -> list[OrderEvent] | Awaitable[list[OrderEvent]]:
        return self.relation("events", lambda: self._events(info))

    async def _events(self, info: Info) -> list[OrderEvent]:
        return [OrderEvent.from_row(r) for r in await info.context.orders.events_by_order_id.load(self.pk)]


def _customer_of(order: Order, row: CustomerRow | None) -> Customer:
    if row is None:  # the foreign key makes this impossible short of a broken database
        raise LookupError(f"order {order.pk} has no customer {order.customer_pk}")
    return Customer.from_row(row)


async def prefetch_orders(info: Info, orders: Sequence[Order], selection: Selection) -> None:
    """Load the selected relations of all `orders` at once, and theirs below them."""
    if not orders:
        return
    source = info.context.orders
    pks = [o.pk for o in orders]

    async def lines() -> None:
        loaded = await fill(
            orders,
            "lines",
            source.lines_by_order_id.load_many(pks),
            lambda order, rows: [OrderLine.from_row(r, order.total.currency) for r in rows],
        )
        await prefetch_lines(
            info, [line for order_lines in loaded for line in order_lines], selection["lines"]
        )

    jobs: list[Awaitable[object]] = []
    if "lines" in selection:
        jobs.append(lines())
    if "customer" in selection:
        customers = source.customers_by_id.load_many([o.customer_pk for o in orders])
        jobs.append(fill(orders, "customer", customers, lambda order, row: _customer_of(order, row)))
    if "events" in selection:
        events = source.events_by_order_id.load_many(pks)
        jobs.append(fill(orders, "events", events, lambda _, rows: [OrderEvent.from_row(r) for r in rows]))
    await asyncio.gather(*jobs)
