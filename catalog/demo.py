"""Deterministic demo data: a genre-flavoured book catalog, customers and an order history."""

from __future__ import annotations

import math
import random
import re
import unicodedata
from bisect import bisect
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from itertools import accumulate
from typing import TypeVar

from catalog.records import BookRecord, CustomerRecord, OrderLineRecord, OrderRecord
from catalog.vocabulary import SHARED_SLOTS, Genre, read_vocabulary

T = TypeVar("T")

_VOCABULARY = read_vocabulary()  # read and checked at import: a typo fails loudly, not mid-seed
_GENRES = _VOCABULARY.genres
GENRES: tuple[str, ...] = tuple(_GENRES)
# Diverse invented names: customers, story characters and extra authors for big catalogs.
FIRST_NAMES = _VOCABULARY.first_names
LAST_NAMES = _VOCABULARY.last_names
_GENRE_CUM = list(accumulate(genre.weight for genre in _GENRES.values()))

# Price endings: most books end in .99, some in .95/.50/.00, a few in odd cents.
_CENTS = tuple(Decimal(c) for c in ("0.99", "0.95", "0.50", "0.00", "0.49", "0.25"))
_CENTS_CUM = list(accumulate((62, 14, 10, 8, 3, 3)))
_BOOKS_PER_AUTHOR = 25  # big catalogs get extra generated authors beyond this density
# A word that repeats its template's ("Hollow Hollow", "The the Outer Rim") reads as a typo.
_STUTTER = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)
_TITLE_DRAWS = 100  # fresh titles tried before a book becomes a later volume of a taken one
_MAX_AUTHORS_PER_GENRE = 300  # keeps generated names well inside FIRST x LAST combinations


def _rng(seed: int, purpose: str) -> random.Random:
    """An independent stream per purpose: string seeds are hashed stably (not PYTHONHASHSEED)."""
    return random.Random(f"bookgraph-demo:{purpose}:{seed}")


def _weighted(rng: random.Random, items: Sequence[T], cum: Sequence[float]) -> T:
    """A weighted pick by bisecting precomputed cumulative weights (cheaper than choices())."""
    return items[bisect(cum, rng.random() * cum[-1], 0, len(cum) - 1)]


def _check_count(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


# --- catalog -----------------------------------------------------------------------------------


def _isbn13(body: int) -> str:
    """978 + a 9-digit body + check digit; bodies below 2*10**8 read as English-language groups."""
    digits = f"978{body:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def _author_pools(
    rng: random.Random, books_per_genre: Counter[str]
) -> dict[str, tuple[tuple[str, ...], list[float]]]:
    """Per genre: its author names and cumulative weights (a few authors write most books)."""
    taken = {name for genre in _GENRES.values() for name in genre.authors}
    pools: dict[str, tuple[tuple[str, ...], list[float]]] = {}
    for name, genre in _GENRES.items():
        authors = list(genre.authors)
        wanted = min(_MAX_AUTHORS_PER_GENRE, math.ceil(books_per_genre[name] / _BOOKS_PER_AUTHOR))
        while len(authors) < wanted:
            candidate = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if candidate not in taken:
                taken.add(candidate)
                authors.append(candidate)
        weights = accumulate((rank + 2) ** -0.7 for rank in range(len(authors)))
        pools[name] = (tuple(authors), list(weights))
    return pools


def _pick_authors(rng: random.Random, pool: tuple[tuple[str, ...], list[float]]) -> tuple[str, ...]:
    names, cum = pool
    first = _weighted(rng, names, cum)
    if rng.random() < 0.85:
        return (first,)
    second = first
    while second == first:
        second = _weighted(rng, names, cum)
    return (first, second)


def _title(rng: random.Random, genre: Genre, chosen: dict[str, str], taken: set[str]) -> str:
    """A title no earlier book has: fresh draws first, then the first draw's next free volume."""
    drawn: list[tuple[str, dict[str, str]]] = []
    for _ in range(_TITLE_DRAWS):
        picks: dict[str, str] = {}
        title = rng.choice(genre.titles).fill(rng, picks)
        if _STUTTER.search(title):
            continue
        if title not in taken:
            break
        drawn.append((title, picks))
    else:
        # The genre's words are too few for this many books; the vocabulary file needs more.
        series, picks = drawn[0] if drawn else (title, picks)
        volume = 2
        while f"{series}, Volume {volume}" in taken:
            volume += 1
        title = f"{series}, Volume {volume}"
    taken.add(title)
    chosen.update(picks)  # the title's hero is the description's hero
    return title


