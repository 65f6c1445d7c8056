"""What every command shares: the settings (with embedded stores for unset URLs), the stores
opened around one piece of work, and the console progress goes to."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rich.console import Console

from config import Settings, get_settings
from datasources.embedded import with_embedded_stores

console = Console(stderr=True)
T = TypeVar("T")


def cli_settings() -> Settings:
    return with_embedded_stores(get_settings())


def run_with_stores(settings: Settings, work: Callable[[Any], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run `work(stores)` with the stores open (migrated first, unless told not to), then close them."""
    from datasources.stores import Stores

    async def main() -> T:
        stores = Stores.open(settings, batch=True)
        try:
            if migrate:
                await stores.migrate()
            return await work(stores)
        finally:
            await stores.close()

    return asyncio.run(main())
