"""The Alembic histories build exactly the tables the code declares, and undo cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from datasources import inventory_tables
from datasources.migrate import alembic_config, upgrade
from datasources.orders import tables as orders_tables
from datasources.stores import Stores


def _diff(metadata: sa.MetaData) -> Any:
    def compare(connection: sa.Connection) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

    return compare


async def test_migrated_databases_match_the_declared_tables(stores: Stores) -> None:
    async with stores.inventory.connect() as conn:
        assert await conn.run_sync(_diff(inventory_tables.metadata)) == []
    async with stores.orders.connect() as conn:
        assert await conn.run_sync(_diff(orders_tables.metadata)) == []


async def test_inventory_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}")
    try:
        await upgrade(engine, "inventory")

        def down(connection: sa.Connection) -> None:
            config = alembic_config("inventory")
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with engine.begin() as conn:
            await conn.run_sync(down)
            tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert tables == ["alembic_version"]
        await upgrade(engine, "inventory")
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff(inventory_tables.metadata)) == []
    finally:
        await engine.dispose()
