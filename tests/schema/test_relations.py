"""Relations are declared once, as data: the field, the prefetch and the cost all come from it."""

from __future__ import annotations

from typing import Any

from graphql import get_named_type
from sqlalchemy.ext.asyncio import create_async_engine

from auth.viewer import ANONYMOUS
from datasources.inventory.source import InventorySource
from datasources.orders.source import OrdersSource
from schema.books import Author, Book, Stock
from schema.orders import Customer, Order, OrderEvent, OrderLine
from schema.relations import Prefetched, field_costs, relations_of
from schema.root import schema

SCHEMA = schema._schema


def test_each_type_declares_its_relations_once() -> None:
    assert [name for name, _ in relations_of(Book)] == ["authors", "genres", "stock"]
    assert [name for name, _ in relations_of(Order)] == ["lines", "customer", "events"]
    assert [name for name, _ in relations_of(OrderLine)] == ["book"]


async def test_every_relation_names_a_loader_its_store_has_and_a_key_its_owner_has() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    stores: dict[str, Any] = {
        "inventory": InventorySource(engine),
        "orders": OrdersSource(engine, ANONYMOUS),
    }
    owners = {Book: Book.__dataclass_fields__, Order: Order.__dataclass_fields__}
    owners[OrderLine] = OrderLine.__dataclass_fields__
    for owner, fields in owners.items():
        assert issubclass(owner, Prefetched)
        for name, declared in relations_of(owner):
            assert hasattr(stores[declared.store], declared.loader), (owner, name)
            assert declared.key in fields, (owner, name)
            # The field's GraphQL type says one or many, as the declaration does.
            field = SCHEMA.get_type(owner.__name__).fields[name]  # type: ignore[union-attr]
            assert ("[" in str(field.type)) is declared.many, (owner, name)


def test_each_relation_field_returns_the_type_its_values_are() -> None:
    returned = {
        (owner.__name__, name): str(get_named_type(SCHEMA.get_type(owner.__name__).fields[name].type))  # type: ignore[union-attr]
        for owner in (Book, Order, OrderLine)
        for name, _ in relations_of(owner)
    }
    assert returned == {
        ("Book", "authors"): Author.__name__,
        ("Book", "genres"): "String",
        ("Book", "stock"): Stock.__name__,
        ("Order", "lines"): OrderLine.__name__,
        ("Order", "customer"): Customer.__name__,
        ("Order", "events"): OrderEvent.__name__,
        ("OrderLine", "book"): Book.__name__,
    }


def test_expensive_fields_declare_their_cost_on_the_field() -> None:
    assert field_costs(SCHEMA) == {
        "Query.searchBooks": 10,
        "Query.trendingBooks": 2,
        "Book.similarBooks": 5,
        "Book.alsoBought": 5,
        "Customer.recommendations": 5,
    }
