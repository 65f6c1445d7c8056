"""Keyset pagination over SQLAlchemy selects: a page of `first` rows after a (sort value, id) key."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from datasources.pages import SortKey


def after_key(
    sort: sa.ColumnElement[Any], id_: sa.ColumnElement[Any], after: SortKey | None, descending: bool
) -> sa.ColumnElement[bool]:
    if after is None:
        return sa.true()
    row = sa.tuple_(sort, id_)
    return row < sa.tuple_(*after) if descending else row > sa.tuple_(*after)


def ordering(
    sort: sa.ColumnElement[Any], id_: sa.ColumnElement[Any], descending: bool
) -> list[sa.ColumnElement[Any]]:
    return [sort.desc(), id_.desc()] if descending else [sort.asc(), id_.asc()]


def partitioned(
    query: sa.Select[Any],
    partition: sa.ColumnElement[Any],
    sort: sa.ColumnElement[Any],
    id_: sa.ColumnElement[Any],
    first: int,
    descending: bool,
) -> sa.Select[Any]:
    """The first + 1 rows of every partition in one statement, so nested connections batch."""
    rank = sa.func.row_number().over(partition_by=partition, order_by=ordering(sort, id_, descending))
    ranked = query.add_columns(rank.label("_rank")).subquery()
    return sa.select(ranked).where(ranked.c._rank <= first + 1).order_by(ranked.c._rank)