def _description(rng: random.Random, genres: tuple[str, ...], chosen: dict[str, str]) -> str:
    main = _GENRES[genres[0]].sentences
    count = rng.choice((3, 4, 4, 5))
    sentences = [template.fill(rng, chosen) for template in rng.sample(main, count)]
    if len(genres) > 1:
        # The second genre fills its own slots (its words show up) but keeps the same people.
        people = {slot: chosen[slot] for slot in SHARED_SLOTS if slot in chosen}
        guest = rng.choice(_GENRES[genres[1]].sentences).fill(rng, people)
        sentences[rng.randrange(1, count)] = guest
        if rng.random() < 0.5:
            labels = {"a": _GENRES[genres[0]].label, "b": _GENRES[genres[1]].label}
            sentences.insert(1, rng.choice(_VOCABULARY.blends).format_map(labels))
            del sentences[5:]
    return " ".join(sentences)


def _price(rng: random.Random, genre: Genre) -> Decimal:
    low, high = genre.price
    whole = low + int((high - low + 1) * rng.random() ** 1.3)  # skewed towards cheaper books
    return Decimal(whole) + _weighted(rng, _CENTS, _CENTS_CUM)


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.08:
        return 0  # out of stock
    if roll < 0.18:
        return rng.randint(1, 5)  # running low
    return 6 + int(115 * rng.random() ** 1.6)


def generate_catalog(books: int, *, seed: int = 42) -> list[BookRecord]:
    """`books` books with unique ISBN-13s; the same arguments always give the same catalog."""
    _check_count("books", books)
    rng = _rng(seed, "catalog")
    primaries = rng.choices(GENRES, cum_weights=_GENRE_CUM, k=books)
    pools = _author_pools(_rng(seed, "authors"), Counter(primaries))
    bodies = rng.sample(range(2 * 10**8), books)
    catalog: list[BookRecord] = []
    titles: set[str] = set()
    for primary, body in zip(primaries, bodies, strict=True):
        genre = _GENRES[primary]
        genres = (primary, rng.choice(genre.related)) if rng.random() < 0.3 else (primary,)
        chosen: dict[str, str] = {}  # shared by title and description: one book, one story
        catalog.append(
            BookRecord(
                isbn=_isbn13(body),
                title=_title(rng, genre, chosen, titles),
                authors=_pick_authors(rng, pools[primary]),
                description=_description(rng, genres, chosen),
                genres=genres,
                # Mostly recent books: mean age 12 years, so only ~5% predate 1990.
                published_year=2026 - min(76, int(rng.expovariate(1 / 12))),
                price=_price(rng, genre),
                stock=_stock(rng),
            )
        )
    return catalog


# --- customers ---------------------------------------------------------------------------------


def _email_part(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_name.lower() if c.isalnum())


def _favourites(rng: random.Random) -> tuple[str, ...]:
    """1-3 genres; later picks lean to genres related to the first, as real tastes cluster."""
    count = rng.choices((1, 2, 3), weights=(35, 45, 20))[0]
    first = _weighted(rng, GENRES, _GENRE_CUM)
    picks = [first]
    while len(picks) < count:
        if rng.random() < 0.5:
            candidate = rng.choice(_GENRES[first].related)
        else:
            candidate = _weighted(rng, GENRES, _GENRE_CUM)
        if candidate not in picks:
            picks.append(candidate)
    return tuple(picks)


