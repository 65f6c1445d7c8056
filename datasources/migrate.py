"""Alembic migrations for both databases, run from code (`bookgraph migrate`, tests, start-up)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

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
