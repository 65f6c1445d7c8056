import dataclasses
import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from bench.runner import BOOKS as BENCH_BOOKS
from catalog import demo
from catalog.demo import GENRES, generate_catalog, generate_customers, generate_orders
from catalog.records import BookRecord, CustomerRecord, OrderRecord
from catalog.vocabulary import Genre, Template
from cli.commands import DEFAULT_BOOKS

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and the of to in on for with from by as at is it its this that be are will who what"
        " how their them they you your every one all into over through about or not can has have"
        " his her our we us each more most than when while which until before after book story"
        " readers reader perfect",
    )
)


@pytest.fixture(scope="module")
def catalog() -> list[BookRecord]:
    return generate_catalog(2000)


@pytest.fixture(scope="module")
def customers() -> list[CustomerRecord]:
    return generate_customers(300)


@pytest.fixture(scope="module")
def orders(catalog: list[BookRecord], customers: list[CustomerRecord]) -> list[OrderRecord]:
    return list(generate_orders(catalog, customers, 3000, now=NOW))


def isbn13_is_valid(isbn: str) -> bool:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(isbn[:12]))
    return (10 - total % 10) % 10 == int(isbn[12])


def top_words(texts: list[str], n: int = 10) -> set[str]:
    words = Counter(w for text in texts for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS)
    return {w for w, _ in words.most_common(n)}


def test_same_seed_same_data_and_other_seed_other_data() -> None:
    assert generate_catalog(200, seed=7) == generate_catalog(200, seed=7)
    assert generate_catalog(200, seed=7) != generate_catalog(200, seed=8)
    assert generate_customers(50, seed=7) == generate_customers(50, seed=7)
    assert generate_customers(50, seed=7) != generate_customers(50, seed=8)
    books, people = generate_catalog(200, seed=7), generate_customers(50, seed=7)
    first = list(generate_orders(books, people, 100, seed=7, now=NOW))
    assert first == list(generate_orders(books, people, 100, seed=7, now=NOW))
    assert first != list(generate_orders(books, people, 100, seed=8, now=NOW))


@pytest.mark.parametrize("now", [NOW, NOW + timedelta(days=3 * 365 + 17)])
def test_the_history_ends_at_now_and_moves_with_it(now: datetime) -> None:
    books, people = generate_catalog(50), generate_customers(10)
    history = list(generate_orders(books, people, 400, now=now))
    placed = [order.placed_at for order in history]
    assert max(placed) <= now and min(placed) >= now - timedelta(days=730)
    # A growing shop: the last month has its share of the orders, whatever day it is generated.
    assert sum(p >= now - timedelta(days=30) for p in placed) >= 10
    # Everything but the dates is fixed by the seed.
    later = list(generate_orders(books, people, 400, now=now + timedelta(days=100)))
    assert [dataclasses.replace(o, placed_at=NOW) for o in later] == [
        dataclasses.replace(o, placed_at=NOW) for o in history
    ]
    assert all(b.placed_at - a.placed_at == timedelta(days=100) for a, b in zip(history, later, strict=True))


def test_sizes_are_honoured(catalog, customers, orders) -> None:
    assert (len(catalog), len(customers), len(orders)) == (2000, 300, 3000)
    assert generate_catalog(0) == [] and generate_customers(0) == []
    assert list(generate_orders(catalog, customers, 0, now=NOW)) == []
    with pytest.raises(ValueError):
        generate_catalog(-1)


def test_isbns_are_valid_unique_isbn13(catalog) -> None:
    isbns = [book.isbn for book in catalog]
    assert len(set(isbns)) == len(isbns)
    for isbn in isbns:
        assert re.fullmatch(r"978\d{10}", isbn), isbn
        assert isbn13_is_valid(isbn), isbn


def test_books_cover_the_genres_with_several_authors_each(catalog) -> None:
    assert len(GENRES) == 24 and len(set(GENRES)) == 24
    used = Counter(genre for book in catalog for genre in book.genres)
    assert len(used) >= 20 and set(used) <= set(GENRES)
    assert all(len(book.genres) in (1, 2) and len(set(book.genres)) == len(book.genres) for book in catalog)
    assert 0.2 < sum(len(book.genres) == 2 for book in catalog) / len(catalog) < 0.4
    assert all(len(book.authors) in (1, 2) for book in catalog)
    authors_by_genre: dict[str, Counter[str]] = {}
    for book in catalog:
        authors_by_genre.setdefault(book.genres[0], Counter()).update(book.authors)
    for genre, authors in authors_by_genre.items():
        assert len(authors) >= 5, genre
        assert authors.most_common(1)[0][1] >= 3, genre  # an author writes many books


