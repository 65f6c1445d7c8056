"""Checkout mutations: read the arguments, check who is asking, hand over to the workflow."""

from __future__ import annotations

import strawberry

from checkout.saga import LineRequest, Problem, ProblemCode, Result
from context import Info
from datasources.orders.rows import OrderRow, OrderStatus
from errors import BadUserInput, Forbidden, NotFound
from schema.books import Book, Stock
from schema.checkout import (
    CancelOrderPayload,
    CheckoutError,
    PlaceOrderInput,
    PlaceOrderPayload,
    RestockPayload,
    SetOrderStatusPayload,
)
from schema.orders import Order
from schema.relay import pk_of


def _pk_or_none(global_id: str, type_name: str) -> int | None:
    try:
        return pk_of(global_id, type_name)
    except BadUserInput:
        return None


def _parts(result: Result) -> tuple[Order | None, list[CheckoutError]]:
    order = Order.from_row(result.order) if result.order is not None else None
    return order, [CheckoutError.of(p) for p in result.problems]


def _failed(field: str, message: str, code: ProblemCode) -> Result:
    return Result(problems=[Problem([field], message, code)])


async def place_order(info: Info, input: PlaceOrderInput) -> PlaceOrderPayload:
    context = info.context
    customer = await context.orders.viewer_customer()
    if customer is None:  # IsCustomer lets only customers in
        raise Forbidden("Only a customer may place an order.")
    lines = [LineRequest(_pk_or_none(line.book_id, "Book"), line.quantity) for line in input.lines]
    result = await context.checkout.place(customer.id, input.idempotency_key, lines, context.inventory)
    order, errors = _parts(result)
    return PlaceOrderPayload(order=order, user_errors=errors)


async def _order_for(info: Info, global_id: str) -> OrderRow | Result:
    """The order the viewer may act on, or the userError saying why not."""
    pk = _pk_or_none(global_id, "Order")
    if pk is None:
        return _failed("id", "No order has this ID.", ProblemCode.UNKNOWN_ORDER)
    try:
        return await info.context.orders.visible_order(pk)
    except NotFound:  # someone else's order too
        return _failed("id", "No order has this ID.", ProblemCode.UNKNOWN_ORDER)


async def cancel_order(info: Info, id: strawberry.ID) -> CancelOrderPayload:
    found = await _order_for(info, id)
    result = found if isinstance(found, Result) else await info.context.checkout.cancel(found)
    order, errors = _parts(result)
    return CancelOrderPayload(order=order, user_errors=errors)


async def set_order_status(info: Info, id: strawberry.ID, status: OrderStatus) -> SetOrderStatusPayload:
    found = await _order_for(info, id)
    result = found if isinstance(found, Result) else await info.context.checkout.set_status(found, status)
    order, errors = _parts(result)
    return SetOrderStatusPayload(order=order, user_errors=errors)


async def restock(info: Info, book_id: strawberry.ID, quantity: int) -> RestockPayload:
    context = info.context
    done = await context.checkout.restock(_pk_or_none(book_id, "Book"), quantity, context.inventory)
    if done.book is None or done.level is None:
        return RestockPayload(book=None, stock=None, user_errors=[CheckoutError.of(p) for p in done.problems])
    return RestockPayload(
        book=Book.from_row(done.book),
        stock=Stock.from_row(done.level, context.settings.low_stock_threshold),
        user_errors=[],
    )
