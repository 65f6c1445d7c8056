"""The search index follows the stock and the catalog without a re-index: selling out, cancelling,
a compensated checkout, shipping, restocking and imports reach `searchBooks` filters, on both
backends; a change made while the search store is down is applied when it returns; applying a
change twice, or an older one late, changes nothing."""

from __future__ import annotations

import asyncio
import csv
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from support import ROOT, GraphQLClient, Shop, app_with, http_to, process_environment

from auth.viewer import Role
from checkout.faults import Faults
from checkout.saga import LineRequest, checkout_for
from cli import worker
from config import Settings
from datasources.filters import BookFilter
from datasources.inventory.bulk import BookDocument, book_documents
from datasources.inventory.source import InventorySource
from datasources.inventory.stock import StockLedger
from datasources.search.edge import EdgeIndex
from datasources.search.index import VectorIndex
from datasources.search.server import ClientIndex
from datasources.stores import Stores
from embeddings.model import Embedder
from errors import SourceUnavailable
from ingest.indexing import IndexFollower, build_index, content_hash, point
from schema.relay import pk_of, to_global_id

# Shop books no other test moves.
BOOKS = range(50, 58)

SEARCH = """query ($query: String!, $filter: BookFilter) {
  searchBooks(query: $query, first: 100, filter: $filter) { edges { node { id } } } }"""
BOOKS_QUERY = """query ($filter: BookFilter) {
  books(first: 100, filter: $filter) { edges { node { id stock { available status } } } } }"""
PLACE = """mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) { order { id status } userErrors { code } } }"""
CANCEL = "mutation ($id: ID!) { cancelOrder(id: $id) { order { status } userErrors { code } } }"
SET_STATUS = """mutation ($id: ID!, $status: OrderStatus!) {
  setOrderStatus(id: $id, status: $status) { order { status } userErrors { code } } }"""
RESTOCK = """mutation ($book: ID!, $quantity: Int!) {
  restock(bookId: $book, quantity: $quantity) { stock { available } userErrors { code } } }"""
IN_STOCK = {"inStock": True}


async def eventually(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 15.0) -> None:
    """Poll `check` until it holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


async def versions(stores: Stores, book: int) -> tuple[int, int]:
    """(search version, version the index has recorded)."""
    async with stores.inventory.connect() as conn:
        row = (
            await conn.execute(
                sa.text("SELECT search_version, search_applied FROM stock_levels WHERE book_id = :b"),
                {"b": book},
            )
        ).one()
        return row.search_version, row.search_applied


@dataclass
class Storefront:
    """An app of its own on the shop's databases, over a search index of its own."""

    shop: Shop
    stores: Stores
    http: httpx.AsyncClient
    follower: IndexFollower

    @property
    def index(self) -> VectorIndex:
        return self.stores.index

    async def gql(
        self, query: str, variables: dict[str, Any], subject: str | None = None, role: Role = Role.CUSTOMER
    ) -> dict[str, Any]:
        body = await GraphQLClient(self.http, self.shop.settings)(query, variables, as_=subject, role=role)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def searched(self, filter: dict[str, Any], query: str = "a book") -> set[int]:
        data = await self.gql(SEARCH, {"query": query, "filter": filter})
        return {pk_of(e["node"]["id"], "Book") for e in data["searchBooks"]["edges"]}

    async def listed(self, filter: dict[str, Any]) -> set[int]:
        data = await self.gql(BOOKS_QUERY, {"filter": filter})
        return {pk_of(e["node"]["id"], "Book") for e in data["books"]["edges"]}

    async def in_stock_search_has(self, book: int) -> bool:
        return book in await self.searched(IN_STOCK)

    async def assert_search_agrees_with_books(self) -> None:
        """searchBooks and books answer the same for every book this index holds."""
        indexed = set(await self.index.content_hashes())
        for filter in ({"inStock": True}, {"inStock": False}):
            assert await self.searched(filter) == await self.listed(filter) & indexed, filter

    async def place(self, book: int, quantity: int, subject: str = "follower") -> str:
        lines = [{"bookId": to_global_id("Book", book), "quantity": quantity}]
        data = await self.gql(PLACE, {"input": {"idempotencyKey": uuid.uuid4().hex, "lines": lines}}, subject)
        order = data["placeOrder"]["order"]
        assert order["status"] == "CONFIRMED", data
        order_id: str = order["id"]
        return order_id

    async def start_at(self, book: int, available: int) -> None:
        """The book's stock set outside checkout (no search version), and its point with it."""
        await self.shop.set_available(book, available)
        await self.follower.apply([book])
        assert await self.in_stock_search_has(book) is (available > 0)


