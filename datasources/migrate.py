"""Alembic migrations for both databases, run from code (`bookgraph migrate`, tests, start-up)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from config import ROOT

Database = Literal["inventory", "orders"]


def alembic_config(database: Database, url: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"), ini_section=database)
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, database: Database, revision: str = "head") -> None:
    """Upgrade on a connection of `engine`, so it works inside a running event loop."""

    def run(connection: Any) -> None:
        config = alembic_config(database)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


def run_environment(metadata: sa.MetaData, database: Database) -> None:
    """The body of both Alembic env.py files: on a connection handed in by code, or on the URL."""
    config = context.config

    def run_on(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            # SQLite cannot ALTER most things in place; batch mode recreates the table.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_with_url(url: str) -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
            await connection.commit()
        await engine.dispose()

    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; run against a database")
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:  # plain `alembic -n <database> upgrade head`: the configured or embedded store
        from config import get_settings
        from datasources.embedded import with_embedded_stores

        settings = with_embedded_stores(get_settings(), [database])
        url = settings.inventory_database_url if database == "inventory" else settings.orders_database_url
    assert url is not None
    asyncio.run(run_with_url(url))
