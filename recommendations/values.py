"""What recommendations are made of: the strategies, trends, weights and the recommendations
themselves, with the constants the algorithms share."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

SHRINK = 2.0
NEIGHBOURS = 50  # kept per book
LIST_SIZE = 100  # computed per customer; `first` is at most this
RECENT = 10  # purchases a customer's CONTENT list starts from (a vector search each)
RECENCY = 0.85  # weight of the k-th most recent purchase there: RECENCY ** k
# CO_PURCHASE reads further back, fading slower: on the demo data's tuning split (each customer's
# second-to-last order held out) HitRate@10 went from 0.198 (10 purchases, 0.85) to 0.218.
CO_PURCHASE_HISTORY = 30
CO_PURCHASE_RECENCY = 0.95
GENRE_HISTORY = 50  # purchases a customer's genres are read from
RECENCY_OF_GENRES = 0.95  # a genre's weight fades more slowly than a book's
TRENDING_WINDOW = timedelta(days=30)
TRENDING_PER_GENRE = 100
# Best sellers read when lists must be filled: enough to fill every genre's list in practice, and a
# bounded number of ids to look up genres for.
BEST_SELLERS = 20_000


class Strategy(StrEnum):
    CONTENT = "CONTENT"
    CO_PURCHASE = "CO_PURCHASE"
    TRENDING = "TRENDING"
    POPULAR_IN_GENRES = "POPULAR_IN_GENRES"
    HYBRID = "HYBRID"


class Period(StrEnum):
    """When a TRENDING book was popular."""

    RECENT = "RECENT"  # the TRENDING_WINDOW before now
    LATEST = "LATEST"  # the window ending at the store's latest sale, none being recent
    ALL_TIME = "ALL_TIME"  # over the whole history, where the window left a list short
    NEW = "NEW"  # nothing was ever sold: the newest books in stock


@dataclass(frozen=True, slots=True)
class Trend:
    book_id: int
    score: float
    period: Period
    until: datetime | None = None  # LATEST: the end of that window

    def as_json(self) -> list[Any]:
        return [self.book_id, self.score, self.period.value, self.until.isoformat() if self.until else None]

    @classmethod
    def from_json(cls, item: list[Any]) -> Trend:
        book_id, score, period, until = item
        return cls(book_id, score, Period(period), datetime.fromisoformat(until) if until else None)


@dataclass(frozen=True, slots=True)
class Weights:
    content: float = 0.3
    co_purchase: float = 0.5
    trending: float = 0.2
    genres: float = 0.0

    def as_json(self) -> dict[str, float]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Weights:
        return cls(**{field.name: float(item[field.name]) for field in dataclasses.fields(cls)})

    def of(self, strategy: Strategy) -> float:
        return {
            Strategy.CONTENT: self.content,
            Strategy.CO_PURCHASE: self.co_purchase,
            Strategy.POPULAR_IN_GENRES: self.genres,
        }.get(strategy, self.trending)


@dataclass(frozen=True, slots=True)
class Recommendation:
    book_id: int
    score: float
    strategy: Strategy
    because: int | None = None  # the bought book that led here
    genre: str | None = None  # where it is trending
    # When it was popular, for one that no bought book explains (TRENDING's part).
    period: Period | None = None
    until: datetime | None = None

    def as_json(self) -> list[Any]:
        period, until = (
            self.period.value if self.period else None,
            self.until.isoformat() if self.until else None,
        )
        return [
            self.book_id,
            round(self.score, 6),
            self.strategy.value,
            self.because,
            self.genre,
            period,
            until,
        ]

    @classmethod
    def from_json(cls, item: list[Any]) -> Recommendation:
        book_id, score, strategy, because, genre, *popular = item  # lists cached before `period` have 5
        period, until = popular or (None, None)
        return cls(
            book_id,
            score,
            Strategy(strategy),
            because,
            genre,
            Period(period) if period else None,
            datetime.fromisoformat(until) if until else None,
        )

    @classmethod
    def trending(cls, trend: Trend, strategy: Strategy, genre: str | None = None) -> Recommendation:
        return cls(trend.book_id, trend.score, strategy, genre=genre, period=trend.period, until=trend.until)

    def reason(self, titles: Mapping[int, str], genre: str | None) -> str:
        """Why this book, in words a shopper reads; `titles` names the books bought before it."""
        because = titles.get(self.because) if self.because is not None else None
        if because is not None:
            if self.strategy is Strategy.CO_PURCHASE:
                return f"Customers who bought “{because}” also bought this"
            return f"Because you bought “{because}”"
        where = genre or self.genre
        if self.period is None or self.period is Period.RECENT:
            return f"Popular in {where} lately" if where else "Popular with readers lately"
        if self.period is Period.LATEST and self.until is not None:
            month = f"{self.until:%B %Y}"
            return f"Popular in {where} in {month}" if where else f"Popular with readers in {month}"
        if self.period is Period.NEW:
            return f"New in {where}" if where else "New in the catalog"
        return f"A best seller in {where}" if where else "One of our best sellers"


# A strategy's candidates: book → (score, the bought book that explains it, if any).
Candidates = dict[int, tuple[float, int | None]]
