"""initial inventory schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:13:22.791049

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('authors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('books',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('isbn', sa.String(length=13), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('published_year', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('price_cents >= 0', name='ck_books_price_non_negative'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('isbn')
    )
    with op.batch_alter_table('books', schema=None) as batch_op:
        batch_op.create_index('ix_books_price_id', ['price_cents', 'id'], unique=False)
        batch_op.create_index('ix_books_title_id', ['title', 'id'], unique=False)
        batch_op.create_index('ix_books_year_id', ['published_year', 'id'], unique=False)

    op.create_table('book_authors',
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['authors.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('book_id', 'author_id')
    )
    with op.batch_alter_table('book_authors', schema=None) as batch_op:
        batch_op.create_index('ix_book_authors_author_id', ['author_id', 'book_id'], unique=False)

    op.create_table('book_genres',
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('genre', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('book_id', 'genre')
    )
    with op.batch_alter_table('book_genres', schema=None) as batch_op:
        batch_op.create_index('ix_book_genres_genre', ['genre', 'book_id'], unique=False)

    op.create_table('stock_levels',
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reserved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('on_hand >= 0', name='ck_stock_on_hand_non_negative'),
    sa.CheckConstraint('reserved >= 0 AND reserved <= on_hand', name='ck_stock_reserved_bounds'),
    sa.ForeignKeyConstraint(['book_id'], ['books.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('book_id')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('stock_levels')
    with op.batch_alter_table('book_genres', schema=None) as batch_op:
        batch_op.drop_index('ix_book_genres_genre')

    op.drop_table('book_genres')
    with op.batch_alter_table('book_authors', schema=None) as batch_op:
        batch_op.drop_index('ix_book_authors_author_id')

    op.drop_table('book_authors')
    with op.batch_alter_table('books', schema=None) as batch_op:
        batch_op.drop_index('ix_books_year_id')
        batch_op.drop_index('ix_books_title_id')
        batch_op.drop_index('ix_books_price_id')

    op.drop_table('books')
    op.drop_table('authors')
