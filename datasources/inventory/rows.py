"""The inventory store's values, free of any driver: what the schema, the checkout and the
recommender speak of."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

STORE = "inventory"


@dataclass(frozen=True, slots=True)
class BookRow:
    id: int
    isbn: str
    title: str
    description: str
    published_year: int
    price_cents: int
    currency: str


@dataclass(frozen=True, slots=True)
class AuthorRow:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class StockRow:
    book_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


class BookSort(StrEnum):
    TITLE = "TITLE"
    PRICE = "PRICE"
    PUBLISHED_YEAR = "PUBLISHED_YEAR"