def test_prices_years_and_stock_are_plausible(catalog) -> None:
    for book in catalog:
        assert isinstance(book.price, Decimal) and book.price.as_tuple().exponent == -2
        assert Decimal("4.99") < book.price < Decimal("60")
        assert 1950 <= book.published_year <= 2026
        assert 0 <= book.stock <= 120
    assert sum(book.published_year > 1990 for book in catalog) > 0.8 * len(catalog)
    assert any(book.stock == 0 for book in catalog) and any(book.stock > 0 for book in catalog)

    def mean_price(genre: str) -> Decimal:
        prices = [book.price for book in catalog if book.genres[0] == genre]
        return sum(prices, Decimal(0)) / len(prices)

    assert mean_price("Children's") < mean_price("Science Fiction") < mean_price("Cooking")


def test_descriptions_have_sentences_and_genre_vocabulary(catalog) -> None:
    for book in catalog:
        assert len(re.findall(r"[.!?](?:\s|$)", book.description)) >= 3, book.description
        assert book.title and "{" not in book.title + book.description

    def texts(genre: str) -> list[str]:
        return [b.description for b in catalog if b.genres == (genre,)]

    cooking = top_words(texts("Cooking"))
    scifi = top_words(texts("Science Fiction"))
    mystery = top_words(texts("Mystery"))
    assert len(cooking & scifi) <= 2, (cooking, scifi)
    assert len(mystery & scifi) <= 2, (mystery, scifi)
    assert {"recipes", "cooking"} & cooking
    assert {"murder", "village", "mystery"} & mystery


VOLUME = re.compile(r", Volume \d+$")
STUTTER = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)  # "Hollow Hollow", "The the Outer Rim Colony"


def test_every_title_in_the_demo_catalog_is_distinct_and_natural() -> None:
    books = generate_catalog(DEFAULT_BOOKS)  # what `bookgraph serve --demo-data` loads
    titles = [book.title for book in books]
    assert len(set(titles)) == len(titles) == 5000
    assert not [title for title in titles if VOLUME.search(title)]
    # Distinct, yet mostly short titles: the long templates with subtitles are not all that is left.
    assert sum(": " in title for title in titles) < len(titles) / 3
    assert sum(len(title.split()) for title in titles) / len(titles) < 6


def test_every_title_at_the_bench_scale_is_distinct() -> None:
    titles = [book.title for book in generate_catalog(BENCH_BOOKS)]  # `bookgraph bench --scale 1`
    assert len(set(titles)) == len(titles) == 100_000
    assert sum(bool(VOLUME.search(title)) for title in titles) <= 10  # a last resort, kept rare
    assert not [title for title in titles if STUTTER.search(title)]


def test_a_genre_out_of_titles_continues_as_later_volumes() -> None:
    words = {"Adj": ("Hollow", "Silent")}
    tiny = Genre(1, (5, 9), (), "tiny", ("A. Author",), (Template("The {Adj} House", words),), ())
    rng, taken = random.Random(0), set[str]()
    titles = [demo._title(rng, tiny, {}, taken) for _ in range(6)]
    assert len(set(titles)) == 6
    assert set(titles[:2]) == {"The Hollow House", "The Silent House"}
    volumes: dict[str, list[int]] = {}
    for title in titles[2:]:
        series, _, volume = title.partition(", Volume ")
        volumes.setdefault(series, []).append(int(volume))
    assert set(volumes) <= {"The Hollow House", "The Silent House"}
    assert all(numbers == list(range(2, len(numbers) + 2)) for numbers in volumes.values())


def test_a_title_and_its_description_share_their_people(catalog) -> None:
    lives = [book for book in catalog if book.title.endswith(": A Life") and "overcame" in book.description]
    assert lives
    for book in lives:
        born = re.search(r"Born in [^,]+, (.+?) overcame", book.description)
        assert born and book.title == f"{born.group(1)}: A Life", (book.title, book.description)


def test_customers_have_demo_subjects_unique_emails_and_tastes(customers) -> None:
    assert [c.subject for c in customers] == [f"demo-customer-{i}" for i in range(1, 301)]
    emails = [c.email for c in customers]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9.]+@example\.com", e) for e in emails)
    for customer in customers:
        assert len(customer.name.split()) >= 2
        assert 1 <= len(customer.favourite_genres) <= 3
        assert len(set(customer.favourite_genres)) == len(customer.favourite_genres)
        assert set(customer.favourite_genres) <= set(GENRES)


