"""checkout: idempotency keys on orders, machine-readable event reasons, pending-order index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("idempotency_key", sa.String(length=255), nullable=True))
    op.add_column("orders", sa.Column("request_hash", sa.String(length=64), nullable=True))
    op.create_unique_constraint(
        "uq_orders_customer_idempotency_key", "orders", ["customer_id", "idempotency_key"]
    )
    op.create_index(
        "ix_orders_pending", "orders", ["placed_at"], postgresql_where=sa.text("status = 'PENDING'")
    )
    op.add_column("order_events", sa.Column("code", sa.String(length=32), nullable=True))
    op.add_column("order_events", sa.Column("details", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("order_events", "details")
    op.drop_column("order_events", "code")
    op.drop_index("ix_orders_pending", table_name="orders", postgresql_where=sa.text("status = 'PENDING'"))
    op.drop_constraint("uq_orders_customer_idempotency_key", "orders", type_="unique")
    op.drop_column("orders", "request_hash")
    op.drop_column("orders", "idempotency_key")
