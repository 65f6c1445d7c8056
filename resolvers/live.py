"""Subscriptions: live order status and stock, heard over Redis from whichever process made them."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from context import Info
from datasources.inventory.rows import StockRow
from datasources.orders.rows import OrderStatus
from errors import BadUserInput, Unauthenticated
from schema.books import Stock
from schema.checkout import OrderStatusChange, StockChange
from schema.relay import pk_of

MAX_WATCHED_BOOKS = 100


async def order_status_changed(
    info: Info, order_id: strawberry.ID | None = None
) -> AsyncGenerator[OrderStatusChange, None]:
    context = info.context
    events = context.events
    channels, patterns = [], []
    if order_id is not None:
        # The same rule as reading the order: its customer, or an administrator.
        order = await context.orders.visible_order(pk_of(order_id, "Order"))
        channels.append(events.order_channel(order.customer_id, order.id))
    elif context.viewer.is_admin:
        patterns.append(events.order_channel("*", "*"))
    else:
        me = await context.orders.viewer_customer()
        if me is None:
            raise Unauthenticated("Sign in as a customer to follow your orders.")
        patterns.append(events.order_channel(me.id, "*"))
    async for event in events.listen(channels=channels, patterns=patterns):
        # The connection's loaders live as long as it does: forget the order as it was.
        context.orders.orders_by_id.clear(event["order_id"])
        yield OrderStatusChange(
            order_pk=event["order_id"],
            previous_status=OrderStatus(event["from_status"]) if event["from_status"] else None,
            status=OrderStatus(event["to_status"]),
            occurred_at=datetime.fromisoformat(event["occurred_at"]),
        )


async def stock_changed(info: Info, book_ids: list[strawberry.ID]) -> AsyncGenerator[StockChange, None]:
    if not 1 <= len(book_ids) <= MAX_WATCHED_BOOKS:
        raise BadUserInput(f"Watch between 1 and {MAX_WATCHED_BOOKS} books.", argument="bookIds")
    context = info.context
    pks = {pk_of(book_id, "Book") for book_id in book_ids}
    threshold = context.settings.low_stock_threshold
    async for event in context.events.listen(channels=[context.events.stock_channel(pk) for pk in pks]):
        level = StockRow(event["book_id"], event["on_hand"], event["reserved"])
        yield StockChange(book_pk=level.book_id, stock=Stock.from_row(level, threshold))
