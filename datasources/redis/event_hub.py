"""One Redis subscription per process, fanned out in memory to every subscriber in it.

A Redis pub/sub connection per GraphQL subscription let one WebSocket with 150 subscriptions take
the pool from 12 connections to 103, after which Redis refused everyone ("Too many connections").
Here the process holds one pub/sub connection; each subscriber gets a bounded queue, registered
under the channels and patterns it listens to, and Redis is told about a channel only when its
first listener arrives and its last one leaves.

A subscriber that falls `QUEUE_SIZE` events behind is ended (with `SubscriberTooSlow`) rather than
left to hold memory without bound; with Redis gone, every subscriber ends with SOURCE_UNAVAILABLE
and the next one to arrive connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from datasources.redis import STORE
from errors import BookgraphError, ErrorCode, SourceUnavailable

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
READ_SECONDS = 1.0  # one read's wait for a message: bounded, so the reader sees when to stop


class SubscriberTooSlow(BookgraphError):
    code = ErrorCode.THROTTLED


_END = object()


class _Subscriber:
    __slots__ = ("channels", "failure", "patterns", "queue")

    def __init__(self, channels: Sequence[str], patterns: Sequence[str]) -> None:
        self.channels = tuple(channels)
        self.patterns = tuple(patterns)
        # Bounded by `deliver`, not by the queue, so the end marker always fits after the last event.
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.failure: BookgraphError | None = None

    def deliver(self, payload: Any) -> bool:
        """False when the subscriber is too far behind to take more."""
        if self.failure is not None:
            return True  # ending: what comes now is not for it
        if self.queue.qsize() >= QUEUE_SIZE:
            return False
        self.queue.put_nowait(payload)
        return True

    def end(self, failure: BookgraphError) -> None:
        """The events queued so far are still read, then `failure` is raised."""
        if self.failure is None:
            self.failure = failure
            self.queue.put_nowait(_END)


class EventHub:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # subscribe, unsubscribe and (re)connect, one at a time
        self._by_channel: defaultdict[str, set[_Subscriber]] = defaultdict(set)
        self._by_pattern: defaultdict[str, set[_Subscriber]] = defaultdict(set)

    def listeners(self, channel: str) -> int:
        return len(self._by_channel.get(channel, ()))

    async def listen(
        self, *, channels: Sequence[str] = (), patterns: Sequence[str] = ()
    ) -> AsyncIterator[dict[str, Any]]:
        """Payloads published on `channels` or channels matching `patterns`, until the caller stops."""
        subscriber = _Subscriber(channels, patterns)
        try:
            await self._add(subscriber)
            while True:
                payload = await subscriber.queue.get()
                if payload is _END:
                    assert subscriber.failure is not None
                    raise subscriber.failure
                yield payload
        finally:
            await self._remove(subscriber)

    async def close(self) -> None:
        async with self._lock:
            await self._disconnect(SourceUnavailable(STORE))

    async def _add(self, subscriber: _Subscriber) -> None:
        async with self._lock:
            try:
                pubsub = await self._connected()
                new_channels = [c for c in subscriber.channels if c not in self._by_channel]
                new_patterns = [p for p in subscriber.patterns if p not in self._by_pattern]
                if new_channels:
                    await pubsub.subscribe(*new_channels)
                if new_patterns:
                    await pubsub.psubscribe(*new_patterns)
            except (RedisError, OSError) as exc:
                log.warning("event subscription failed", extra={"error": repr(exc)})
                await self._disconnect(SourceUnavailable(STORE))
                raise SourceUnavailable(STORE) from exc
            for channel in subscriber.channels:
                self._by_channel[channel].add(subscriber)
            for pattern in subscriber.patterns:
                self._by_pattern[pattern].add(subscriber)
        # Registered first, so that `listen` unsubscribes what was subscribed.
        _raise_if_cancelled()

    async def _remove(self, subscriber: _Subscriber) -> None:
        async with self._lock:
            gone_channels = self._forget(self._by_channel, subscriber.channels, subscriber)
            gone_patterns = self._forget(self._by_pattern, subscriber.patterns, subscriber)
            if self._pubsub is None:
                return
            try:
                if gone_channels:
                    await self._pubsub.unsubscribe(*gone_channels)
                if gone_patterns:
                    await self._pubsub.punsubscribe(*gone_patterns)
            except (RedisError, OSError) as exc:
                log.warning("event unsubscription failed", extra={"error": repr(exc)})
                await self._disconnect(SourceUnavailable(STORE))

    @staticmethod
    def _forget(
        index: defaultdict[str, set[_Subscriber]], keys: Sequence[str], subscriber: _Subscriber
    ) -> list[str]:
        gone = []
        for key in keys:
            listeners = index.get(key)
            if listeners is None:
                continue
            listeners.discard(subscriber)
            if not listeners:
                del index[key]
                gone.append(key)
        return gone

    async def _connected(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            self._reader = asyncio.create_task(self._read(self._pubsub), name="event-hub-reader")
        return self._pubsub

    async def _read(self, pubsub: PubSub) -> None:
        try:
            # Until this connection is dropped: the reader stops by itself within one read even if
            # the cancellation `_disconnect` sends is swallowed (see `_raise_if_cancelled`).
            while self._pubsub is pubsub:
                if not pubsub.subscribed:
                    await asyncio.sleep(0.05)  # nothing to read until the first subscribe is sent
                    continue
                message = await pubsub.get_message(timeout=READ_SECONDS)
                _raise_if_cancelled()
                if message is not None and message["type"] in ("message", "pmessage"):
                    self._fan_out(message)
        except asyncio.CancelledError:
            raise
        except (RedisError, OSError) as exc:
            log.warning("event stream lost", extra={"error": repr(exc)})
            async with self._lock:
                if self._pubsub is pubsub:
                    await self._disconnect(SourceUnavailable(STORE), reader_exiting=True)

    def _fan_out(self, message: dict[str, Any]) -> None:
        if message["type"] == "pmessage":
            listeners = self._by_pattern.get(_text(message["pattern"]), set())
        else:
            listeners = self._by_channel.get(_text(message["channel"]), set())
        if not listeners:
            return
        payload = orjson.loads(message["data"])
        for subscriber in list(listeners):
            if not subscriber.deliver(payload):
                subscriber.end(
                    SubscriberTooSlow("The subscription fell too far behind and was ended; subscribe again.")
                )

    async def _disconnect(self, failure: BookgraphError, *, reader_exiting: bool = False) -> None:
        """Ends every subscriber with `failure` and drops the connection; the next subscriber reconnects."""
        pubsub, reader = self._pubsub, self._reader
        self._pubsub = self._reader = None
        for subscriber in {
            s for group in (*self._by_channel.values(), *self._by_pattern.values()) for s in group
        }:
            subscriber.end(failure)
        self._by_channel.clear()
        self._by_pattern.clear()
        if reader is not None and not reader_exiting:
            reader.cancel()
            # Waited for, with `asyncio.wait`: `wait_for` would wait on past its timeout for a reader
            # whose cancellation was swallowed, and it ends within a read anyway.
            await asyncio.wait({reader}, timeout=READ_SECONDS * 2)
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]


def _raise_if_cancelled() -> None:
    """redis-py (8.1) can swallow a cancellation that arrives while it sends or reads (as in
    redis/redis-py#2028): the task then goes on as if never cancelled, and a WebSocket handler
    waiting for it at shutdown waits forever. Cancelled is cancelled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
