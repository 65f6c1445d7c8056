"""bookgraph as an Apollo Federation 2 subgraph: `_service { sdl }` and `_entities` for every key
type, resolved through the same loaders and row rules as the rest of the graph."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from support import error_codes

from auth.viewer import Role
from datasources.stores import Stores
from schema.relay import to_global_id

ENTITIES = """query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Book { id title authors { name } stock { available } }
    ... on Author { id name }
    ... on Customer { id name }
    ... on Order { id number }
  }
}"""


def ref(type_name: str, pk: int) -> dict[str, Any]:
    return {"__typename": type_name, "id": to_global_id(type_name, pk)}


async def ids(stores: Stores, table: str, limit: int) -> list[int]:
    engine = stores.orders if table in ("orders", "customers") else stores.inventory
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text(f"SELECT id FROM {table} ORDER BY id LIMIT {limit}"))
        return list(rows.scalars())


async def test_the_subgraph_publishes_its_sdl_with_keys(gql: Any) -> None:
    # To a router's credential (a role that may introspect), not to anonymous clients.
    sdl = (await gql("{ _service { sdl } }", as_="router", role=Role.PARTNER))["data"]["_service"]["sdl"]
    assert "federation/v2" in sdl
    for entity in ("Book", "Author", "Customer", "Order"):
        assert f'type {entity} implements Node @key(fields: "id")' in sdl


async def test_entities_of_every_key_type(gql: Any, stores: Stores) -> None:
    [book], [author] = await ids(stores, "books", 1), await ids(stores, "authors", 1)
    body = await gql(ENTITIES, {"representations": [ref("Book", book), ref("Author", author)]})
    entities = body["data"]["_entities"]
    assert [e["__typename"] for e in entities] == ["Book", "Author"]
    assert entities[0]["id"] == to_global_id("Book", book) and entities[0]["title"]
    assert entities[1]["name"]

    customer = (
        await gql(
            "{ viewer { id name orders(first: 1) { edges { node { id number } } } } }", as_="demo-customer-1"
        )
    )["data"]["viewer"]
    order = customer["orders"]["edges"][0]["node"]
    representations = [
        {"__typename": "Customer", "id": customer["id"]},
        {"__typename": "Order", "id": order["id"]},
    ]
    own = await gql(ENTITIES, {"representations": representations}, as_="demo-customer-1")
    assert own["data"]["_entities"] == [
        {"__typename": "Customer", "id": customer["id"], "name": customer["name"]},
        {"__typename": "Order", "id": order["id"], "number": order["number"]},
    ]
    # The router forwards the client's token: the same row rule as node(id:).
    foreign = await gql(ENTITIES, {"representations": representations}, as_="demo-customer-2")
    assert foreign["data"]["_entities"] == [None, None]
    assert error_codes(foreign) == ["NOT_FOUND", "NOT_FOUND"]
    admin = await gql(ENTITIES, {"representations": representations}, as_="ops", role=Role.ADMIN)
    assert [e["id"] for e in admin["data"]["_entities"]] == [customer["id"], order["id"]]


async def test_a_hundred_references_cost_one_statement_per_store_level(
    gql: Any, stores: Stores, count_statements: Any
) -> None:
    costs = []
    for size in (10, 100):
        representations = [ref("Book", pk) for pk in await ids(stores, "books", size)]
        await gql(ENTITIES, {"representations": representations})  # warm the document caches
        counter = count_statements()
        body = await gql(ENTITIES, {"representations": representations})
        costs.append(counter.delta())
        assert len(body["data"]["_entities"]) == size and all(e["title"] for e in body["data"]["_entities"])
    # books, their authors, their stock: three statements, however many references.
    assert costs[0] == costs[1] == {"inventory": 3, "orders": 0}
