"""Catalog → search: embed each book and keep one Qdrant point per book, incrementally.

A point carries a content hash of what was embedded and of its filterable payload. A run embeds
only books whose text changed, rewrites only the payload of books whose price, genres or stock
changed, and deletes the points of books that are gone. Every batch is written (and flushed)
before the next is embedded, so an interrupted run resumes where it stopped.

Between runs the index follows the inventory by itself (IndexFollower): every change the payload
must show raises the book's search version in the inventory, in the transaction that makes the
change, and the follower writes the book's point and records the version it wrote.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

from datasources.base import Engine
from datasources.inventory.bulk import (
    BookDocument,
    book_count,
    book_documents,
    index_coverage,
    unindexed_book_ids,
)
from datasources.inventory.stock import StockLedger
from datasources.search.index import BookPoint, VectorIndex
from datasources.search.source import Coverage
from datasources.stores import Stores
from embeddings.model import MODEL_NAME, Embedder, get_embedder
from errors import SourceUnavailable
from observability.progress import Track, silent

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
# Loads the model only when a book's text must be embedded: payload changes never need it.
EmbedderSource = Callable[[], Awaitable[Embedder]]

# Books per follower batch: one read of their documents, one look-up of their points.
FOLLOW_BATCH = 128
# Follower batches one embedding pass of the follower reads and encodes together.
EMBED_BATCHES = 16
# Texts per encoding call of `build_index`: enough to fill the model's batches with texts of one
# length, few enough that writing one group overlaps encoding the next.
ENCODE_GROUP = 512


@dataclass(slots=True)
class IndexReport:
    embedded: int = 0
    payload_updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    # Books whose text must be embedded, left for a pass that may load the model.
    deferred: int = 0

    def add(self, other: IndexReport) -> None:
        self.embedded += other.embedded
        self.payload_updated += other.payload_updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.deferred += other.deferred

    @property
    def written(self) -> int:
        return self.embedded + self.payload_updated + self.deleted


def document_text(doc: BookDocument) -> str:
    by = f" By {', '.join(doc.authors)}." if doc.authors else ""
    genres = f" {', '.join(doc.genres)}." if doc.genres else ""
    return f"{doc.title}.{by}{genres} {doc.description}".strip()


def content_hash(doc: BookDocument) -> str:
    """`<text hash>.<payload hash>`: the first part says whether the vector must be recomputed."""
    text = hashlib.blake2b(f"{MODEL_NAME}\n{document_text(doc)}".encode(), digest_size=8).hexdigest()
    payload = json.dumps(
        [doc.title, doc.genres, doc.author_ids, doc.price_cents, doc.published_year, doc.in_stock]
    )
    return f"{text}.{hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()}"


def point(doc: BookDocument, vector: Sequence[float], digest: str) -> BookPoint:
    return BookPoint(
        book_id=doc.id,
        vector=vector,
        genres=doc.genres,
        author_ids=doc.author_ids,
        title=doc.title,
        price_cents=doc.price_cents,
        published_year=doc.published_year,
        in_stock=doc.in_stock,
        content_hash=digest,
        version=doc.version,
    )


@dataclass(slots=True)
class _Changes:
    """What `docs` need in the index, by comparing each book's hash with its point's."""

    unchanged: dict[int, int]  # book id → version: the point shows it already
    payload_only: list[tuple[BookDocument, str]]
    to_embed: list[tuple[BookDocument, str]]


def _changes(docs: Sequence[BookDocument], stored: Mapping[int, str], report: IndexReport) -> _Changes:
    found = _Changes({}, [], [])
    for doc in docs:
        digest = content_hash(doc)
        old = stored.get(doc.id)
        if old == digest:
            report.unchanged += 1
            found.unchanged[doc.id] = doc.version
        elif old is not None and old.split(".")[0] == digest.split(".")[0]:
            found.payload_only.append((doc, digest))
        else:
            found.to_embed.append((doc, digest))
    return found


async def _write_payloads(
    index: VectorIndex, payload_only: Sequence[tuple[BookDocument, str]], report: IndexReport
) -> dict[int, int]:
    if payload_only:
        await index.set_payloads([point(doc, (), h) for doc, h in payload_only])
        report.payload_updated += len(payload_only)
    return {doc.id: doc.version for doc, _ in payload_only}


async def _write_vectors(
    index: VectorIndex,
    to_embed: Sequence[tuple[BookDocument, str]],
    vectors: Sequence[Sequence[float]],
    report: IndexReport,
) -> dict[int, int]:
    await index.upsert([point(doc, v, h) for (doc, h), v in zip(to_embed, vectors, strict=True)])
    report.embedded += len(to_embed)
    return {doc.id: doc.version for doc, _ in to_embed}


async def bring_in_line(
    index: VectorIndex,
    docs: Sequence[BookDocument],
    stored: Mapping[int, str],
    embedder: EmbedderSource | None,
    report: IndexReport,
) -> dict[int, int]:
    """Write the points of `docs` that differ from the hashes in `stored`: the payload alone when
    the embedded text is the same, a new vector when it is not (only with an embedder; without
    one such books are deferred). Returns book id → version for each book the index now shows."""
    found = _changes(docs, stored, report)
    shown = found.unchanged
    if found.to_embed and embedder is None:
        report.deferred += len(found.to_embed)
    elif found.to_embed:
        model = await embedder()  # type: ignore[misc]
        texts = [document_text(doc) for doc, _ in found.to_embed]
        vectors = await asyncio.to_thread(model.embed_documents, texts)
        shown.update(await _write_vectors(index, found.to_embed, vectors, report))
    shown.update(await _write_payloads(index, found.payload_only, report))
    return shown


async def index_catalog(
    stores: Stores, track: Track = silent, *, batch_size: int = 128, book_ids: Sequence[int] | None = None
) -> IndexReport:
    """The process's model over the stores' catalog, with a progress bar of books/s."""
    embedder = await asyncio.to_thread(get_embedder)
    total = len(book_ids) if book_ids is not None else await book_count(stores.inventory)
    return await build_index(
        stores.inventory,
        stores.index,
        embedder,
        track("index", total),
        batch_size=batch_size,
        book_ids=book_ids,
    )


async def build_index(
    inventory: Engine,
    index: VectorIndex,
    embedder: Embedder | EmbedderSource,
    progress: Progress = lambda _: None,
    *,
    batch_size: int = 128,
    book_ids: Sequence[int] | None = None,
    group: int = ENCODE_GROUP,
    ledger: StockLedger | None = None,
) -> IndexReport:
    """Bring the index in line with the catalog (or with the given books only).

    The catalog is read first, `batch_size` books at a time, each book's hash compared with its
    point's: what needs no embedding is written and recorded as it is read. The texts to embed are
    then sorted by length across the whole run, so that each of the model's batches holds texts of
    one length and pads little, and encoded `group` at a time in a thread while the group before
    is written and recorded (in `ledger`, by default on `inventory`); an interruption loses at
    most the groups in flight."""
    await index.ensure_collection()
    report = IndexReport()
    existing = await index.content_hashes(book_ids)
    ledger = ledger or StockLedger(inventory)

    seen: set[int] = set()
    to_embed: list[tuple[BookDocument, str]] = []
    async for docs in book_documents(inventory, chunk=batch_size, book_ids=book_ids):
        seen.update(doc.id for doc in docs)
        found = _changes(docs, existing, report)
        await ledger.mark_indexed(found.unchanged | await _write_payloads(index, found.payload_only, report))
        to_embed.extend(found.to_embed)
        progress(len(docs) - len(found.to_embed))
    texts = {doc.id: document_text(doc) for doc, _ in to_embed}
    to_embed.sort(key=lambda pair: len(texts[pair[0].id]))
    if to_embed:  # (a pass of payloads alone never loads the model)
        model = embedder if isinstance(embedder, Embedder) else await embedder()

    async def write(part: list[tuple[BookDocument, str]], vectors: list[list[float]]) -> None:
        await ledger.mark_indexed(await _write_vectors(index, part, vectors, report))
        progress(len(part))

    encoded: tuple[list[tuple[BookDocument, str]], list[list[float]]] | None = None  # not written
    for start in range(0, len(to_embed), group):
        part = to_embed[start : start + group]
        encoding = asyncio.to_thread(model.embed_documents, [texts[doc.id] for doc, _ in part])
        if encoded is None:
            vectors = await encoding
        else:  # the group before is written while this one is encoded
            vectors, _ = await asyncio.gather(encoding, write(*encoded))
        encoded = part, vectors
    if encoded is not None:
        await write(*encoded)

    if book_ids is None:
        gone = [book_id for book_id in existing if book_id not in seen]
    else:
        gone = [book_id for book_id in book_ids if book_id in existing and book_id not in seen]
    if gone:
        await index.delete(gone)
        report.deleted = len(gone)
    if report.embedded or report.deleted:  # (payloads keep their indexes up to date)
        await index.optimize()
    return report


class IndexFollower:
    """Keeps each book's search point in line with the inventory, without a re-index.

    Why it cannot lose a change: the mark is the inventory's own. Every change the payload must
    show (availability crossing zero in checkout, cancellation, rejection, restock or recovery; an
    import rewriting title, authors, genres or price) raises `stock_levels.search_version` in the
    same transaction (for stock, in the same UPDATE), so it commits or rolls back with the change.
    The follower reads the version *before* the document (so what it writes is at least as new as
    the version it claims), writes the point, and only then raises `search_applied` to that
    version. If the search store is down, or the process dies anywhere in between, the book stays
    pending (version > applied) and a later pass applies it: right after the next commit that
    touches it, at start-up, or every INDEX_FOLLOW_INTERVAL_SECONDS.

    Why not a reconcile pass comparing every point with the inventory: it would read the whole
    catalog and scroll the whole index on every round to find the few books that changed; the
    marks name them, in an index of their own (`bookgraph index` remains the full comparison).

    Why applying twice, or out of order, is harmless: the point is written from the current
    document, not from a delta, and every write carries the version and is conditional inside
    Qdrant: it never replaces a point showing a newer version. Two processes racing over one book
    therefore end with the newer document, and `search_applied` only ever goes up.

    The pass after a commit rewrites payloads only; a book whose embedded text changed (or that has
    no point yet) waits for the background pass, so the model is never loaded on a request.
    """

    def __init__(
        self,
        inventory: Engine,
        stock: Engine,
        index: VectorIndex,
        embedder: EmbedderSource | None = None,
        *,
        batch_size: int = FOLLOW_BATCH,
    ) -> None:
        self.inventory = inventory
        self.ledger = StockLedger(stock)
        self.index = index
        self.embedder = embedder
        self.batch_size = batch_size

    @classmethod
    def of(cls, stores: Stores, embedder: EmbedderSource | None = None) -> IndexFollower:
        return cls(stores.inventory, stores.stock, stores.index, embedder)

    async def apply(self, book_ids: Sequence[int], *, embed: bool = True) -> IndexReport:
        """Bring these books' points in line with the inventory and record what was written."""
        ids = sorted(set(book_ids))
        if embed and self.embedder is not None:  # as `bookgraph index` does, for these books
            return await build_index(
                self.inventory,
                self.index,
                self.embedder,
                batch_size=self.batch_size,
                book_ids=ids,
                ledger=self.ledger,
            )
        report = IndexReport()
        for start in range(0, len(ids), self.batch_size):
            batch = ids[start : start + self.batch_size]
            docs = [doc async for chunk in book_documents(self.inventory, len(batch), batch) for doc in chunk]
            stored = await self.index.content_hashes(batch)
            embedder = self.embedder if embed else None
            shown = await bring_in_line(self.index, docs, stored, embedder, report)
            present = {doc.id for doc in docs}
            gone = [book_id for book_id in batch if book_id not in present and book_id in stored]
            if gone:
                await self.index.delete(gone)
                report.deleted += len(gone)
            await self.ledger.mark_indexed(shown)
        return report

    async def catch_up(self, *, embed: bool = True, max_batches: int | None = None) -> IndexReport:
        """Apply every change still pending, once each: books deferred or failing in this pass
        are not retried until the next."""
        report = IndexReport()
        after, batches = 0, 0
        # Embedding: many batches at once, so that their texts are encoded sorted by length.
        limit = self.batch_size * (EMBED_BATCHES if embed and self.embedder is not None else 1)
        while max_batches is None or batches < max_batches:
            pending = await unindexed_book_ids(self.inventory, limit, after=after)
            if not pending:
                break
            report.add(await self.apply(pending, embed=embed))
            after, batches = pending[-1], batches + 1
            await asyncio.sleep(0)  # let requests in between batches
        return report

    async def after_commit(self, book_ids: Sequence[int]) -> None:
        """The prompt path, right after a stock movement committed: never raises, so a search
        outage costs the index a little delay and the checkout nothing."""
        try:
            await self.apply(book_ids, embed=False)
        except SourceUnavailable:
            log.warning(
                "search index behind the stock; the next pass applies it", extra={"books": len(book_ids)}
            )
        except Exception:
            log.exception("search index behind the stock; the next pass applies it")

    async def run(self, interval: float, *, now: bool = False) -> None:
        """The safety net: a pass every `interval` seconds, for as long as the task lives; the first
        at once when `now` (a catalog not indexed yet, as on a first start, is embedded here)."""
        if now:
            await self.pass_logged()
        while True:
            await asyncio.sleep(interval)
            await self.pass_logged()

    async def pass_logged(self, *, embed: bool = True, max_batches: int | None = None) -> IndexReport | None:
        try:
            report = await self.catch_up(embed=embed, max_batches=max_batches)
        except SourceUnavailable as exc:
            log.warning("index changes left pending: a store is unavailable", extra={"store": exc.store})
            return None
        except Exception:
            log.exception("index changes left pending")
            return None
        if report.written or report.deferred:
            log.info("search index followed the inventory", extra=asdict(report))
        return report


async def count_coverage(inventory: Engine, coverage: Coverage) -> None:
    """Recount how much of the catalog the index holds; progress is logged as it grows by a tenth."""
    try:
        books, indexed = await index_coverage(inventory)
    except Exception as exc:  # the last count stands until the inventory answers
        log.warning("search index coverage not counted", extra={"error": repr(exc)})
        return
    step = max(books // 10, 1)
    grown = indexed // step != coverage.indexed // step or (indexed >= books) != coverage.complete
    coverage.books, coverage.indexed = books, indexed
    if grown and coverage.books:
        log.info(f"search: {coverage.describe()}" if not coverage.complete else "search: every book indexed")


async def watch_coverage(inventory: Engine, coverage: Coverage, interval: float) -> None:
    """Keep `coverage` current: every second while the index fills, every `interval` once full."""
    while True:
        await asyncio.sleep(1.0 if not coverage.complete else interval)
        await count_coverage(inventory, coverage)
