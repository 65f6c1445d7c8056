"""The viewer and order queries."""

from __future__ import annotations

import strawberry

from context import Info
from schema.orders import Customer, Order
from schema.relay import pk_of


async def viewer(info: Info) -> Customer | None:
    row = await info.context.orders.viewer_customer()
    return Customer.from_row(row) if row is not None else None


async def order(info: Info, id: strawberry.ID) -> Order | None:
    return Order.from_row(await info.context.orders.visible_order(pk_of(id, "Order")))
