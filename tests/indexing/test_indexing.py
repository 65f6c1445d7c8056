"""`bookgraph index` is incremental: it embeds what changed, rewrites payloads that changed,
removes deleted books, and a rerun after an interruption does only the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from catalog.records import BookRecord
from datasources.filters import BookFilter
from datasources.inventory.bulk import write_books
from datasources.inventory.tables import books
from datasources.migrate import upgrade
from datasources.search.edge import EdgeIndex
from embeddings.model import Embedder, Model
from ingest.indexing import IndexFollower, IndexReport, build_index

CATALOG = [
    BookRecord(
        "9780306406157",
        "The Orchard Murders",
        ("Ada Quill",),
        "A detective investigates a poisoning in a quiet village.",
        ("Mystery",),
        2001,
        Decimal("9.99"),
        3,
    ),
    BookRecord(
        "9781861972712",
        "Salt and Smoke",
        ("Ben Hearth",),
        "Recipes for grilling fish and roasting vegetables over fire.",
        ("Cooking",),
        2015,
        Decimal("29.00"),
        0,
    ),
    BookRecord(
        "9780131103627",
        "Beyond Kepler",
        ("Cy Nova",),
        "A crew answers a distress signal from an alien world.",
        ("Science Fiction",),
        2020,
        Decimal("14.50"),
        8,
    ),
]


@pytest.fixture
async def inventory(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'inventory.db'}")
    await upgrade(engine, "inventory")
    await write_books(engine, CATALOG)
    yield engine
    await engine.dispose()


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[EdgeIndex]:
    edge = EdgeIndex(tmp_path / "qdrant")
    yield edge
    await edge.close()


async def test_only_changes_are_reembedded(
    inventory: AsyncEngine, index: EdgeIndex, embedder: Embedder
) -> None:
    first = await build_index(inventory, index, embedder)
    assert (first.embedded, first.unchanged) == (3, 0)
    assert await index.count() == 3

    again = await build_index(inventory, index, embedder)
    assert (again.embedded, again.payload_updated, again.unchanged) == (0, 0, 3)

    # A new price and stock change only the payload; a new description changes the vector.
    await write_books(
        inventory,
        [
            replace(CATALOG[1], price=Decimal("31.00"), stock=5),
            replace(CATALOG[2], description="A quiet garden memoir."),
        ],
    )
    changed = await build_index(inventory, index, embedder)
    assert (changed.embedded, changed.payload_updated, changed.unchanged) == (1, 1, 1)
    query = await embedder.embed_query("grilling fish over fire")
    [hit] = await index.search(query, limit=1, filter=BookFilter(in_stock=True, min_price_cents=3100))
    async with inventory.connect() as conn:
        salt = (await conn.execute(sa.select(books.c.id).where(books.c.isbn == CATALOG[1].isbn))).scalar_one()
    assert hit.book_id == salt

    async with inventory.begin() as conn:
        await conn.execute(sa.delete(books).where(books.c.id == salt))
    removed = await build_index(inventory, index, embedder)
    assert removed.deleted == 1 and await index.count() == 2


async def test_an_interrupted_run_resumes(
    inventory: AsyncEngine, index: EdgeIndex, embedder: Embedder
) -> None:
    class Interrupted(Exception):
        pass

    def stop_after_first_group(done: int) -> None:
        if done:  # (reading the catalog reports the books that needed no embedding: none here)
            raise Interrupted

    with pytest.raises(Interrupted):
        await build_index(inventory, index, embedder, stop_after_first_group, batch_size=2, group=2)
    assert await index.count() == 2  # the group written was kept
    resumed = await build_index(inventory, index, embedder, batch_size=2)
    assert (resumed.embedded, resumed.unchanged) == (1, 2)


async def test_texts_are_encoded_by_length_across_the_run_in_groups(
    inventory: AsyncEngine, index: EdgeIndex, embedder: Embedder
) -> None:
    more = [
        replace(
            CATALOG[i % 3],
            isbn=f"97800000000{i:02d}",
            title=f"Volume {i}",
            description="word " * (i * 7 % 11),
        )
        for i in range(9)
    ]
    await write_books(inventory, more)
    calls: list[list[str]] = []

    class Recording:
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            calls.append(list(texts))
            return embedder.embed_documents(texts)

    async def recording() -> Embedder:
        return Recording()  # type: ignore[return-value]

    # Read two books at a time, encoded four at a time: sorted over all twelve, not per read.
    report = await build_index(inventory, index, recording, batch_size=2, group=4)
    assert report.embedded == 12 and await index.count() == 12
    assert [len(call) for call in calls] == [4, 4, 4]
    lengths = [len(text) for call in calls for text in call]
    assert lengths == sorted(lengths)


async def test_the_follower_rewrites_payloads_and_embeds_only_changed_text(
    inventory: AsyncEngine, index: EdgeIndex, embedder: Embedder
) -> None:
    await build_index(inventory, index, embedder)
    follower = IndexFollower(inventory, inventory, index, Model.of(embedder).get)
    assert (await follower.catch_up()).written == 0  # the build recorded every version it wrote

    # An import that changes a price: the payload is rewritten, nothing is embedded.
    await write_books(inventory, [replace(CATALOG[0], price=Decimal("11.00"))])
    price = await follower.catch_up()
    assert (price.payload_updated, price.embedded, price.unchanged) == (1, 0, 0)
    query = await embedder.embed_query("a poisoning in a village")
    [hit] = await index.search(query, limit=1, filter=BookFilter(min_price_cents=1100, max_price_cents=1100))
    assert hit.book_id == await _book_id(inventory, CATALOG[0].isbn)

    # A new title changes the embedded text: the pass after a commit leaves it to one that may embed.
    await write_books(inventory, [replace(CATALOG[2], title="Beyond Kepler: The Signal")])
    deferred = await follower.catch_up(embed=False)
    assert (deferred.deferred, deferred.written) == (1, 0)
    embedded = await follower.catch_up()
    assert (embedded.embedded, embedded.payload_updated) == (1, 0)
    assert await follower.catch_up() == IndexReport()  # nothing left
    [hit] = await index.search(query, limit=1, filter=BookFilter(title_contains="the signal"))
    assert hit.book_id == await _book_id(inventory, CATALOG[2].isbn)


async def _book_id(inventory: AsyncEngine, isbn: str) -> int:
    async with inventory.connect() as conn:
        book_id: int = (await conn.execute(sa.select(books.c.id).where(books.c.isbn == isbn))).scalar_one()
        return book_id
