"""search versions on stock levels: the index follows stock and imports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

PENDING = "search_version > search_applied"


def upgrade() -> None:
    """Every book starts one version ahead of the index: an index built before this revision was
    refreshed only by `bookgraph index`, so the follower compares each book with its point once
    (a payload rewrite where they differ, nothing where they agree)."""
    with op.batch_alter_table("stock_levels") as batch:
        batch.add_column(sa.Column("search_version", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("search_applied", sa.Integer(), server_default="0", nullable=False))
    op.execute("UPDATE stock_levels SET search_version = 1")
    op.create_index(
        "ix_stock_levels_search_pending",
        "stock_levels",
        ["book_id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_stock_levels_search_pending", table_name="stock_levels")
    with op.batch_alter_table("stock_levels") as batch:
        batch.drop_column("search_applied")
        batch.drop_column("search_version")