def _index(kind: str, path: Path) -> VectorIndex:
    return EdgeIndex(path / "qdrant") if kind == "edge" else ClientIndex(":memory:")


@asynccontextmanager
async def storefront(
    shop: Shop, index: VectorIndex, embedder: Embedder, **settings: Any
) -> AsyncIterator[Storefront]:
    """The shop's books indexed into `index`, and an app serving them."""
    stores = replace(shop.stores, index=index)
    await build_index(stores.inventory, index, embedder, book_ids=[shop.book_ids[i] for i in BOOKS])
    async with app_with(shop.settings, stores, **settings) as application, http_to(application) as http:
        yield Storefront(shop, stores, http, IndexFollower.of(stores))


@pytest.fixture(params=["edge", "client"])
async def front(
    request: pytest.FixtureRequest, shop: Shop, embedder: Embedder, tmp_path: Path
) -> AsyncIterator[Storefront]:
    index = _index(request.param, tmp_path)
    try:
        async with storefront(shop, index, embedder) as opened:
            yield opened
    finally:
        await index.close()


async def test_selling_out_leaves_in_stock_search_and_cancelling_brings_it_back(front: Storefront) -> None:
    book = front.shop.book_ids[BOOKS[0]]
    await front.start_at(book, 2)
    await front.assert_search_agrees_with_books()

    order = await front.place(book, 2)

    await eventually(lambda: _not(front.in_stock_search_has(book)), "the sold-out book leaves the search")
    assert book in await front.searched({"inStock": False})
    listed = (await front.gql(BOOKS_QUERY, {"filter": {"inStock": False}}))["books"]["edges"]
    [node] = [e["node"] for e in listed if pk_of(e["node"]["id"], "Book") == book]
    assert node["stock"] == {"available": 0, "status": "OUT_OF_STOCK"}
    await front.assert_search_agrees_with_books()

    cancelled = await front.gql(CANCEL, {"id": order}, "follower")
    assert cancelled["cancelOrder"]["order"]["status"] == "CANCELLED"
    await eventually(lambda: front.in_stock_search_has(book), "the released book is back in the search")
    await front.assert_search_agrees_with_books()


async def test_shipping_keeps_it_out_and_restocking_brings_it_back(front: Storefront) -> None:
    book = front.shop.book_ids[BOOKS[1]]
    await front.start_at(book, 1)
    order = await front.place(book, 1)
    await eventually(lambda: _not(front.in_stock_search_has(book)), "the sold-out book leaves the search")
    sold_out = await versions(front.stores, book)

    shipped = await front.gql(SET_STATUS, {"id": order, "status": "SHIPPED"}, "ops", Role.ADMIN)
    assert shipped["setOrderStatus"]["order"]["status"] == "SHIPPED"
    # The copies left the shelf and the reservation alike: availability, and so the index, as it was.
    assert await versions(front.stores, book) == sold_out
    assert not await front.in_stock_search_has(book)

    restocked = await front.gql(
        RESTOCK, {"book": to_global_id("Book", book), "quantity": 3}, "ops", Role.ADMIN
    )
    assert restocked["restock"]["stock"]["available"] == 3
    await eventually(lambda: front.in_stock_search_has(book), "the restocked book is back in the search")
    await front.assert_search_agrees_with_books()


