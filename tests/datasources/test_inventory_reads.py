"""Lookups by key on a SQLite inventory run in the event loop's thread, not aiosqlite's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from datasources.filters import EVERY_BOOK
from datasources.inventory.rows import BookSort
from datasources.inventory.source import InventorySource
from datasources.stores import Stores


async def test_lookups_by_key_on_sqlite_do_not_hand_off_to_the_drivers_thread(stores: Stores) -> None:
    through_driver: list[str] = []  # statements the async engine (aiosqlite, or asyncpg) ran

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_driver.append(statement)

    event.listen(stores.inventory.sync_engine, "before_cursor_execute", count)
    try:
        source = InventorySource(stores.inventory)
        page = await source.list_books(EVERY_BOOK, BookSort.TITLE, False, 3, None)
        ids = [book.id for book in page.items]
        paged = len(through_driver)
        source = InventorySource(stores.inventory)  # (the page has primed its own books_by_id)
        books = await source.books_by_id.load_many(ids)
        stock = await source.stock_by_book_id.load_many(ids)
        authors = await source.authors_by_book_id.load_many(ids)
    finally:
        event.remove(stores.inventory.sync_engine, "before_cursor_execute", count)
    assert [book.id for book in books if book is not None] == ids
    assert [row.book_id for row in stock] == ids
    assert all(authors)
    assert paged == 1  # a page, which may scan, runs on the driver's thread
    sqlite = stores.inventory.url.drivername.startswith("sqlite")
    # The three lookups: in this thread on SQLite; through the driver on PostgreSQL.
    assert len(through_driver) == (1 if sqlite else 4)
