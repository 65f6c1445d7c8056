"""The inventory store's tables (SQLite by default; any SQLAlchemy database)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

authors = sa.Table(
    "authors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
)

books = sa.Table(
    "books",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("isbn", sa.String(13), nullable=False, unique=True),
    sa.Column("title", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("published_year", sa.Integer, nullable=False),
    # Money is stored in minor units so sums and comparisons are exact.
    sa.Column("price_cents", sa.Integer, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("price_cents >= 0", name="ck_books_price_non_negative"),
    sa.Index("ix_books_title_id", "title", "id"),
    sa.Index("ix_books_price_id", "price_cents", "id"),
    sa.Index("ix_books_year_id", "published_year", "id"),
)

book_authors = sa.Table(
    "book_authors",
    metadata,
    sa.Column("book_id", sa.ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("author_id", sa.ForeignKey("authors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_book_authors_author_id", "author_id", "book_id"),
)

book_genres = sa.Table(
    "book_genres",
    metadata,
    sa.Column("book_id", sa.ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("genre", sa.String(100), primary_key=True),
    # Copies of the book's sort keys, written with the book: a genre page ordered by any of them
    # walks one index range instead of sorting or scanning the whole catalog.
    sa.Column("title", sa.String(500), nullable=False, server_default=""),
    sa.Column("price_cents", sa.Integer, nullable=False, server_default="0"),
    sa.Column("published_year", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_book_genres_genre", "genre", "book_id"),
    sa.Index("ix_book_genres_genre_title", "genre", "title", "book_id"),
    sa.Index("ix_book_genres_genre_price", "genre", "price_cents", "book_id"),
    sa.Index("ix_book_genres_genre_year", "genre", "published_year", "book_id"),
)

stock_levels = sa.Table(
    "stock_levels",
    metadata,
    sa.Column("book_id", sa.ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("on_hand", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # The search index follows the book through these two counters (indexing.IndexFollower):
    # `search_version` goes up in the same transaction as any change the search payload must show
    # (availability crossing zero, an import rewriting the book), `search_applied` records the
    # highest version written to the index. The book waits for the index while they differ.
    sa.Column("search_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("search_applied", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("on_hand >= 0", name="ck_stock_on_hand_non_negative"),
    sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="ck_stock_reserved_bounds"),
    # Only the books still waiting for the index: the follower's look-up stays small however
    # large the catalog.
    sa.Index(
        "ix_stock_levels_search_pending",
        "book_id",
        sqlite_where=sa.text("search_version > search_applied"),
        postgresql_where=sa.text("search_version > search_applied"),
    ),
)

RESERVATION_STATUSES = ("HELD", "RELEASED", "SHIPPED")

# One row per (order, book): the copies an order holds. Keyed by the order id so that reserving,
# releasing and shipping are idempotent: a retried step finds its own earlier work.
stock_reservations = sa.Table(
    "stock_reservations",
    metadata,
    sa.Column("order_id", sa.BigInteger, primary_key=True),
    sa.Column("book_id", sa.ForeignKey("books.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.CheckConstraint("quantity > 0", name="ck_stock_reservations_quantity_positive"),
    sa.CheckConstraint(
        "status IN (" + ", ".join(f"'{s}'" for s in RESERVATION_STATUSES) + ")",
        name="ck_stock_reservations_status",
    ),
    # Recovery looks for reservations still held.
    sa.Index("ix_stock_reservations_status", "status", "order_id"),
)