async def test_a_compensated_checkout_moves_the_index_both_ways(front: Storefront) -> None:
    book = front.shop.book_ids[BOOKS[2]]
    await front.start_at(book, 2)
    before, _ = await versions(front.stores, book)
    checkout = checkout_for(front.shop.settings, front.stores)
    checkout.faults = Faults({"before_confirm": SourceUnavailable("orders")})
    await front.gql("{ viewer { id } }", {}, "follower-compensated")
    async with front.stores.orders.connect() as conn:
        customer = (
            await conn.execute(sa.text("SELECT id FROM customers WHERE subject = 'follower-compensated'"))
        ).scalar_one()
    catalog = InventorySource(front.stores.inventory)

    result = await checkout.place(customer, uuid.uuid4().hex, [LineRequest(book, 2)], catalog)

    assert [p.code.value for p in result.problems] == ["CHECKOUT_FAILED"]
    # Held (out of stock) and released (in stock again): two crossings, both in the index.
    assert await versions(front.stores, book) == (before + 2, before + 2)
    assert await front.in_stock_search_has(book)
    await front.assert_search_agrees_with_books()


async def test_following_twice_or_late_changes_nothing(front: Storefront) -> None:
    book = front.shop.book_ids[BOOKS[3]]
    await front.start_at(book, 1)
    in_stock_version, _ = await versions(front.stores, book)
    [stale] = [doc async for docs in _documents(front.stores, book) for doc in docs]
    await front.place(book, 1)
    await eventually(lambda: _not(front.in_stock_search_has(book)), "the sold-out book leaves the search")
    current, applied = await versions(front.stores, book)
    assert current == applied == in_stock_version + 1

    again = await front.follower.apply([book])
    assert (again.unchanged, again.written) == (1, 0)
    assert (await front.follower.catch_up()).written == 0

    # An applier that read the book while it was in stock and writes only now loses, inside Qdrant.
    await front.index.set_payloads([point(stale, (), content_hash(stale))])
    await front.index.upsert([point(stale, (await front.index.vectors([book]))[book], content_hash(stale))])
    assert not await front.in_stock_search_has(book)
    # And its late record cannot lower what the inventory knows the index shows.
    await StockLedger(front.stores.stock).mark_indexed({book: in_stock_version})
    assert await versions(front.stores, book) == (current, current)


def _documents(stores: Stores, book: int) -> AsyncIterator[list[BookDocument]]:
    return book_documents(stores.inventory, book_ids=[book])


async def _recorded(stores: Stores, book: int, version: int) -> bool:
    return await versions(stores, book) == (version, version)


async def _not(check: Awaitable[bool]) -> bool:
    return not await check


async def test_a_change_made_while_search_is_down_is_applied_when_it_returns(
    shop: Shop, embedder: Embedder, tmp_path: Path
) -> None:
    book = shop.book_ids[BOOKS[4]]
    await shop.set_available(book, 1)
    # Another owner holds the shard (as `bookgraph index` or a second server would): the app's own
    # index cannot open it and every call fails, for real.
    holder = EdgeIndex(tmp_path / "qdrant")
    await build_index(shop.stores.inventory, holder, embedder, book_ids=[book])
    index = EdgeIndex(tmp_path / "qdrant")
    stores = replace(shop.stores, index=index)
    try:
        async with (
            app_with(shop.settings, stores, index_follow_interval_seconds=0.1) as application,
            http_to(application) as http,
        ):
            front = Storefront(shop, stores, http, IndexFollower.of(stores))
            down = await GraphQLClient(http, shop.settings)(SEARCH, {"query": "a book"}, as_=None)
            assert down["data"] == {"searchBooks": None}
            assert {e["extensions"]["code"] for e in down["errors"]} == {"SOURCE_UNAVAILABLE"}

            await front.place(book, 1)  # checkout does not depend on search

            version, applied = await versions(stores, book)
            assert version == applied + 1  # marked in the inventory, not yet in the index
            hits = await holder.search(
                await embedder.embed_query("a book"), limit=10, filter=BookFilter(in_stock=True)
            )
            assert book in [h.book_id for h in hits]  # the index still says in stock

            await holder.close()  # the store is back

            await eventually(
                lambda: _not(front.in_stock_search_has(book)), "the pending change reaches the index"
            )
            # Recorded once written, so the next pass does not write it again.
            await eventually(lambda: _recorded(stores, book, version), "the index records the version")
            await front.assert_search_agrees_with_books()
    finally:
        await holder.close()
        await index.close()


