"""A page of a list and the key it is cut at: the values the schema's connections are made of, free
of any driver (`paging` builds them from SQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

SortKey = tuple[Any, int]  # (value of the sort column, id): unique, so pages never overlap


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    keys: list[SortKey]
    has_next: bool
    has_previous: bool


def page_of(items: Sequence[T], keys: Sequence[SortKey], first: int, after: SortKey | None) -> Page[T]:
    """Build a page from up to first + 1 fetched rows: the extra row only says a next page exists."""
    return Page(
        items=list(items[:first]),
        keys=list(keys[:first]),
        has_next=len(items) > first,
        has_previous=after is not None,
    )
