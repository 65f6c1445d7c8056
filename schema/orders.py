"""Order types: Customer, Order, OrderLine, OrderEvent."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from context import Info
from datasources.orders import CustomerRow, OrderEventRow, OrderLineRow, OrderRow
from schema.books import Book
from schema.money import Money
from schema.relay import Connection, Node, check_first, decode_cursor, to_global_id


@strawberry.enum
class OrderStatus(Enum):
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


@strawberry.type
class Customer(Node):
    pk: strawberry.Private[int]
    name: str
    email: str
    created_at: datetime

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

        return Connection.of(page, "customer-orders", Order.from_row, count)


@strawberry.type
class OrderLine:
    book_pk: strawberry.Private[int]
    quantity: int
    unit_price: Money = strawberry.field(description="The price when the order was placed.")
    subtotal: Money

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

    @strawberry.field(description="Null when the book has since left the catalog.")
    async def book(self, info: Info) -> Book | None:
        row = await info.context.inventory.books_by_id.load(self.book_pk)
        return Book.from_row(row) if row is not None else None


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


@strawberry.type
class Order(Node):
    pk: strawberry.Private[int]
    customer_pk: strawberry.Private[int]
    number: str
    status: OrderStatus
    placed_at: datetime
    total: Money

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

    @strawberry.field
    async def lines(self, info: Info) -> list[OrderLine]:
        currency = self.total.currency
        return [
            OrderLine.from_row(r, currency) for r in await info.context.orders.lines_by_order_id.load(self.pk)
        ]

    @strawberry.field
    async def customer(self, info: Info) -> Customer:
        row = await info.context.orders.customers_by_id.load(self.customer_pk)
        if row is None:  # the foreign key makes this impossible short of a broken database
            raise LookupError(f"order {self.pk} has no customer {self.customer_pk}")
        return Customer.from_row(row)

    @strawberry.field(description="Every status change, oldest first.")
    async def events(self, info: Info) -> list[OrderEvent]:
        return [OrderEvent.from_row(r) for r in await info.context.orders.events_by_order_id.load(self.pk)]