async def test_an_import_while_serving_reaches_price_filters(
    shop: Shop, embedder: Embedder, tmp_path: Path
) -> None:
    book = shop.book_ids[BOOKS[5]]
    index = EdgeIndex(tmp_path / "qdrant")
    try:
        async with storefront(shop, index, embedder, index_follow_interval_seconds=0.1) as front:
            record = await _catalog_row(shop.stores, book)
            old = Decimal(record["price"])
            new = old + Decimal("12.34")
            price = {"min": str(new), "max": str(new)}
            assert book not in await front.searched({"priceRange": price}, record["title"])

            source = tmp_path / "catalog.csv"
            with source.open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(record))
                writer.writeheader()
                writer.writerow({**record, "price": str(new)})
            # `bookgraph import` in a process of its own, while this one serves from the shard.
            done = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cli",
                "import",
                str(source),
                cwd=ROOT,
                env=process_environment(shop.settings, tmp_path),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(done.communicate(), timeout=120)
            said = err.decode()
            assert done.returncode == 0, said
            assert "the index follows the imported books" in " ".join(said.split())

            await eventually(
                lambda: _has(front.searched({"priceRange": price}, record["title"]), book),
                "the new price reaches the search",
            )
            was = {"min": str(old), "max": str(old)}
            assert book not in await front.searched({"priceRange": was}, record["title"])
            assert book in await front.listed({"priceRange": price})
    finally:
        await index.close()


async def _has(found: Awaitable[set[int]], book: int) -> bool:
    return book in await found


async def _catalog_row(stores: Stores, book: int) -> dict[str, str]:
    """The book as a catalog file would carry it, stock included, so only the price changes."""
    async with stores.inventory.connect() as conn:
        row = (
            await conn.execute(
                sa.text(
                    "SELECT b.isbn, b.title, b.description, b.published_year, b.price_cents, s.on_hand "
                    "FROM books b JOIN stock_levels s ON s.book_id = b.id WHERE b.id = :b"
                ),
                {"b": book},
            )
        ).one()
        authors = (
            await conn.execute(
                sa.text(
                    "SELECT a.name FROM book_authors ba JOIN authors a ON a.id = ba.author_id "
                    "WHERE ba.book_id = :b ORDER BY ba.position"
                ),
                {"b": book},
            )
        ).scalars()
        genres = (
            await conn.execute(
                sa.text("SELECT genre FROM book_genres WHERE book_id = :b ORDER BY genre"), {"b": book}
            )
        ).scalars()
        return {
            "isbn": row.isbn,
            "title": row.title,
            "authors": ";".join(authors),
            "description": row.description,
            "genres": ";".join(genres),
            "published_year": str(row.published_year),
            "price": str(Decimal(row.price_cents) / 100),
            "stock": str(row.on_hand),
        }


async def test_the_worker_follows_over_a_qdrant_server(shop: Shop, embedder: Embedder) -> None:
    book = shop.book_ids[BOOKS[6]]
    index = ClientIndex(":memory:")
    stores = replace(shop.stores, index=index)
    try:
        await shop.set_available(book, 0)
        await build_index(stores.inventory, index, embedder, book_ids=[book])
        query = await embedder.embed_query("a book")

        async def in_stock() -> bool:
            hits = await index.search(query, limit=10, filter=BookFilter(in_stock=True))
            return book in [h.book_id for h in hits]

        assert not await in_stock()
        # A process that committed the restock and died before writing the index.
        await StockLedger(stores.stock).restock(book, 2)
        assert not await in_stock()

        settings: Settings = shop.settings.model_copy(update={"qdrant_url": ":memory:"})
        await worker.run(settings, stores, once=True)

        assert await in_stock()
        version, applied = await versions(stores, book)
        assert version == applied
    finally:
        await index.close()
