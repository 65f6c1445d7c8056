"""The command line: import keeps every good row and names every bad one; token and schema."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import jwt
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from typer.testing import CliRunner

from cli import commands as cli
from config import Settings, get_settings
from datasources.inventory.tables import book_authors, book_genres, books, stock_levels

CSV = """isbn,title,authors,description,genres,published_year,price,stock
9780306406157,The Good One,Ann Author;Bob Writer,"A fine, long book.",Mystery;Thriller,2001,12.99,4
9780306406158,Bad Checksum,Ann Author,,Mystery,2001,12.99,4
0-306-40615-2,Duplicate Of First As ISBN-10,Ann Author,,Mystery,2001,12.99,4
9781861972712,"Multi
Line Title",Cleo Poet,,Poetry,1999,7.50,0
9780131103627,Negative Price,Dan Coder,,Technology,1988,-1,3
9780201633610,Design Patterns,Erich Gang;Richard Gang,Objects.,Technology,1994,54.00,12
"""


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """A fresh inventory database, with the session's PostgreSQL and Redis."""
    get_settings.cache_clear()
    return {
        "INVENTORY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'import.db'}",
        "ORDERS_DATABASE_URL": settings.orders_database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "ENVIRONMENT": "test",
        "DATA_DIR": str(tmp_path),  # its own search shard
    }


def books_in(url: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(books))).all()
            result = {
                r.isbn: {
                    "title": r.title,
                    "price_cents": r.price_cents,
                    "authors": (
                        await conn.execute(
                            sa.select(book_authors.c.author_id).where(book_authors.c.book_id == r.id)
                        )
                    ).all(),
                    "genres": sorted(
                        g
                        for (g,) in (
                            await conn.execute(
                                sa.select(book_genres.c.genre).where(book_genres.c.book_id == r.id)
                            )
                        ).all()
                    ),
                    "stock": (
                        await conn.execute(
                            sa.select(stock_levels.c.on_hand).where(stock_levels.c.book_id == r.id)
                        )
                    ).scalar_one(),
                }
                for r in rows
            }
        await engine.dispose()
        return result

    return asyncio.run(read())


