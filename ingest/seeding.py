"""Demo data into the inventory and orders stores: the deterministic catalog, customers and history."""

from __future__ import annotations

from datetime import datetime

from catalog import demo
from datasources.inventory.bulk import write_books
from datasources.inventory.stock import StockLedger
from datasources.orders.bulk import open_order_lines, write_customers, write_orders
from datasources.stores import Stores
from observability.progress import Track, silent


async def seed_demo(
    stores: Stores,
    books: int,
    customers: int,
    orders: int,
    seed: int,
    track: Track = silent,
    *,
    now: datetime,
    habits: demo.Habits = demo.Habits.BROWSING,
) -> None:
    """The history ends at `now` (the clock's, when it is generated), so recent sales are recent."""
    catalog = demo.generate_catalog(books, seed=seed)
    people = demo.generate_customers(customers, seed=seed)
    written = await write_books(stores.inventory, catalog, track("books", len(catalog)))
    customer_ids = await write_customers(stores.orders, people, track("customers", len(people)))
    history = demo.generate_orders(catalog, people, orders, seed=seed, now=now, habits=habits)
    await write_orders(stores.orders, history, written, customer_ids, track("orders", orders))
    # Confirmed orders hold their copies, as if they had come through checkout.
    await StockLedger(stores.stock).hold_existing(await open_order_lines(stores.orders))
