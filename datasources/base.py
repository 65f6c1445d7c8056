"""What every store shares: engines that count their statements, failures that name the store,
and DataLoaders that report their batch sizes."""

from __future__ import annotations

import inspect
import logging
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from itertools import islice
from typing import Any, TypeVar

import sqlalchemy as sa
from aiodataloader import DataLoader
from opentelemetry import trace
from redis import exceptions as redis_errors
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from datasources.breaker import breaker_of, guard
from errors import SourceUnavailable
from observability.telemetry import LOADER_BATCH_SIZE, STORE_STATEMENTS

# A database as the layers above datasources name it: they hand it to a datasource, never drive it.
Engine = AsyncEngine

log = logging.getLogger(__name__)
_tracer = trace.get_tracer("bookgraph.stores")
_IN_STORE_CALL: ContextVar[str | None] = ContextVar("in_store_call", default=None)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
V = TypeVar("V")
R = TypeVar("R")

# Failures that mean "the store cannot be reached", as opposed to a bug in a statement.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
)
# PostgreSQL's classes of SQLSTATE that say the server could not take the call: connection
# exceptions (08), insufficient resources (53: too many connections), operator intervention (57:
# shutting down, starting up, a statement cancelled).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57")


def _not_answered(exc: BaseException) -> bool:
    if isinstance(exc, _UNAVAILABLE):
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    driver = getattr(exc.orig, "driver_exception", exc.orig)  # (the asyncpg error, as adapted)
    state = getattr(driver, "sqlstate", None)
    return isinstance(state, str) and state[:2] in _UNAVAILABLE_SQLSTATES


