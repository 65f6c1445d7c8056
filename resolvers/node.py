"""`node(id:)` and `nodes(ids:)`: any object by its global ID, under the same rules as typed fields."""

from __future__ import annotations

import strawberry

from context import Info
from errors import BadUserInput, NotFound
from schema.books import Author, Book
from schema.orders import Customer, Order
from schema.relay import Node, from_global_id

MAX_NODES = 100


async def node(info: Info, id: strawberry.ID) -> Node | None:
    type_name, pk = from_global_id(id)
    inventory, orders = info.context.inventory, info.context.orders
    found: Node | None = None
    if type_name == "Book":
        book = await inventory.books_by_id.load(pk)
        found = Book.from_row(book) if book else None
    elif type_name == "Author":
        author = await inventory.authors_by_id.load(pk)
        found = Author.from_row(author) if author else None
    elif type_name == "Order":
        found = Order.from_row(await orders.visible_order(pk))
    elif type_name == "Customer":
        found = Customer.from_row(await orders.visible_customer(pk))
    if found is None:
        raise NotFound(f"No object has the ID {id!r}.")
    return found


def check_ids(ids: list[strawberry.ID]) -> None:
    if len(ids) > MAX_NODES:
        raise BadUserInput(f"Ask for at most {MAX_NODES} IDs at once.", argument="ids")


def nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    """Each ID resolves on its own: one that fails is null with its own error, the rest are served.

    The items are awaitables, which graphql-core completes concurrently (so the loaders batch)
    and whose errors it reports at the item's path.
    """
    check_ids(ids)
    return [node(info, i) for i in ids]  # type: ignore[misc]
