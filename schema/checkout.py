"""Checkout types: the mutations' inputs and payloads, and the live updates of subscriptions."""

from __future__ import annotations

from datetime import datetime

import strawberry

from checkout.saga import Problem, ProblemCode
from context import Info
from datasources.orders.rows import OrderStatus
from schema.books import Book, Stock
from schema.orders import Order
from schema.relay import to_global_id

CheckoutErrorCode = strawberry.enum(ProblemCode, name="CheckoutErrorCode")


@strawberry.type(description="Why a mutation could not do what was asked; nothing was changed.")
class CheckoutError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "lines", "2", "quantity"].'
    )
    message: str
    code: CheckoutErrorCode  # type: ignore[valid-type]

    @classmethod
    def of(cls, problem: Problem) -> CheckoutError:
        return cls(field=problem.field, message=problem.message, code=problem.code)


@strawberry.input
class OrderLineInput:
    book_id: strawberry.ID
    quantity: int


@strawberry.input
class PlaceOrderInput:
    idempotency_key: str = strawberry.field(
        description="Chosen by the client, unique per order (a UUID): sending the same request again "
        "with the same key returns the same order instead of placing another."
    )
    lines: list[OrderLineInput]


@strawberry.type
class PlaceOrderPayload:
    order: Order | None = strawberry.field(
        description="The confirmed order; null when `userErrors` is not empty."
    )
    user_errors: list[CheckoutError]


@strawberry.type
class CancelOrderPayload:
    order: Order | None
    user_errors: list[CheckoutError]


@strawberry.type
class SetOrderStatusPayload:
    order: Order | None
    user_errors: list[CheckoutError]


@strawberry.type
class RestockPayload:
    book: Book | None
    stock: Stock | None
    user_errors: list[CheckoutError]


@strawberry.type
class OrderStatusChange:
    order_pk: strawberry.Private[int]
    previous_status: OrderStatus | None
    status: OrderStatus
    occurred_at: datetime

    @strawberry.field(description="The order as it is now.")
    async def order(self, info: Info) -> Order | None:
        row = await info.context.orders.orders_by_id.load(self.order_pk)
        return Order.from_row(row) if row is not None else None


@strawberry.type
class StockChange:
    book_pk: strawberry.Private[int]
    stock: Stock

    @strawberry.field
    def book_id(self) -> strawberry.ID:
        return to_global_id("Book", self.book_pk)

    @strawberry.field
    async def book(self, info: Info) -> Book | None:
        row = await info.context.inventory.books_by_id.load(self.book_pk)
        return Book.from_row(row) if row is not None else None
