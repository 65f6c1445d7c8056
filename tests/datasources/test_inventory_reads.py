"""Reads bounded by an index on a SQLite inventory (lookups by key, a page walked in its order) run
in the event loop's thread; a page that may scan the catalog runs on aiosqlite's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from datasources.filters import EVERY_BOOK, BookFilter
from datasources.inventory.rows import BookSort
from datasources.inventory.source import InventorySource
from datasources.stores import Stores


async def test_reads_bounded_by_an_index_do_not_hand_off_to_the_drivers_thread(stores: Stores) -> None:
    through_driver: list[str] = []  # statements the async engine (aiosqlite, or asyncpg) ran

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_driver.append(statement)

    event.listen(stores.inventory.sync_engine, "before_cursor_execute", count)
    try:
        source = InventorySource(stores.inventory)
        page = await source.list_books(EVERY_BOOK, BookSort.TITLE, False, 3, None)
        genre = await source.list_genres()  # (through the driver: not a read this test is about)
        in_genre = BookFilter(genres=(genre[0][0],), in_stock=True)
        walked = await source.list_books(in_genre, BookSort.PRICE, True, 3, None)
        before_scan = len(through_driver)
        scanned = await source.list_books(BookFilter(title_contains="the"), BookSort.TITLE, False, 3, None)
        after_scan = len(through_driver)
        ids = [book.id for book in page.items]
        source = InventorySource(stores.inventory)  # (the pages have primed their own books_by_id)
        books = await source.books_by_id.load_many(ids)
        stock = await source.stock_by_book_id.load_many(ids)
        authors = await source.authors_by_book_id.load_many(ids)
    finally:
        event.remove(stores.inventory.sync_engine, "before_cursor_execute", count)
    assert walked.items and scanned.items
    assert [book.id for book in books if book is not None] == ids
    assert [row.book_id for row in stock] == ids
    assert all(authors)
    assert after_scan - before_scan == 1  # a page that may scan: on the driver's thread everywhere
    sqlite = stores.inventory.url.drivername.startswith("sqlite")
    # Two walked pages and three lookups: in this thread on SQLite, through the driver on PostgreSQL.
    assert len(through_driver) == (2 if sqlite else 7)
