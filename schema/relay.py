"""Relay plumbing: opaque global IDs, the Node interface, cursors and connections."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
import strawberry

from datasources.pages import Page, SortKey
from errors import BadUserInput

T = TypeVar("T")

MAX_PAGE_SIZE = 100


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("="))


def from_global_id(global_id: str) -> tuple[str, int]:
    """(type name, primary key); a malformed ID is the client's mistake, said clearly."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        key = int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(f"{global_id!r} is not a valid ID.", argument="id") from None
    # Keys are positive 64-bit integers in every store; anything else names nothing.
    if not 0 < key < 2**63:
        raise BadUserInput(f"{global_id!r} is not a valid ID.", argument="id")
    return type_name, key


def pk_of(global_id: str, expected: str) -> int:
    type_name, pk = from_global_id(global_id)
    if type_name != expected:
        raise BadUserInput(f"{global_id!r} is not the ID of a {expected}.", argument="id")
    return pk


def encode_cursor(tag: str, key: SortKey) -> str:
    value, pk = key
    if isinstance(value, dt.datetime):
        value = {"t": value.isoformat()}
    return base64.urlsafe_b64encode(orjson.dumps([tag, value, pk])).decode().rstrip("=")


def decode_cursor(cursor: str | None, tag: str) -> SortKey | None:
    """The sort key a cursor stands for; a cursor from another ordering is refused."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        cursor_tag, value, pk = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(value, dict):
            value = dt.datetime.fromisoformat(value["t"])
        scalar = value is None or isinstance(value, str | int | float | dt.datetime)
        if cursor_tag == tag and isinstance(pk, int) and 0 <= pk < 2**63 and scalar:
            return value, pk
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        pass
    raise BadUserInput("`after` is not a cursor of this list (or its ordering changed).", argument="after")


@dataclass(frozen=True, slots=True)
class Ranking:
    """Positions in one ranked list (a search's hits, best first): a cursor is a position, tied by
    the tag to what was ranked, so a cursor of another query or filter is refused."""

    tag: str

    @classmethod
    def of(cls, kind: str, *ranked_by: object) -> Ranking:
        key = "|".join(map(str, ranked_by)).encode()
        return cls(f"{kind}:{hashlib.blake2b(key, digest_size=6).hexdigest()}")

    def offset(self, after: str | None) -> int:
        """How many items come before the page that starts after the cursor `after`."""
        position = decode_cursor(after, self.tag)
        return int(position[0]) if position else 0

    def cursor(self, position: int) -> str:
        """The cursor after the `position`-th item (1 for the first)."""
        return encode_cursor(self.tag, (position, 0))


def check_first(first: int, minimum: int = 0) -> int:
    """A page's `first`: 0 to 100 for a connection (0 asks for `totalCount` or `pageInfo` only),
    1 to 100 for a ranked list."""
    if not minimum <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between {minimum} and {MAX_PAGE_SIZE}.", argument="first")
    return first


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list, with cursors to fetch the next page.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list has (costs one more statement).")
    async def total_count(self) -> int:
        return await self._count()

    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @classmethod
    def of(
        cls,
        page: Page[Any],
        tag: str,
        node: Callable[[Any], T],
        count: Callable[[], Awaitable[int]],
    ) -> Connection[T]:
        cursors = [encode_cursor(tag, key) for key in page.keys]
        return cls(
            edges=[Edge(cursor=c, node=node(item)) for c, item in zip(cursors, page.items, strict=True)],
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            _count=count,
        )
