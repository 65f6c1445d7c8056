"""Both search backends behave alike: nearest first, filters applied inside Qdrant, writes that
stick, and failures reported as the search store being unavailable."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from datasources.filters import BookFilter
from datasources.search import index as search
from datasources.search import open_index
from datasources.search.edge import EdgeIndex
from datasources.search.index import VECTOR_SIZE, BookPoint, VectorIndex
from datasources.search.server import ClientIndex
from errors import SourceUnavailable

NEAR = range(1, 21)  # close to the query axis, in order of id
FAR = range(21, 31)  # far from it, and the only books every filter below matches


def axis_vector(main: int, lean: float, toward: int) -> list[float]:
    """Unit vector along `main`, leaning by `lean` toward `toward`: its cosine to `main` falls as lean grows."""
    vector = [0.0] * VECTOR_SIZE
    vector[main] = 1.0
    vector[toward] += lean
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


QUERY = axis_vector(0, 0.0, 1)
FAR_QUERY = axis_vector(1, 0.0, 0)


def book(book_id: int) -> BookPoint:
    if book_id in NEAR:
        # Titles and values that sit just outside every filter's bounds.
        return BookPoint(
            book_id=book_id,
            vector=axis_vector(0, book_id * 0.01, 2),
            genres=("fantasy",) if book_id % 2 else ("history", "fantasy"),
            author_ids=(100 + book_id % 3,),
            title="Far Away" if book_id == 3 else f"Near Book {book_id}",
            price_cents={1: 499, 2: 591}.get(book_id, 1_000 + book_id),
            published_year={1: 2000, 2: 2011}.get(book_id, 1980 + book_id),
            in_stock=True,
            content_hash=f"hash-{book_id}",
        )
    k = book_id - 21
    return BookPoint(
        book_id=book_id,
        vector=axis_vector(1, (k + 1) * 0.01, 0),
        genres=(("poetry",), ("drama", "poetry"), ("drama",))[k % 3],
        author_ids=(7,) if k % 2 else (8, 100),
        title=f"The FAR Shore {book_id}",
        price_cents=500 + k * 10,  # 500 … 590
        published_year=2001 + k,  # 2001 … 2010
        in_stock=False,
        content_hash=f"hash-{book_id}",
    )


CATALOG = [book(i) for i in (*NEAR, *FAR)]


def ids(hits: Sequence[search.Hit]) -> list[int]:
    return [h.book_id for h in hits]


def statements() -> float:
    return REGISTRY.get_sample_value("bookgraph_store_statements_total", {"store": "search"}) or 0.0


@pytest.fixture(params=["edge", "client"])
async def empty_index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VectorIndex]:
    index: VectorIndex = (
        EdgeIndex(tmp_path / "qdrant") if request.param == "edge" else ClientIndex(":memory:")
    )
    yield index
    await index.close()


@pytest.fixture
async def index(empty_index: VectorIndex) -> VectorIndex:
    await empty_index.ensure_collection()
    await empty_index.upsert(CATALOG)
    return empty_index


async def test_ensure_collection_is_idempotent(empty_index: VectorIndex) -> None:
    await empty_index.ensure_collection()
    await empty_index.upsert(CATALOG[:3])
    before = statements()
    await empty_index.ensure_collection()
    assert statements() - before <= 2  # looked, found everything in place, wrote nothing
    assert await empty_index.count() == 3
    await empty_index.ping()


async def test_a_missing_collection_is_unavailable(empty_index: VectorIndex) -> None:
    with pytest.raises(SourceUnavailable) as raised:
        await empty_index.ping()
    assert raised.value.store == "search"
    with pytest.raises(SourceUnavailable):
        await empty_index.search(QUERY, limit=3)


async def test_nearest_first_with_cosine_scores(index: VectorIndex) -> None:
    hits = await index.search(QUERY, limit=5)
    assert ids(hits) == [1, 2, 3, 4, 5]
    assert hits[0].score == pytest.approx(1 / math.sqrt(1 + 0.01**2), abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert ids(await index.search(FAR_QUERY, limit=3)) == [21, 22, 23]


async def test_offset_gives_the_next_page(index: VectorIndex) -> None:
    first = await index.search(QUERY, limit=5)
    second = await index.search(QUERY, limit=5, offset=5)
    assert ids(second) == [6, 7, 8, 9, 10]
    assert not set(ids(first)) & set(ids(second))


FAR_ONLY = {
    "genres any of": BookFilter(genres=("poetry", "drama")),
    "authors any of": BookFilter(author_ids=(7, 8)),
    "price bounds inclusive": BookFilter(min_price_cents=500, max_price_cents=590),
    "out of stock": BookFilter(in_stock=False),
    "years inclusive": BookFilter(min_year=2001, max_year=2010),
    "title substring, any case": BookFilter(title_contains="far sHo"),
    "all at once": BookFilter(
        genres=("poetry", "drama"),
        author_ids=(7, 8),
        min_price_cents=500,
        max_price_cents=590,
        in_stock=False,
        min_year=2001,
        max_year=2010,
        title_contains="FAR SHORE",
    ),
}


@pytest.mark.parametrize("conditions", FAR_ONLY.values(), ids=FAR_ONLY.keys())
async def test_filters_apply_inside_qdrant(index: VectorIndex, conditions: BookFilter) -> None:
    # The ten matches are the ten books farthest from the query: a filter applied after a top-10
    # search would find none of them.
    assert set(ids(await index.search(QUERY, limit=10))) <= set(NEAR)
    hits = await index.search(QUERY, limit=10, filter=conditions)
    assert sorted(ids(hits)) == list(FAR)


async def test_narrower_filters(index: VectorIndex) -> None:
    drama = await index.search(QUERY, limit=10, filter=BookFilter(genres=("drama",)))
    assert sorted(ids(drama)) == [b.book_id for b in CATALOG if "drama" in b.genres]
    one_price = BookFilter(min_price_cents=590, max_price_cents=590)
    assert ids(await index.search(QUERY, limit=10, filter=one_price)) == [30]
    from_year = await index.search(QUERY, limit=30, filter=BookFilter(min_year=2009))
    assert sorted(ids(from_year)) == [2, 29, 30]
    in_stock = await index.search(QUERY, limit=10, filter=BookFilter(in_stock=True))
    assert ids(in_stock) == list(range(1, 11))
    far_word = await index.search(QUERY, limit=30, filter=BookFilter(title_contains="Far"))
    assert sorted(ids(far_word)) == [3, *FAR]
    nothing = BookFilter(author_ids=(7,), in_stock=True)
    assert await index.search(QUERY, limit=10, filter=nothing) == []


async def test_exclude_removes_ids(index: VectorIndex) -> None:
    assert ids(await index.search(QUERY, limit=3, exclude=[1, 3])) == [2, 4, 5]
    only_far = BookFilter(in_stock=False)
    assert ids(await index.search(FAR_QUERY, limit=2, filter=only_far, exclude=[21])) == [22, 23]


async def test_search_many_applies_each_exclude_to_its_vector(index: VectorIndex) -> None:
    before = statements()
    results = await index.search_many([QUERY, FAR_QUERY, QUERY], limit=3, excludes=[[1], [21, 22], []])
    assert [ids(r) for r in results] == [[2, 3, 4], [23, 24, 25], [1, 2, 3]]
    assert statements() == before + 1  # one batched call
    assert await index.search_many([], limit=3, excludes=[]) == []


async def test_vectors_are_stored_and_unknown_ids_omitted(index: VectorIndex) -> None:
    stored = await index.vectors([1, 25, 999])
    assert set(stored) == {1, 25}
    for book_id, vector in stored.items():
        assert vector == pytest.approx(list(book(book_id).vector), abs=1e-6)


async def test_content_hashes_scroll_every_page(index: VectorIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "SCROLL_PAGE", 7)
    before = statements()
    assert await index.content_hashes() == {b.book_id: b.content_hash for b in CATALOG}
    assert statements() - before >= math.ceil(len(CATALOG) / 7)  # one call per page


async def test_upsert_replaces_a_point(index: VectorIndex) -> None:
    moved = replace(book(1), vector=FAR_QUERY, content_hash="new")
    await index.upsert([moved])
    assert await index.count() == len(CATALOG)
    assert ids(await index.search(FAR_QUERY, limit=1)) == [1]
    assert (await index.content_hashes())[1] == "new"


async def test_upsert_in_several_batches(empty_index: VectorIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "UPSERT_BATCH", 4)
    await empty_index.ensure_collection()
    await empty_index.upsert(CATALOG)
    assert await empty_index.count() == len(CATALOG)


async def test_delete_removes_points(index: VectorIndex) -> None:
    await index.delete([1, 2, 999])
    await index.delete([])
    assert await index.count() == len(CATALOG) - 2
    assert ids(await index.search(QUERY, limit=2)) == [3, 4]
    assert await index.vectors([1, 2]) == {}
    assert 1 not in await index.content_hashes()


async def test_set_payloads_rewrites_only_payloads(index: VectorIndex) -> None:
    before = statements()
    await index.set_payloads(
        [
            replace(book(21), in_stock=True, content_hash="new-21", vector=()),
            replace(book(22), in_stock=True, price_cents=9_999, vector=()),
            replace(book(1), in_stock=False, vector=()),
            replace(book(999), vector=()),  # no such point: ignored
        ]
    )
    assert statements() == before + 1  # one call for the batch
    in_stock = await index.search(FAR_QUERY, limit=2, filter=BookFilter(in_stock=True))
    assert ids(in_stock) == [21, 22]
    out = await index.search(QUERY, limit=30, filter=BookFilter(in_stock=False))
    assert sorted(ids(out)) == [1, *range(23, 31)]
    assert ids(await index.search(FAR_QUERY, limit=5, filter=BookFilter(min_price_cents=9_999))) == [22]
    # The vectors are the ones stored before, and nothing was added.
    stored = await index.vectors([21, 1])
    assert stored[21] == pytest.approx(list(book(21).vector), abs=1e-6)
    assert stored[1] == pytest.approx(list(book(1).vector), abs=1e-6)
    assert (await index.content_hashes([21, 22]))[21] == "new-21"
    assert await index.count() == len(CATALOG)


async def test_a_write_never_replaces_a_newer_version(index: VectorIndex) -> None:
    sold_out = BookFilter(in_stock=False)
    # Points written before versions existed (version 0 here) take any version.
    await index.upsert([replace(book(1), in_stock=False, version=5, content_hash="v5")])
    assert 1 in ids(await index.search(QUERY, limit=30, filter=sold_out))

    # Older writes arrive late: both kinds are refused inside Qdrant.
    await index.upsert([replace(book(1), in_stock=True, version=4, content_hash="v4")])
    await index.set_payloads([replace(book(1), in_stock=True, version=3, content_hash="v3", vector=())])
    assert (await index.content_hashes([1]))[1] == "v5"
    assert 1 in ids(await index.search(QUERY, limit=30, filter=sold_out))

    # The same version again is harmless, and a newer one goes through.
    await index.set_payloads([replace(book(1), in_stock=False, version=5, content_hash="v5", vector=())])
    assert (await index.content_hashes([1]))[1] == "v5"
    await index.set_payloads([replace(book(1), in_stock=True, version=6, content_hash="v6", vector=())])
    assert (await index.content_hashes([1]))[1] == "v6"
    assert 1 not in ids(await index.search(QUERY, limit=30, filter=sold_out))

    # One upsert of points at several versions judges each against its own.
    await index.upsert(
        [replace(book(1), version=6, content_hash="again"), replace(book(2), version=1, content_hash="v1")]
    )
    assert await index.content_hashes([1, 2]) == {1: "again", 2: "v1"}
    await index.upsert(
        [replace(book(1), version=2, content_hash="stale"), replace(book(2), version=2, content_hash="v2")]
    )
    assert await index.content_hashes([1, 2]) == {1: "again", 2: "v2"}
    assert await index.count() == len(CATALOG)


async def test_content_hashes_of_some_books(index: VectorIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "SCROLL_PAGE", 2)
    before = statements()
    assert await index.content_hashes([25, 1, 999, 3]) == {1: "hash-1", 3: "hash-3", 25: "hash-25"}
    assert statements() - before == 2  # looked up by id, two per call: the catalog is not scrolled
    assert await index.content_hashes([]) == {}


async def test_count(index: VectorIndex) -> None:
    assert await index.count() == len(CATALOG)


async def test_backend_calls_are_counted(index: VectorIndex) -> None:
    before = statements()
    await index.search(QUERY, limit=1)
    await index.count()
    assert statements() == before + 2


async def test_the_edge_shard_persists(tmp_path: Path) -> None:
    first = EdgeIndex(tmp_path / "qdrant")
    await first.ensure_collection()
    await first.upsert(CATALOG)
    await first.delete([30])
    await first.set_payloads([replace(book(21), in_stock=True, vector=())])
    await first.close()

    reopened = EdgeIndex(tmp_path / "qdrant")
    try:
        assert await reopened.count() == len(CATALOG) - 1  # loaded on first use
        await reopened.ensure_collection()
        assert ids(await reopened.search(QUERY, limit=3)) == [1, 2, 3]
        assert ids(
            await reopened.search(QUERY, limit=3, filter=BookFilter(title_contains="shore", in_stock=True))
        ) == [21]
        assert await reopened.content_hashes() == {
            b.book_id: b.content_hash for b in CATALOG if b.book_id != 30
        }
    finally:
        await reopened.close()


async def test_a_closed_edge_index_is_unavailable(tmp_path: Path) -> None:
    index = EdgeIndex(tmp_path / "qdrant")
    await index.ensure_collection()
    await index.close()
    await index.close()
    with pytest.raises(SourceUnavailable):
        await index.count()


async def test_an_unreachable_server_is_unavailable() -> None:
    index = ClientIndex("http://127.0.0.1:1", timeout=0.5)
    try:
        with pytest.raises(SourceUnavailable):
            await index.ping()
        with pytest.raises(SourceUnavailable):
            await index.search(QUERY, limit=3, filter=BookFilter(in_stock=True))
        with pytest.raises(SourceUnavailable):
            await index.ensure_collection()
    finally:
        await index.close()


async def test_open_index_picks_the_backend(tmp_path: Path) -> None:
    edge = open_index(None, tmp_path)
    assert isinstance(edge, EdgeIndex) and edge.path == tmp_path / "qdrant"
    server = open_index("http://127.0.0.1:1", tmp_path)
    assert isinstance(server, ClientIndex)
    await edge.close()
    await server.close()


async def test_an_edge_shard_held_elsewhere_is_unavailable_and_left_intact(tmp_path: Path) -> None:
    owner = EdgeIndex(tmp_path / "qdrant")
    await owner.ensure_collection()
    await owner.upsert(CATALOG)
    other = EdgeIndex(tmp_path / "qdrant")  # a second server, or `bookgraph import` while one serves
    for _ in range(3):
        with pytest.raises(SourceUnavailable):
            await other.count()
    # The owner's writes (and their flushes) go on as before.
    await owner.set_payloads([replace(book(21), in_stock=True, vector=())])
    await owner.upsert([replace(book(1), content_hash="again")])
    assert ids(await owner.search(FAR_QUERY, limit=1, filter=BookFilter(in_stock=True))) == [21]
    await owner.close()
    try:
        assert await other.count() == len(CATALOG)  # released: the other opens it
    finally:
        await other.close()


async def test_a_reader_beside_the_owner_gets_a_copy_of_the_shard(tmp_path: Path) -> None:
    owner = EdgeIndex(tmp_path / "qdrant")  # a running server
    await owner.ensure_collection()
    await owner.upsert(CATALOG)
    reader = EdgeIndex(tmp_path / "qdrant")  # `bookgraph recs evaluate` beside it
    try:
        async with reader.for_reading() as readable:
            assert readable is not reader and isinstance(readable, EdgeIndex)
            copied = readable.path
            assert await readable.count() == len(CATALOG)
            assert await readable.vectors([1, 2]) == await owner.vectors([1, 2])
            assert ids(await readable.search(QUERY, limit=3)) == ids(await owner.search(QUERY, limit=3))
            # The owner goes on writing; the copy is not the original.
            await owner.delete([30])
            assert await owner.count() == len(CATALOG) - 1 and await readable.count() == len(CATALOG)
        assert not copied.exists()
        await owner.close()
        # With nobody holding it, the index itself is read.
        async with reader.for_reading() as readable:
            assert readable is reader and await readable.count() == len(CATALOG) - 1
    finally:
        await reader.close()
        await owner.close()


async def test_a_server_index_is_read_as_it_is() -> None:
    index = ClientIndex(":memory:")
    async with index.for_reading() as readable:
        assert readable is index
    await index.close()