def generate_customers(customers: int, *, seed: int = 42) -> list[CustomerRecord]:
    """Customers demo-customer-1..n with invented names and unique example.com emails."""
    _check_count("customers", customers)
    rng = _rng(seed, "customers")
    people: list[CustomerRecord] = []
    for i in range(1, customers + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        people.append(
            CustomerRecord(
                subject=f"demo-customer-{i}",
                name=f"{first} {last}",
                email=f"{_email_part(first)}.{_email_part(last)}{i}@example.com",
                favourite_genres=_favourites(rng),
            )
        )
    return people


# --- orders ------------------------------------------------------------------------------------

_HISTORY = timedelta(days=730)
_LINE_COUNTS = (1, 2, 3, 4)
_LINE_COUNTS_CUM = list(accumulate((30, 33, 22, 15)))  # mean ~2.2 lines per order
_QUANTITIES = (1, 2, 3)
_QUANTITIES_CUM = list(accumulate((85, 11, 4)))
_FAVOURITE_SHARE = 0.8  # of base picks; the rest come from the whole catalog
_CO_PURCHASE = 0.35  # chance a further line follows an earlier line's author or companions
_COMPANIONS = 3
# FOLLOWING: the chance a line continues from one of the customer's last purchases, how far back
# it looks, and a flatter popularity (1 / rank^0.5), so that what a customer bought before says
# more than what everyone buys.
_FOLLOW = 0.6
_FOLLOW_BACK = 10
_FOLLOWING_POPULARITY = 0.5


class Habits(StrEnum):
    """How the demo's customers shop: the second habit makes a history of another structure, for
    judging recommendations on more than one kind of shop."""

    BROWSING = "browsing"  # favourite genres by popularity; a basket's lines follow each other
    FOLLOWING = "following"  # each order also continues from the customer's earlier purchases


# (orders younger than this many days, statuses, cumulative weights): fresh orders are still
# moving through the pipeline; anything older than 30 days has settled. None is PENDING: that
# status lasts only while a checkout runs.
_STATUS_BY_AGE: tuple[tuple[float, tuple[str, ...], list[int]], ...] = tuple(
    (age, tuple(statuses.split()), list(accumulate(weights)))
    for age, statuses, weights in (
        (1, "CONFIRMED CANCELLED", (95, 5)),
        (3, "CONFIRMED SHIPPED CANCELLED", (60, 38, 2)),
        (10, "CONFIRMED SHIPPED DELIVERED CANCELLED", (5, 55, 38, 2)),
        (30, "SHIPPED DELIVERED CANCELLED REJECTED", (8, 88, 3, 1)),
        (math.inf, "DELIVERED CANCELLED REJECTED", (95, 4, 1)),
    )
)


class _Shop:
    """What customers buy from: popularity, genre shelves, author shelves and companions."""

    def __init__(self, catalog: Sequence[BookRecord], rng: random.Random, exponent: float = 0.9) -> None:
        self.books = list({book.isbn: book for book in catalog}.values())
        count = len(self.books)
        # Zipf-like popularity: a random rank per book, weight 1 / rank^exponent.
        ranks = list(range(1, count + 1))
        rng.shuffle(ranks)
        self.popularity = [rank**-exponent for rank in ranks]
        self.all_books = list(range(count))
        self.all_cum = list(accumulate(self.popularity))
        shelves: dict[str, list[int]] = {}
        by_author: dict[str, list[int]] = {}
        for index, book in enumerate(self.books):
            for genre in book.genres:
                shelves.setdefault(genre, []).append(index)
            for author in book.authors:
                by_author.setdefault(author, []).append(index)
        self.shelves = {
            genre: (members, list(accumulate(self.popularity[i] for i in members)))
            for genre, members in shelves.items()
        }
        self.by_author = by_author
        # Companions: each book's next few neighbours in a seeded shuffle of its main genre,
        # a fixed "also bought" set that popularity alone does not explain.
        self.companions: list[tuple[int, ...]] = [()] * count
        for genre, members in shelves.items():
            ring = [i for i in members if self.books[i].genres[0] == genre]
            rng.shuffle(ring)
            for position, index in enumerate(ring):
                after = (ring[(position + k) % len(ring)] for k in range(1, _COMPANIONS + 1))
                self.companions[index] = tuple(i for i in after if i != index)

    def base_pick(self, rng: random.Random, favourites: tuple[str, ...]) -> int:
        if favourites and rng.random() < _FAVOURITE_SHARE:
            members, cum = self.shelves[rng.choice(favourites)]
            return _weighted(rng, members, cum)
        return _weighted(rng, self.all_books, self.all_cum)

    def co_pick(self, rng: random.Random, anchor: int) -> int:
        same_author = self.by_author[rng.choice(self.books[anchor].authors)]
        companions = self.companions[anchor]
        if len(same_author) > 1 and (rng.random() < 0.5 or not companions):
            return rng.choice(same_author)
        return rng.choice(companions) if companions else anchor

    def basket(
        self, rng: random.Random, favourites: tuple[str, ...], earlier: Sequence[int] = ()
    ) -> list[int]:
        """`earlier`: the customer's last purchases, which a line may continue from (FOLLOWING)."""
        picked: list[int] = []
        for _ in range(_weighted(rng, _LINE_COUNTS, _LINE_COUNTS_CUM)):
            for _attempt in range(4):  # retry a duplicate a few times, then drop the line
                if picked and rng.random() < _CO_PURCHASE:
                    book = self.co_pick(rng, rng.choice(picked))
                elif earlier and rng.random() < _FOLLOW:
                    book = self.co_pick(rng, rng.choice(earlier))
                else:
                    book = self.base_pick(rng, favourites)
                if book not in picked:
                    picked.append(book)
                    break
        return picked


def _status(rng: random.Random, age_days: float) -> str:
    for limit, statuses, cum in _STATUS_BY_AGE:
        if age_days < limit:
            return _weighted(rng, statuses, cum)
    raise AssertionError("unreachable: the last age limit is infinite")


def _order_times(rng: random.Random, orders: int, now: datetime) -> Iterator[datetime]:
    """Sorted times in the 2 years before `now`, streamed without holding them all in memory.

    The next order statistic of k uniforms above `current` is current + (1 - current) *
    (1 - U ** (1 / k)); a final power < 1 puts more orders in recent months (a growing shop).
    """
    span = int(_HISTORY.total_seconds())
    start = now - _HISTORY
    current, last = 0.0, 0
    for remaining in range(orders, 0, -1):
        current += (1.0 - current) * (1.0 - rng.random() ** (1.0 / remaining))
        offset = min(span, max(last + 1, round(current**0.8 * span)))  # strictly increasing
        last = offset
        yield start + timedelta(seconds=offset)


def generate_orders(
    catalog: Sequence[BookRecord],
    customers: Sequence[CustomerRecord],
    orders: int,
    *,
    seed: int = 42,
    now: datetime,
    habits: Habits = Habits.BROWSING,
) -> Iterator[OrderRecord]:
    """`orders` orders BG-0000001.. in time order over the 2 years before `now`, lazily, by customers
    shopping with `habits`.

    `now` is the one input that is not fixed by the seed: a history generated today must end today,
    or everything that looks at recent sales (TRENDING) finds none. The same seed and `now` give the
    same orders; another `now` gives the same orders shifted in time."""
    _check_count("orders", orders)
    if orders and (not catalog or not customers):
        raise ValueError("orders need a non-empty catalog and at least one customer")
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    if not orders:
        return iter(())
    rng = _rng(seed, "orders")
    following = habits is Habits.FOLLOWING
    shop = _Shop(catalog, rng, _FOLLOWING_POPULARITY if following else 0.9)
    # Lognormal activity: most customers order now and then, a few order a lot.
    activity = list(accumulate(rng.lognormvariate(0.0, 1.0) for _ in customers))
    tastes = [
        tuple(genre for genre in person.favourite_genres if genre in shop.shelves) for person in customers
    ]
    return _orders(rng, shop, customers, tastes, activity, orders, now, following=following)


def _orders(
    rng: random.Random,
    shop: _Shop,
    customers: Sequence[CustomerRecord],
    tastes: list[tuple[str, ...]],
    activity: list[float],
    orders: int,
    now: datetime,
    *,
    following: bool = False,
) -> Iterator[OrderRecord]:
    people = list(range(len(customers)))
    bought: list[list[int]] = [[] for _ in people]
    for number, placed_at in enumerate(_order_times(rng, orders, now), start=1):
        who = _weighted(rng, people, activity)
        books = shop.basket(rng, tastes[who], bought[who][-_FOLLOW_BACK:] if following else ())
        if following:
            bought[who].extend(books)
        lines = tuple(
            OrderLineRecord(
                isbn=shop.books[book].isbn,
                quantity=_weighted(rng, _QUANTITIES, _QUANTITIES_CUM),
            )
            for book in books
        )
        age_days = (now - placed_at).total_seconds() / 86400
        yield OrderRecord(
            number=f"BG-{number:07d}",
            customer_subject=customers[who].subject,
            placed_at=placed_at,
            status=_status(rng, age_days),
            lines=lines,
        )
