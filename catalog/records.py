"""Plain records that flow from a catalog source (demo generator, CSV, JSON Lines) into the stores."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class BookRecord:
    isbn: str  # normalised ISBN-13, digits only
    title: str
    authors: tuple[str, ...]
    description: str
    genres: tuple[str, ...]
    published_year: int
    price: Decimal  # two decimal places, in the store currency
    stock: int  # copies on hand

    @property
    def price_cents(self) -> int:
        return int(self.price * 100)


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    subject: str  # the JWT `sub` that identifies the customer, e.g. "demo-customer-1"
    name: str
    email: str
    favourite_genres: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OrderLineRecord:
    isbn: str
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderRecord:
    number: str
    customer_subject: str
    placed_at: datetime  # timezone-aware, UTC
    status: str  # PENDING, CONFIRMED, SHIPPED, DELIVERED, CANCELLED or REJECTED
    lines: tuple[OrderLineRecord, ...]
