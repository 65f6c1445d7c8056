"""The orders store's values, free of any driver: what the checkout, the schema and the store
itself speak of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class OrderStatus(StrEnum):
    """An order's life: PENDING until stock is reserved, then CONFIRMED (or REJECTED); SHIPPED and
    DELIVERED after; CANCELLED by its customer or an admin while not yet shipped."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"


STORE = "orders"


@dataclass(frozen=True, slots=True)
class CustomerRow:
    id: int
    subject: str
    name: str
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: int
    number: str
    customer_id: int
    status: OrderStatus
    placed_at: datetime
    total_cents: int
    currency: str


@dataclass(frozen=True, slots=True)
class OrderLineRow:
    id: int
    order_id: int
    book_id: int
    quantity: int
    unit_price_cents: int


@dataclass(frozen=True, slots=True)
class OrderEventRow:
    id: int
    order_id: int
    from_status: OrderStatus | None
    to_status: OrderStatus
    occurred_at: datetime
    note: str | None