def create_engine(
    url: str,
    store: str,
    *,
    pool_size: int = 10,
    timeout: float = 3.0,
    statement_timeout: float | None = None,
    retry_after: float = 1.0,
) -> AsyncEngine:
    """An engine for one store whose every statement is counted under `store`.

    A server's engine has a deadline for each step of a call: `timeout` to connect and to wait for
    a pooled connection, `statement_timeout` (None: none, for batch work) for each statement; and a
    circuit breaker (datasources.breaker) that fails its calls at once while the server does not
    answer. A SQLite file has neither: it cannot hang as a server can, and a lock it waits for
    (its busy timeout is `timeout`) is contention, not an outage."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": timeout})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _READERS[engine] = _sqlite_reader(url, store, timeout)
    else:
        connect_args: dict[str, Any] = {"timeout": timeout}
        if statement_timeout is not None:
            connect_args["command_timeout"] = statement_timeout
        engine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=timeout,
            connect_args=connect_args,
        )
        guard(engine, store, retry_after)
    counter = STORE_STATEMENTS.labels(store)
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: counter.inc())
    return engine


def create_write_engine(
    url: str,
    store: str,
    *,
    timeout: float = 10.0,
    statement_timeout: float | None = None,
    retry_after: float = 1.0,
) -> AsyncEngine:
    """An engine for short write transactions that must not interleave (stock reservations).

    On SQLite every transaction starts with BEGIN IMMEDIATE: the write lock is taken up front, so
    two writers queue on the busy timeout instead of one failing with "database is locked" when it
    upgrades a read lock. Elsewhere the conditional UPDATEs are enough on their own.
    """
    if not url.startswith("sqlite"):
        return create_engine(
            url,
            store,
            pool_size=2,
            timeout=timeout,
            statement_timeout=statement_timeout,
            retry_after=retry_after,
        )
    # One connection per process: this process's writers queue in the pool, not on the file lock.
    engine = create_async_engine(url, connect_args={"timeout": timeout}, pool_size=1, max_overflow=0)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "connect", _sqlite_manual_transactions)
    event.listen(engine.sync_engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    counter = STORE_STATEMENTS.labels(store)
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *_: counter.inc())
    return engine


# SQLite engines' readers for reads bounded by an index (`StoreSource._lookup`).
_READERS: weakref.WeakKeyDictionary[AsyncEngine, sa.Engine] = weakref.WeakKeyDictionary()


def _sqlite_reader(url: str, store: str, timeout: float) -> sa.Engine:
    """The same file through the plain driver, for reads bounded by an index run in the event loop's
    own thread: an indexed read of a page's worth of keys takes tens of microseconds in SQLite, less
    than handing it to aiosqlite's thread and back, which is most of what a read costs there
    (`bookgraph bench --profile catalog_page`). In WAL mode a reader does not wait for a writer
    (only, rarely, for the log's recovery, up to the busy timeout)."""
    reader = sa.create_engine(
        url.replace("+aiosqlite", "", 1),
        # One statement at a time, always whole: a connection is never used by two threads at once.
        connect_args={"timeout": timeout, "check_same_thread": False},
    )
    event.listen(reader, "connect", _sqlite_pragmas)
    counter = STORE_STATEMENTS.labels(store)
    event.listen(reader, "before_cursor_execute", lambda *_: counter.inc())
    return reader


async def dispose(engine: AsyncEngine) -> None:
    """Close an engine's connections, and its reader's."""
    await engine.dispose()
    reader = _READERS.pop(engine, None)
    if reader is not None:
        reader.dispose()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # The driver would otherwise send its own deferred BEGIN before the first write.
    dbapi_connection.isolation_level = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while a writer commits; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Reads through memory-mapped pages rather than a read() per page missed in SQLite's own 2 MB
    # cache: a catalog of 100,000 books is 110 MB, and a page of them touches pages all over it.
    cursor.execute(f"PRAGMA mmap_size={256 * 2**20}")
    cursor.close()


def _is_redis_error(exc: BaseException) -> bool:
    return isinstance(exc, redis_errors.RedisError)


async def fail_open(
    store: str, call: Awaitable[T], default: T, what: str, *, via: Any = None, **details: Any
) -> T:
    """For a store that is a cache or a bus (Redis): its answer, or `default` when it does not
    answer, so the caller goes on without it. Traced as every store call; logged as `what`."""
    try:
        with store_errors(store, _is_redis_error, quietly=True, via=via):
            return await call
    except SourceUnavailable as exc:
        if inspect.iscoroutine(call):
            call.close()  # not sent: the store's breaker is open (a no-op once it has run)
        if exc.__cause__ is not None:  # (an open breaker has said so once, when it opened)
            log.warning(what, extra={"store": store, "error": repr(exc.__cause__), **details})
        return default


@contextmanager
def store_errors(
    store: str,
    unavailable: Callable[[BaseException], bool] | None = None,
    *,
    quietly: bool = False,
    via: Any = None,
) -> Iterator[None]:
    """Turn a connection failure into SourceUnavailable so only this store's fields are lost.

    Every call to a store passes here, so here is its trace span (a no-op unless tracing is on)
    and, for a call `via` an engine or client that has one, its circuit breaker: while the store
    does not answer, the call fails at once. A call nested in another (a loader's batch running
    its statement) is part of the outer call. `unavailable` says which other errors mean the store
    did not answer (a driver that raises bare exceptions); `quietly` leaves the log line to the
    caller.
    """
    outer = _IN_STORE_CALL.get() is None
    breaker = breaker_of(via) if outer else None
    if breaker is not None and not breaker.admit():
        raise SourceUnavailable(store)
    token = _IN_STORE_CALL.set(store) if outer else None
    span = _tracer.start_as_current_span(f"{store} call", attributes={"bookgraph.store": store})
    try:
        with span if outer else nullcontext():
            yield
    except Exception as exc:
        if not _not_answered(exc) and not (unavailable is not None and unavailable(exc)):
            if breaker is not None:
                breaker.answered()  # with an error of the statement's own: the store is there
            raise
        if breaker is not None and isinstance(exc, redis_errors.ResponseError):
            breaker.answered()  # Redis answered, with an error (failed open all the same)
            breaker = None
        if breaker is not None:
            breaker.unanswered()
        if not quietly:
            log.warning("store unavailable", extra={"store": store, "error": repr(exc)})
        raise SourceUnavailable(store) from exc
    except BaseException:  # cancelled: no word on the store either way
        if breaker is not None:
            breaker.abandoned()
        raise
    else:
        if breaker is not None:
            breaker.answered()
    finally:
        if token is not None:
            _IN_STORE_CALL.reset(token)


class StoreSource:
    """Base of the per-request datasources: statements against one store's engine."""

    store: str

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def _rows(
        self, statement: sa.Executable, parameters: dict[str, Any] | None = None
    ) -> Sequence[sa.Row[Any]]:
        with store_errors(self.store, via=self.engine):
            async with self.engine.connect() as conn:
                return (await conn.execute(statement, parameters)).all()

    async def _lookup(self, statement: sa.Executable, parameters: dict[str, Any]) -> Sequence[sa.Row[Any]]:
        """A read bounded by an index (by keys, or a page walked in its order): on SQLite, in this
        thread."""
        reader = _READERS.get(self.engine)
        if reader is None:
            return await self._rows(statement, parameters)
        with store_errors(self.store), reader.connect() as sync:
            return sync.execute(statement, parameters).all()


async def ping(engine: AsyncEngine, store: str) -> None:
    with store_errors(store, via=engine):
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))


def loader(
    name: str, store: str, batch: Callable[[list[K]], Awaitable[list[V]]], *, via: Any = None
) -> DataLoader[K, V]:
    """A per-request DataLoader named for metrics, whose failures are attributed to `store` (and
    to the breaker of the engine or client it reads `via`)."""
    histogram = LOADER_BATCH_SIZE.labels(name)

    async def batch_load(keys: list[K]) -> list[V]:
        histogram.observe(len(keys))
        with store_errors(store, via=via):
            return await batch(keys)

    return DataLoader(batch_load)


def in_key_order(keys: Sequence[K], found: dict[K, V]) -> list[V | None]:
    return [found.get(k) for k in keys]


def grouped(keys: Sequence[K], rows: Iterable[R], key: Callable[[R], K]) -> list[list[R]]:
    groups: defaultdict[K, list[R]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return [groups.get(k, []) for k in keys]


# Rows per statement in bulk writes: few round trips, and well inside every driver's parameter limit.
WRITE_CHUNK = 500

Progress = Callable[[int], None]  # told how many items were just done


def no_progress(_: int) -> None:
    return None


def upsert(conn: AsyncConnection, table: sa.Table) -> Any:
    """An INSERT that can take ON CONFLICT, in the connection's dialect."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