def test_import_keeps_good_rows_and_reports_bad_ones(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "catalog.csv"
    source.write_text(CSV)
    result = CliRunner().invoke(cli.app, ["import", str(source)], env=env)
    get_settings.cache_clear()

    assert result.exit_code == 1, result.output
    imported = books_in(env["INVENTORY_DATABASE_URL"])
    assert set(imported) == {"9780306406157", "9781861972712", "9780201633610"}
    assert imported["9780306406157"]["genres"] == ["Mystery", "Thriller"]
    assert len(imported["9780306406157"]["authors"]) == 2
    assert (
        imported["9781861972712"]["title"] == "Multi\nLine Title" and imported["9781861972712"]["stock"] == 0
    )
    assert imported["9780201633610"]["price_cents"] == 5400
    # Every bad row is named with its line: checksum (3), duplicate (4), negative price (7, after the 2-line row).
    report = result.output
    for line in ("3", "4", "7"):
        assert f"│ {line} " in report or f"┃ {line} " in report, report
    assert "3 rows skipped" in report and "imported 3 books" in report


def test_reimport_updates_instead_of_duplicating(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "catalog.jsonl"
    source.write_text(
        '{"isbn": "9780201633610", "title": "Design Patterns", "authors": ["E. Gamma"], "published_year": 1994, "price": "50.00", "stock": 3}\n'
    )
    assert CliRunner().invoke(cli.app, ["import", str(source)], env=env).exit_code == 0
    source.write_text(
        '{"isbn": "9780201633610", "title": "Design Patterns (2nd)", "authors": ["E. Gamma"], "published_year": 1995, "price": "55.00", "stock": 9}\n'
    )
    assert CliRunner().invoke(cli.app, ["import", str(source)], env=env).exit_code == 0
    get_settings.cache_clear()
    imported = books_in(env["INVENTORY_DATABASE_URL"])
    assert imported == {
        "9780201633610": {
            "title": "Design Patterns (2nd)",
            "price_cents": 5500,
            "authors": imported["9780201633610"]["authors"],
            "genres": [],
            "stock": 9,
        }
    }


def test_import_refuses_an_unreadable_file(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "catalog.xlsx"
    source.write_bytes(b"PK\x03\x04")
    result = CliRunner().invoke(cli.app, ["import", str(source)], env=env)
    get_settings.cache_clear()
    assert result.exit_code == 2 and "cannot import" in result.output


def test_token_carries_the_claims(settings: Settings) -> None:
    get_settings.cache_clear()
    result = CliRunner().invoke(
        cli.app, ["token", "--sub", "demo-customer-9", "--name", "Nine", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    claims = jwt.decode(
        result.output.strip(),
        get_settings().jwt_secret.get_secret_value(),
        algorithms=["HS256"],
        issuer="bookgraph",
    )
    assert claims["sub"] == "demo-customer-9" and claims["role"] == "admin" and claims["name"] == "Nine"
    assert claims["exp"] > claims["iat"]


def test_every_command_has_help() -> None:
    for command in (
        ["--help"],
        *([name, "--help"] for name in ("serve", "worker", "migrate", "seed", "import", "schema", "token")),
    ):
        result = CliRunner().invoke(cli.app, command)
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_schema_check_detects_drift(tmp_path: Path) -> None:
    target, subgraph = tmp_path / "schema.graphql", tmp_path / "subgraph.graphql"
    files = ["--output", str(target), "--subgraph-output", str(subgraph)]
    assert CliRunner().invoke(cli.app, ["schema", *files]).exit_code == 0
    assert CliRunner().invoke(cli.app, ["schema", *files, "--check"]).exit_code == 0
    target.write_text(target.read_text().replace("type Book", "type Buch"))
    assert CliRunner().invoke(cli.app, ["schema", *files, "--check"]).exit_code == 1


def test_import_keeps_the_search_index_true(env: dict[str, str], tmp_path: Path) -> None:
    source = tmp_path / "catalog.csv"
    source.write_text(CSV)
    CliRunner().invoke(cli.app, ["import", str(source)], env=env)
    get_settings.cache_clear()
    # The import embedded its good rows, so a full index run finds nothing to do.
    result = CliRunner().invoke(cli.app, ["index"], env=env)
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 embedded, 0 payloads updated, 3 unchanged, 0 removed" in result.output


def test_several_workers_need_a_qdrant_server(env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli.app, ["serve", "--workers", "2"], env=env)
    get_settings.cache_clear()
    assert result.exit_code == 2 and "QDRANT_URL" in result.output


async def test_sigterm_stops_the_embedded_stores_serve_started(settings: Settings, tmp_path: Path) -> None:
    import contextlib
    import os
    import signal

    import psutil
    from support import bookgraph_serve, process_environment

    # No store URLs: serve starts a private PostgreSQL and Redis under DATA_DIR, as on a laptop.
    environment = process_environment(
        settings, tmp_path, INVENTORY_DATABASE_URL="", ORDERS_DATABASE_URL="", REDIS_URL=""
    )
    try:
        async with bookgraph_serve(environment, "--migrate", start_seconds=120) as (server, _):
            # Both run detached: PostgreSQL names its pid in its directory; Redis works in DATA_DIR.
            postgres = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
            redis = _embedded_redis(tmp_path)
            assert psutil.pid_exists(postgres) and len(redis) == 1

            server.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(server.wait(), 60) in (128 + signal.SIGTERM, -signal.SIGTERM)
            for _ in range(150):
                if not any(_alive(pid) for pid in [postgres, *redis]):
                    break
                await asyncio.sleep(0.1)
            assert not any(_alive(pid) for pid in [postgres, *redis])
    finally:
        # Whatever was left behind (the test failing) is not leaked.
        pidfile = tmp_path / "postgres" / "postmaster.pid"
        leftovers = [int(pidfile.read_text().split()[0])] if pidfile.exists() else []
        for pid in leftovers + _embedded_redis(tmp_path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _embedded_redis(data_dir: Path) -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["name"]) if "redis" in p.info["name"] and _cwd(p) == data_dir]


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cwd(process: Any) -> Path | None:
    import psutil

    try:
        return Path(process.cwd())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def test_the_demo_token_survives_copy_and_paste() -> None:
    import io

    from rich.console import Console

    from auth.tokens import TokenVerifier

    settings = Settings(environment="development", _env_file=None)  # type: ignore[call-arg]
    out = io.StringIO()
    # A narrow terminal: the token is longer than a line, and still printed on one.
    cli.print_welcome(Console(file=out, width=40), settings, "http://127.0.0.1:8000/graphql")
    lines = out.getvalue().splitlines()
    token = next(line for line in lines if line.count(".") == 2 and " " not in line)
    assert len(token) > 40
    assert asyncio.run(TokenVerifier(settings).verify(token)).subject == "demo-customer-1"
