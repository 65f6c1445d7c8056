"""The orders store's tables (PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from datasources.orders.rows import OrderStatus

metadata = sa.MetaData()

_status_check = "status IN (" + ", ".join(f"'{s}'" for s in OrderStatus) + ")"

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    # The token's `sub`: the customer's identity comes from the identity provider.
    sa.Column("subject", sa.String(255), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("number", sa.String(32), nullable=False, unique=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("total_cents", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False, server_default="USD"),
    # The client's key for placing this order and a digest of what it asked for: a retry with the
    # same key returns this order, and the same key with other lines is refused.
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    sa.Column("request_hash", sa.String(64), nullable=True),
    sa.CheckConstraint(_status_check, name="ck_orders_status"),
    sa.UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_customer_idempotency_key"),
    # A customer's order history is read newest first.
    sa.Index("ix_orders_customer_placed", "customer_id", sa.text("placed_at DESC"), sa.text("id DESC")),
    # Recovery scans the orders a checkout left PENDING; there are only ever a few.
    sa.Index("ix_orders_pending", "placed_at", postgresql_where=sa.text(f"status = '{OrderStatus.PENDING}'")),
)

order_lines = sa.Table(
    "order_lines",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    # A book lives in the inventory store, so this is a reference, not a foreign key.
    sa.Column("book_id", sa.BigInteger, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_cents", sa.BigInteger, nullable=False),
    sa.CheckConstraint("quantity > 0", name="ck_order_lines_quantity_positive"),
    sa.Index("ix_order_lines_order_id", "order_id"),
    sa.Index("ix_order_lines_book_id", "book_id"),
)

order_events = sa.Table(
    "order_events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("note", sa.Text, nullable=True),
    # Why a transition happened, for machines: the error code and details of a rejection.
    sa.Column("code", sa.String(32), nullable=True),
    sa.Column("details", postgresql.JSONB, nullable=True),
    sa.Index("ix_order_events_order_id", "order_id", "occurred_at"),
)
