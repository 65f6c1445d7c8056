"""Checkout across two databases that cannot share a transaction, as a saga.

1. open the order as PENDING in PostgreSQL (once per customer and idempotency key);
2. hold every line's stock in the inventory store, in one transaction keyed by the order id;
3. confirm the order.

The orders store decides: an order's status changes only by a conditional transition, and the stock
follows that decision (held for CONFIRMED, released for REJECTED and CANCELLED, shipped for SHIPPED).
If a step fails after an earlier one committed, the order is rejected and its stock released. Every
step is idempotent, so a retry, a concurrent duplicate or the recovery sweep can run it again.

After every stock movement the search index follows the books whose availability crossed zero
(indexing.IndexFollower): at once, and from the inventory's own marks if that fails.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import orjson

from checkout.faults import NONE, Faults
from clock import SYSTEM, Clock
from config import Settings
from datasources.inventory.rows import BookRow, StockRow
from datasources.inventory.source import InventorySource
from datasources.inventory.stock import Movement, Outcome, StockLedger
from datasources.orders.ledger import NewLine, OrderLedger, Transition
from datasources.orders.rows import OrderRow, OrderStatus
from datasources.redis.events import EventBus, OrderStatusChanged, StockChanged
from datasources.stores import Stores
from ingest.indexing import IndexFollower

log = logging.getLogger(__name__)

MAX_LINES = 100
MAX_KEY_LENGTH = 255
MAX_RESTOCK = 100_000

# Moves an administrator may make; PENDING belongs to checkout, and cancelling releases stock.
ADMIN_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
}
CANCELLABLE = (OrderStatus.PENDING, OrderStatus.CONFIRMED)


class ProblemCode(StrEnum):
    EMPTY_ORDER = "EMPTY_ORDER"
    TOO_MANY_LINES = "TOO_MANY_LINES"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    UNKNOWN_BOOK = "UNKNOWN_BOOK"
    DUPLICATE_BOOK = "DUPLICATE_BOOK"
    MIXED_CURRENCY = "MIXED_CURRENCY"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    CHECKOUT_FAILED = "CHECKOUT_FAILED"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    NOT_CANCELLABLE = "NOT_CANCELLABLE"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class Problem:
    """An expected failure, told to the client with the input field that caused it."""

    field: list[str]
    message: str
    code: ProblemCode


@dataclass(frozen=True, slots=True)
class LineRequest:
    book_id: int | None  # None: the client's ID does not name a book
    quantity: int


@dataclass(frozen=True, slots=True)
class Result:
    order: OrderRow | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Restocked:
    book: BookRow | None = None
    level: StockRow | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class RecoveryReport:
    confirmed: int = 0
    rejected: int = 0
    released: int = 0
    shipped: int = 0
    failed: int = 0


def validate(
    idempotency_key: str,
    lines: Sequence[LineRequest],
    books: Mapping[int, BookRow | None],
    max_quantity: int,
) -> list[Problem]:
    """Everything wrong with a request, found before any store is written."""
    problems: list[Problem] = []
    if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_LENGTH:
        problems.append(
            Problem(
                ["input", "idempotencyKey"],
                f"The idempotency key must be 1 to {MAX_KEY_LENGTH} characters.",
                ProblemCode.INVALID_IDEMPOTENCY_KEY,
            )
        )
    if not lines:
        problems.append(
            Problem(["input", "lines"], "An order needs at least one line.", ProblemCode.EMPTY_ORDER)
        )
    if len(lines) > MAX_LINES:
        problems.append(
            Problem(
                ["input", "lines"],
                f"An order may have at most {MAX_LINES} lines; this one has {len(lines)}.",
                ProblemCode.TOO_MANY_LINES,
            )
        )
        return problems
    seen: set[int] = set()
    currencies: set[str] = set()
    for index, line in enumerate(lines):
        at = ["input", "lines", str(index)]
        if not 1 <= line.quantity <= max_quantity:
            problems.append(
                Problem(
                    [*at, "quantity"],
                    f"Quantity must be between 1 and {max_quantity}; got {line.quantity}.",
                    ProblemCode.INVALID_QUANTITY,
                )
            )
        book = books.get(line.book_id) if line.book_id is not None else None
        if book is None:
            problems.append(Problem([*at, "bookId"], "No book has this ID.", ProblemCode.UNKNOWN_BOOK))
            continue
        if book.id in seen:
            problems.append(
                Problem(
                    [*at, "bookId"],
                    f"“{book.title}” is already in another line; order it once with the total quantity.",
                    ProblemCode.DUPLICATE_BOOK,
                )
            )
        seen.add(book.id)
        currencies.add(book.currency)
    if len(currencies) > 1:
        problems.append(
            Problem(
                ["input", "lines"],
                "The books are priced in different currencies; order them separately.",
                ProblemCode.MIXED_CURRENCY,
            )
        )
    return problems


def request_hash(lines: Sequence[tuple[int, int]]) -> str:
    """What an idempotency key stands for: the same lines in any order hash the same."""
    return hashlib.sha256(orjson.dumps(sorted(lines))).hexdigest()


class Checkout:
    def __init__(
        self,
        orders: OrderLedger,
        stock: StockLedger,
        events: EventBus,
        *,
        index: IndexFollower | None = None,
        faults: Faults = NONE,
        max_quantity: int = 50,
        clock: Clock = SYSTEM,
    ) -> None:
        self.orders = orders
        self.stock = stock
        self.events = events
        self.index = index
        self.faults = faults
        self.max_quantity = max_quantity
        self.clock = clock

    async def place(
        self,
        customer_id: int,
        idempotency_key: str,
        lines: Sequence[LineRequest],
        catalog: InventorySource,
    ) -> Result:
        """`catalog` is the request's inventory source: the books it loads are the ones the
        response then shows, at no second statement."""
        # Too many lines is refused before the books are even looked up.
        ids = (
            sorted({line.book_id for line in lines if line.book_id is not None})
            if len(lines) <= MAX_LINES
            else []
        )
        books = dict(zip(ids, await catalog.books_by_id.load_many(ids), strict=True))
        problems = validate(idempotency_key, lines, books, self.max_quantity)
        if problems:
            return Result(problems=problems)
        # Validated: every line names a known book, once.
        chosen = [(book, line.quantity) for line in lines if (book := books.get(line.book_id or 0))]
        wanted = [(book.id, quantity) for book, quantity in chosen]
        priced = [NewLine(book.id, quantity, book.price_cents) for book, quantity in chosen]
        currency = chosen[0][0].currency
        digest = request_hash(wanted)
        opened = await self.orders.open(
            customer_id, idempotency_key, digest, priced, currency, placed_at=self.clock.now()
        )
        if not opened.created and opened.request_hash != digest:
            return Result(
                problems=[
                    Problem(
                        ["input", "idempotencyKey"],
                        f"This key was used for order {opened.order.number} with other lines; "
                        "use a new key for a new order.",
                        ProblemCode.IDEMPOTENCY_KEY_REUSED,
                    )
                ]
            )
        if opened.created:
            await self._announce(opened.order, None, opened.order.placed_at)
        return await self.complete(opened.order, wanted)

    async def complete(self, order: OrderRow, lines: Sequence[tuple[int, int]] | None = None) -> Result:
        """Drive a PENDING order to CONFIRMED or REJECTED; any other order is returned as it is.

        Safe to run any number of times, concurrently, from any process.
        """
        if order.status != OrderStatus.PENDING:
            return await self._settled(order)
        if lines is None:
            lines = [(line.book_id, line.quantity) for line in await self.orders.lines(order.id)]
        self.faults.reach("after_pending")
        try:
            reservation = await self.stock.reserve(order.id, lines)
            self.faults.reach("after_reserve")
            if reservation.outcome is Outcome.SHORT:
                return await self._reject(order, self._shortage_problems(lines, reservation.shortages))
            if reservation.outcome is Outcome.RELEASED:
                # Compensated by an earlier attempt: the order's own status has the answer.
                return await self._settled(await self._current(order))
            await self._stock_moved(reservation.moved)
            self.faults.reach("before_confirm")
            confirmed = await self.orders.transition(order.id, [OrderStatus.PENDING], OrderStatus.CONFIRMED)
        except Exception:
            log.exception("checkout failed; compensating", extra={"order_id": order.id})
            if not await self._compensate(order):
                raise  # still PENDING: masked for the client, finished by recovery
            # Rejected, its stock released: the answer a retry with the same key gets too.
            return await self._settled(await self._current(order))
        if confirmed is None:
            # Someone else decided first (a cancellation, or recovery rejecting it).
            current = await self._current(order)
            if current.status in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
                await self._stock_moved(await self.stock.release(order.id))
            return await self._settled(current)
        await self._announced(confirmed)
        self.faults.reach("after_confirm")
        return Result(confirmed.order)

    async def cancel(self, order: OrderRow) -> Result:
        if order.status == OrderStatus.CANCELLED:
            return Result(order)
        cancelled = await self.orders.transition(
            order.id, CANCELLABLE, OrderStatus.CANCELLED, note="cancelled"
        )
        if cancelled is None:
            current = await self._current(order)
            if current.status == OrderStatus.CANCELLED:
                return Result(current)
            return Result(
                problems=[
                    Problem(
                        ["id"],
                        f"Order {order.number} is {current.status.lower()} and can no longer be cancelled.",
                        ProblemCode.NOT_CANCELLABLE,
                    )
                ]
            )
        await self._announced(cancelled)
        await self._stock_moved(await self.stock.release(order.id))
        return Result(cancelled.order)

    async def set_status(self, order: OrderRow, status: OrderStatus) -> Result:
        """An administrator moves an order along its lifecycle; the stock follows."""
        if status == order.status:
            return Result(order)
        if status == OrderStatus.CANCELLED:
            return await self.cancel(order)
        sources = [s for s, targets in ADMIN_TRANSITIONS.items() if status in targets]
        moved = await self.orders.transition(order.id, sources, status, note="set by an administrator")
        if moved is None:
            current = await self._current(order)
            return Result(
                problems=[
                    Problem(
                        ["status"],
                        f"Order {order.number} is {current.status}; it cannot become {status}.",
                        ProblemCode.INVALID_TRANSITION,
                    )
                ]
            )
        await self._announced(moved)
        if status == OrderStatus.SHIPPED:
            await self._stock_moved(await self.stock.ship(order.id))
        return Result(moved.order)

    async def restock(self, book_id: int | None, quantity: int, catalog: InventorySource) -> Restocked:
        """Add copies of a book; the request's `catalog` then shows the new level (and its book)."""
        problems = []
        if not 1 <= quantity <= MAX_RESTOCK:
            message = f"Quantity must be between 1 and {MAX_RESTOCK}."
            problems.append(Problem(["quantity"], message, ProblemCode.INVALID_QUANTITY))
        book = await catalog.books_by_id.load(book_id) if book_id is not None else None
        if book is None:
            problems.append(Problem(["bookId"], "No book has this ID.", ProblemCode.UNKNOWN_BOOK))
        if problems or book is None:
            return Restocked(problems=problems)
        moved = await self.stock.restock(book.id, quantity)
        await self._stock_moved(moved)
        level = moved.levels[0]
        catalog.stock_by_book_id.clear(book.id).prime(book.id, level)
        return Restocked(book, level)

    async def recover(self, older_than: timedelta = timedelta(seconds=10)) -> RecoveryReport:
        """Finish what interrupted checkouts left: PENDING orders older than `older_than` are
        completed or rejected, and stock still held for a decided order follows its decision."""
        report = RecoveryReport()
        for order in await self.orders.pending_before(self.clock.now() - older_than):
            try:
                result = await self.complete(order)
            except Exception:
                log.exception("recovery could not complete an order", extra={"order_id": order.id})
                report.failed += 1
                continue
            if result.order is not None and result.order.status == OrderStatus.CONFIRMED:
                report.confirmed += 1
            else:
                report.rejected += 1
        held = await self.stock.held_order_ids()
        statuses = await self.orders.statuses(held) if held else {}
        for order_id in held:
            status = statuses.get(order_id)
            if status in (None, OrderStatus.REJECTED, OrderStatus.CANCELLED):
                await self._stock_moved(await self.stock.release(order_id))
                report.released += 1
            elif status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
                await self._stock_moved(await self.stock.ship(order_id))
                report.shipped += 1
        return report

    # --- the steps' shared parts ---

    async def _reject(self, order: OrderRow, problems: list[Problem]) -> Result:
        rejected = await self.orders.transition(
            order.id,
            [OrderStatus.PENDING],
            OrderStatus.REJECTED,
            note=problems[0].message,
            code=problems[0].code.value,
            details={"problems": [asdict(p) for p in problems]},
        )
        if rejected is None:
            return await self._settled(await self._current(order))
        await self._announced(rejected)
        await self._stock_moved(await self.stock.release(order.id))
        return Result(problems=problems)

    async def _compensate(self, order: OrderRow) -> bool:
        """Rejects the order and releases its stock; False if that failed too."""
        problem = Problem(
            ["input"],
            "The order could not be completed and nothing was reserved; "
            "try again with a new idempotency key.",
            ProblemCode.CHECKOUT_FAILED,
        )
        try:
            await self._reject(order, [problem])
        except Exception:
            # The order stays PENDING with its stock perhaps held: recovery finishes it.
            log.exception("compensation failed; recovery will finish the order", extra={"order_id": order.id})
            return False
        return True

    async def _settled(self, order: OrderRow) -> Result:
        """The answer for an order already decided: what a retry with the same key receives."""
        if order.status != OrderStatus.REJECTED:
            return Result(order)
        _, details = await self.orders.last_event(order.id, OrderStatus.REJECTED)
        stored = (details or {}).get("problems") or [
            {"field": ["input"], "message": "The order was rejected.", "code": "CHECKOUT_FAILED"}
        ]
        return Result(problems=[Problem(p["field"], p["message"], ProblemCode(p["code"])) for p in stored])

    async def _current(self, order: OrderRow) -> OrderRow:
        return await self.orders.get(order.id) or order

    @staticmethod
    def _shortage_problems(lines: Sequence[tuple[int, int]], shortages: Mapping[int, int]) -> list[Problem]:
        return [
            Problem(
                ["input", "lines", str(index), "quantity"],
                f"Only {shortages[book_id]} left in stock; {quantity} requested.",
                ProblemCode.OUT_OF_STOCK,
            )
            for index, (book_id, quantity) in enumerate(lines)
            if book_id in shortages
        ]

    async def _announced(self, transition: Transition) -> None:
        await self._announce(transition.order, transition.from_status, transition.occurred_at)

    async def _announce(self, order: OrderRow, from_status: str | None, at: datetime) -> None:
        await self.events.order_status_changed(
            OrderStatusChanged(order.id, order.customer_id, from_status, order.status, at.isoformat())
        )

    async def _stock_moved(self, moved: Movement) -> None:
        await self.events.stock_changed(
            [StockChanged(s.book_id, s.on_hand, s.reserved) for s in moved.levels]
        )
        if moved.unindexed and self.index is not None:
            await self.index.after_commit(moved.unindexed)


def checkout_for(settings: Settings, stores: Stores, *, follow_index: bool = True) -> Checkout:
    return Checkout(
        OrderLedger(stores.orders),
        StockLedger(stores.stock),
        EventBus(stores.redis, settings.redis_key_prefix),
        index=IndexFollower.of(stores) if follow_index else None,
        faults=Faults(settings.fault_points),
        max_quantity=settings.max_line_quantity,
        clock=settings.clock,
    )
