"""genre sort keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:36:22.182894

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Copy each book's sort keys into book_genres and index them per genre."""
    with op.batch_alter_table("book_genres") as batch:
        batch.add_column(sa.Column("title", sa.String(length=500), server_default="", nullable=False))
        batch.add_column(sa.Column("price_cents", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("published_year", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        """
        UPDATE book_genres SET
            title = (SELECT title FROM books WHERE books.id = book_genres.book_id),
            price_cents = (SELECT price_cents FROM books WHERE books.id = book_genres.book_id),
            published_year = (SELECT published_year FROM books WHERE books.id = book_genres.book_id)
        """
    )
    op.create_index("ix_book_genres_genre_title", "book_genres", ["genre", "title", "book_id"])
    op.create_index("ix_book_genres_genre_price", "book_genres", ["genre", "price_cents", "book_id"])
    op.create_index("ix_book_genres_genre_year", "book_genres", ["genre", "published_year", "book_id"])


def downgrade() -> None:
    op.drop_index("ix_book_genres_genre_year", table_name="book_genres")
    op.drop_index("ix_book_genres_genre_price", table_name="book_genres")
    op.drop_index("ix_book_genres_genre_title", table_name="book_genres")
    with op.batch_alter_table("book_genres") as batch:
        batch.drop_column("published_year")
        batch.drop_column("price_cents")
        batch.drop_column("title")
