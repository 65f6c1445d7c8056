"""Money: an exact decimal amount with its currency."""

from __future__ import annotations

from decimal import Decimal

import strawberry

_CENT = Decimal("0.01")


@strawberry.type(description="An exact amount of money.")
class Money:
    amount: Decimal = strawberry.field(description='Decimal amount, e.g. "12.99".')
    currency: str = strawberry.field(description='ISO 4217 code, e.g. "USD".')

    @classmethod
    def of(cls, cents: int, currency: str) -> Money:
        return cls(amount=(Decimal(cents) * _CENT).quantize(_CENT), currency=currency)


def to_cents(amount: Decimal) -> int:
    return int((amount / _CENT).to_integral_value())