def test_orders_are_numbered_and_in_time_order(orders) -> None:
    assert [o.number for o in orders] == [f"BG-{i:07d}" for i in range(1, 3001)]
    times = [o.placed_at for o in orders]
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
    assert all(a < b for a, b in pairwise(times))
    assert NOW - timedelta(days=731) <= times[0] and times[-1] <= NOW
    assert times[-1] - times[0] > timedelta(days=600)  # spread over the two years


def test_order_lines_and_statuses(catalog, customers, orders) -> None:
    isbns = {book.isbn for book in catalog}
    subjects = {c.subject for c in customers}
    for order in orders:
        assert order.customer_subject in subjects
        assert 1 <= len(order.lines) <= 4
        assert len({line.isbn for line in order.lines}) == len(order.lines)
        assert all(line.isbn in isbns and line.quantity >= 1 for line in order.lines)
        if NOW - order.placed_at > timedelta(days=30):
            assert order.status in {"DELIVERED", "CANCELLED", "REJECTED"}
    statuses = Counter(o.status for o in orders)
    assert statuses.most_common(1)[0][0] == "DELIVERED"
    assert {"CONFIRMED", "SHIPPED", "CANCELLED"} <= set(statuses)
    assert "PENDING" not in statuses  # only a running checkout is PENDING
    assert 1.8 < sum(len(o.lines) for o in orders) / len(orders) < 2.6


def test_orders_follow_tastes_popularity_and_co_purchases(catalog, customers, orders) -> None:
    books = {book.isbn: book for book in catalog}
    tastes = {c.subject: set(c.favourite_genres) for c in customers}
    lines = [(o.customer_subject, line.isbn) for o in orders for line in o.lines]
    in_taste = sum(bool(tastes[who] & set(books[isbn].genres)) for who, isbn in lines)
    assert in_taste / len(lines) > 0.6

    sold = Counter(isbn for _, isbn in lines)
    top_share = sum(n for _, n in sold.most_common(len(catalog) // 10)) / len(lines)
    assert top_share > 0.3  # popularity: the top 10% of books sell far more than 10%

    def shares_author(basket: list[str]) -> bool:
        seen: set[str] = set()
        for isbn in basket:
            if seen & set(books[isbn].authors):
                return True
            seen |= set(books[isbn].authors)
        return False

    baskets = [[line.isbn for line in o.lines] for o in orders if len(o.lines) > 1]
    observed = sum(map(shares_author, baskets)) / len(baskets)
    # Baseline: the same books, shuffled across the same basket sizes (popularity kept).
    pool = [isbn for basket in baskets for isbn in basket]
    random.Random(0).shuffle(pool)
    shuffled, start = [], 0
    for basket in baskets:
        shuffled.append(pool[start : start + len(basket)])
        start += len(basket)
    baseline = sum(map(shares_author, shuffled)) / len(shuffled)
    assert observed > 0.2 and observed > 4 * baseline, (observed, baseline)


def test_orders_are_lazy(catalog, customers) -> None:
    history = generate_orders(catalog, customers, 10**9, now=NOW)  # would never fit if eager
    assert next(history).number == "BG-0000001"


def _continued(catalog: list[BookRecord], history: list[OrderRecord]) -> float:
    """The share of order lines by an author the customer had bought from in an earlier order."""
    authors = {book.isbn: set(book.authors) for book in catalog}
    seen: dict[str, set[str]] = {}
    continued = lines = 0
    for order in history:
        before = seen.setdefault(order.customer_subject, set())
        for line in order.lines:
            lines += 1
            continued += bool(authors[line.isbn] & before)
        for line in order.lines:
            before |= authors[line.isbn]
    return continued / lines


def test_following_customers_continue_from_what_they_bought(
    catalog: list[BookRecord], customers: list[CustomerRecord], orders: list[OrderRecord]
) -> None:
    following = list(generate_orders(catalog, customers, 3000, now=NOW, habits=demo.Habits.FOLLOWING))
    assert len(following) == 3000 and following != orders
    # A history of another structure: what a customer buys next follows from what they bought
    # before more often than when they browse their genres (where an author's other books are
    # often on the same shelves anyway: about 0.46 here, against 0.56).
    assert _continued(catalog, following) > _continued(catalog, orders) + 0.05
    # Browsing stays what it was: the default habit draws exactly the same orders.
    assert list(generate_orders(catalog, customers, 3000, now=NOW, habits=demo.Habits.BROWSING)) == orders
