"""Seed a dataset, start the server as production would, drive each workload with wrk, report.

The server and the load generator are separate processes pinned to different cores, so the
generator does not steal the server's CPU; timings live here and never in the tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from auth.tokens import issue_token
from bench.workloads import ORDER, BenchData, Workload, load
from config import ROOT, Settings
from schema.relay import to_global_id

RESULTS_DIR = ROOT / "bench" / "results"
LUA_TEMPLATE = ROOT / "bench" / "wrk.lua"

# Scale 1.0: 100,000 books, 20,000 customers and about 1,000,000 order lines
# (the demo generator averages 2.2 lines an order).
BOOKS, CUSTOMERS, ORDERS = 100_000, 20_000, 450_000


@dataclass(slots=True)
class Options:
    scale: float = 1.0
    duration: int = 10
    warmup: int = 3
    concurrency: int = 16
    workers: int = 1
    workloads: tuple[str, ...] = ORDER
    profile: str | None = None
    port: int = 8765


@dataclass(slots=True)
class Result:
    workload: str
    skipped: str | None = None
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    statements_per_request: dict[str, float] = field(default_factory=dict)
    cache_hit_rate: float | None = None  # recommendation lists served from Redis
    planned: float | None = None  # the share of operations a compiled plan answered


def dataset(scale: float) -> tuple[int, int, int]:
    return max(1, round(BOOKS * scale)), max(1, round(CUSTOMERS * scale)), round(ORDERS * scale)


async def prepare(
    settings: Settings, scale: float, index: bool, recommendations: bool = False
) -> tuple[BenchData, dict[str, Any]]:
    """Seed the stores to the requested scale (once) and read what the requests are built from."""
    from datasources.inventory.source import InventorySource
    from datasources.measuring import customers_by_order_count, row_counts, sample_book_ids, server_versions
    from datasources.stores import Stores
    from ingest.indexing import index_catalog
    from ingest.seeding import seed_demo
    from observability.progress import bars
    from recommendations.recommender import recommender_for

    books, customers, orders = dataset(scale)
    stores = Stores.open(settings, batch=True)
    try:
        await stores.migrate()
        counts = await row_counts(stores.inventory, stores.orders)
        if counts["books"] < books or counts["orders"] < orders:
            with bars() as track:
                await seed_demo(stores, books, customers, orders, 42, track, now=settings.clock.now())
            counts = await row_counts(stores.inventory, stores.orders)
        heavy = await customers_by_order_count(stores.orders, 100, min_orders=50)
        data = BenchData(
            book_ids=[to_global_id("Book", pk) for pk in await sample_book_ids(stores.inventory, 500)],
            genres=[name for name, _ in await InventorySource(stores.inventory).list_genres()],
            customers=await customers_by_order_count(stores.orders, 200),
            heavy_customers=heavy or await customers_by_order_count(stores.orders, 20),
            many_customers=await customers_by_order_count(stores.orders, 5000),
        )
        facts: dict[str, Any] = {}
        if index:
            with bars() as track:
                await index_catalog(stores, track)
        if recommendations:
            # What the worker keeps in Redis; timed, as the worker would spend it.
            recommender = recommender_for(settings, stores)
            started = time.perf_counter()
            with bars() as track:
                await recommender.rebuild(track("recs", await recommender.history.line_count()))
            facts["recs_rebuild_seconds"] = round(time.perf_counter() - started, 1)
        facts |= {"rows": counts, "stores": await server_versions(stores.inventory, stores.orders)}
    finally:
        await stores.close()
    return data, facts


def _py_spy() -> str | None:
    """py-spy from this virtual environment, or from PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _cpus() -> tuple[str | None, str | None]:
    """Cores for the server and for the load generator, when taskset can keep them apart."""
    count = os.cpu_count() or 1
    if count < 2 or not shutil.which("taskset"):
        return None, None
    return f"0-{count - 2}" if count > 2 else "0", str(count - 1)


def _pinned(command: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus else command


def start_server(settings: Settings, options: Options, secret: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "INVENTORY_DATABASE_URL": settings.inventory_database_url or "",
        "ORDERS_DATABASE_URL": settings.orders_database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "QDRANT_URL": settings.qdrant_url or "",
        "DATA_DIR": str(settings.data_dir),  # where the embedded search shard lives
        "JWT_SECRET": secret,
        # Production serves /metrics to its token only; the harness reads statements from it.
        "METRICS_TOKEN": metrics_token(secret),
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "GRAPHIQL": "false",
        # The index is built before measuring when a workload searches, and not needed otherwise:
        # the server must not embed a catalog in the background while it is being measured.
        "INDEX_FOLLOW_INTERVAL_SECONDS": "86400",
        "EMBED_ON_START": "false",
        # Load from one address would drain an anonymous client's cost budget in a second: the
        # harness measures the server, not its throttle (tests/gateway/test_cost.py covers that).
        "COST_BUCKET_SIZE": str(10**12),
        "COST_RESTORE_RATE": str(10**9),
    }
    command = [
        sys.executable, "-m", "uvicorn", "app:app_from_environment", "--factory",
        "--host", "127.0.0.1", "--port", str(options.port), "--workers", str(options.workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(_pinned(command, _cpus()[0]), cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{options.port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError("the server did not become ready in 120 s")


def metrics_token(secret: str) -> str:
    return hashlib.sha256(f"metrics:{secret}".encode()).hexdigest()


def scrape(port: int, secret: str) -> Counter[str]:
    """Statements per store and GraphQL requests served, from /metrics."""
    headers = {"Authorization": f"Bearer {metrics_token(secret)}"}
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=headers, timeout=5)
    response.raise_for_status()
    text = response.text
    totals: Counter[str] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "bookgraph_store_statements_total":
                totals[sample.labels["store"]] += int(sample.value)
            elif sample.name == "bookgraph_http_requests_total" and sample.labels.get("path") == "/graphql":
                totals["requests"] += int(sample.value)
            elif sample.name == "bookgraph_execution_total":
                totals[f"executed_{sample.labels['path']}"] += int(sample.value)
            elif (
                sample.name == "bookgraph_recommendation_cache_total" and sample.labels["kind"] == "customer"
            ):
                totals[f"recs_{sample.labels['outcome']}"] += int(sample.value)
    return totals


def lua_script(workload: Workload, secret: str, directory: Path, *, warmup: bool = False) -> Path:
    """The wrk script for a workload. The warm-up one walks the requests from the other end, so a
    workload of distinct queries (cache misses) does not warm the very requests then measured."""
    settings = Settings(environment="test", jwt_secret=SecretStr(secret))
    tokens: dict[str, str] = {}
    bodies, auth = [], []
    for variables, subject in reversed(workload.requests) if warmup else workload.requests:
        bodies.append(json.dumps({"query": workload.document, "variables": variables}))
        if subject is not None and subject not in tokens:
            tokens[subject] = issue_token(settings, subject, ttl_seconds=24 * 3600)
        auth.append(tokens[subject] if subject else "")

    def lua_list(items: list[str]) -> str:
        return "{\n" + ",\n".join(f"[==[{item}]==]" for item in items) + "\n}"

    script = (
        LUA_TEMPLATE.read_text().replace("{BODIES}", lua_list(bodies)).replace("{TOKENS}", lua_list(auth))
    )
    path = directory / f"{workload.name}{'-warmup' if warmup else ''}.lua"
    path.write_text(script)
    return path


def wrk(script: Path, options: Options, seconds: int) -> dict[str, Any]:
    command = [
        "wrk", "-t1", f"-c{options.concurrency}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), f"http://127.0.0.1:{options.port}/graphql",
    ]  # fmt: skip
    output = subprocess.run(_pinned(command, _cpus()[1]), capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    summary: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    return summary


def smoke_test(workload: Workload, options: Options, secret: str) -> str | None:
    """Why the workload's first request is not a real answer (errors, or nothing found), if so."""
    variables, subject = workload.requests[0]
    headers = {}
    if subject is not None:
        settings = Settings(environment="test", jwt_secret=SecretStr(secret))
        headers["Authorization"] = f"Bearer {issue_token(settings, subject)}"
    body = httpx.post(
        f"http://127.0.0.1:{options.port}/graphql",
        json={"query": workload.document, "variables": variables},
        headers=headers,
        timeout=30,
    ).json()
    if body.get("errors"):
        return f"errors: {body['errors'][0]['message']}"
    return None if _has_items(body.get("data")) else "the first request found nothing"


def _has_items(value: Any) -> bool:
    """Whether an answer holds something: a non-empty list, or an object with an id (a placed
    order). An empty search, or a payload holding only an empty `userErrors`, holds nothing."""
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, dict):
        return value.get("id") is not None or any(_has_items(v) for v in value.values())
    return False


async def forget_customer_lists(settings: Settings) -> None:
    from datasources.redis.recommendations import RecommendationCache
    from datasources.stores import redis_client

    redis = redis_client(settings.redis_url or "", 5.0)
    try:
        await RecommendationCache(redis, settings.redis_key_prefix, 1).forget_all_customers()
    finally:
        await redis.aclose()


def measure(workload: Workload, options: Options, settings: Settings, secret: str, scratch: Path) -> Result:
    if workload.skipped:
        return Result(workload.name, skipped=workload.skipped)
    problem = smoke_test(workload, options, secret)
    if problem:
        # Measuring empty or failing answers would report a speed no user gets.
        return Result(workload.name, skipped=problem)
    if workload.name.endswith("_miss"):
        asyncio.run(forget_customer_lists(settings))
    script = lua_script(workload, secret, scratch)
    # Warm pools, the parser cache and (for cached workloads) the embedding cache; not measured.
    wrk(lua_script(workload, secret, scratch, warmup=True), options, options.warmup)
    before = scrape(options.port, secret)
    summary = wrk(script, options, options.duration)
    after = scrape(options.port, secret)
    served = after["requests"] - before["requests"]
    per_request = (
        {
            store: round((after[store] - before[store]) / served, 2)
            for store in ("inventory", "orders", "search")
        }
        if served and options.workers == 1  # each worker counts its own statements
        else {}
    )
    lookups = (after["recs_hit"] - before["recs_hit"]) + (after["recs_miss"] - before["recs_miss"])
    hit_rate = round((after["recs_hit"] - before["recs_hit"]) / lookups, 3) if lookups else None
    planned = after["executed_plan"] - before["executed_plan"]
    executed = planned + after["executed_fallback"] - before["executed_fallback"]
    return Result(
        workload=workload.name,
        requests=summary["requests"],
        rps=round(summary["requests"] / (summary["duration_us"] / 1e6), 1),
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        errors=summary["errors"] + summary["socket_errors"],
        statements_per_request=per_request,
        cache_hit_rate=hit_rate,
        planned=round(planned / executed, 3) if executed else None,
    )


def profile(
    server: subprocess.Popen[bytes], workload: Workload, options: Options, secret: str, stamp: str
) -> Path:
    """Sample the server with py-spy while the workload runs; write collapsed stacks and a top table."""
    scratch = RESULTS_DIR / stamp
    stacks = RESULTS_DIR / f"{stamp}-{workload.name}.folded"
    script = lua_script(workload, secret, scratch)
    wrk(script, options, options.warmup)
    sampler = subprocess.Popen(
        [_py_spy() or "py-spy", "record", "--pid", str(server.pid), "--duration", str(options.duration),
         "--rate", "250", "--format", "raw", "--output", str(stacks), "--nonblocking", "--subprocesses"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wrk(script, options, options.duration)
    sampler.wait(timeout=options.duration + 30)
    table = RESULTS_DIR / f"{stamp}-{workload.name}-top.txt"
    table.write_text(top_functions(stacks))
    return table


_LINE_NUMBER = re.compile(r":\d+\)$")


def top_functions(stacks: Path, limit: int = 30) -> str:
    """Self and total share of samples per function, from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in stacks.read_text().splitlines():
        frames, _, count_text = line.rpartition(" ")
        count = int(count_text)
        # "handler (app/module.py:42)" → "handler (app/module.py)": one row per function, not per line.
        names = [_LINE_NUMBER.sub(")", frame) for frame in frames.split(";")[1:] if frame]
        samples += count
        if names:
            own[names[-1]] += count
        for name in set(names):
            total[name] += count
    rows = [f"{'self %':>7} {'total %':>8}  function (file:line)"]
    for name, count in own.most_common(limit):
        rows.append(f"{100 * count / samples:7.1f} {100 * total[name] / samples:8.1f}  {name}")
    return "\n".join(rows) + f"\n\n{samples} samples\n"


def _proc_field(path: str, key: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith(key)), None)


def machine() -> dict[str, Any]:
    def first_line(command: list[str]) -> str:
        try:
            result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
            return (result.stdout or result.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "unknown"

    cpu = _proc_field("/proc/cpuinfo", "model name") or platform.processor()
    memory = _proc_field("/proc/meminfo", "MemTotal")  # "24576000 kB"
    memory_kib = int(memory.split()[0]) if memory else 0
    dirty = bool(first_line(["git", "status", "--porcelain", "--untracked-files=no"]) not in ("", "unknown"))
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {
            name: metadata.version(name)
            for name in (
                "strawberry-graphql",
                "graphql-core",
                "starlette",
                "uvicorn",
                "sqlalchemy",
                "asyncpg",
                "aiosqlite",
            )
        },
        "wrk": first_line(["wrk", "-v"]),
        "commit": first_line(["git", "rev-parse", "--short", "HEAD"]) + ("-dirty" if dirty else ""),
    }


def run(options: Options, settings: Settings) -> tuple[Path, list[Result], dict[str, Any]]:
    if not shutil.which("wrk"):
        raise RuntimeError("the load generator wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    if options.profile and not _py_spy():
        raise RuntimeError("profiling needs py-spy (pip install py-spy)")
    from schema.root import schema

    names = (options.profile,) if options.profile else options.workloads
    needs_search = any(name.startswith("search") or name in ("book_detail", "home") for name in names)
    needs_recs = any(name.startswith("recommendations") or name == "home" for name in names)
    data, facts = asyncio.run(
        prepare(settings, options.scale, index=needs_search, recommendations=needs_recs)
    )
    secret = secrets.token_urlsafe(48)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    scratch = RESULTS_DIR / stamp
    scratch.mkdir(parents=True, exist_ok=True)
    graphql_schema = schema._schema
    workloads = [load(name, data, graphql_schema) for name in names]

    server = start_server(settings, options, secret)
    try:
        if options.profile:
            table = profile(server, workloads[0], options, secret, stamp)
            return table, [], facts
        results = [measure(w, options, settings, secret, scratch) for w in workloads]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    shutil.rmtree(scratch, ignore_errors=True)
    report = {
        "started_at": stamp,
        "machine": machine(),
        "dataset": {"scale": options.scale, **facts},
        "options": {k: v for k, v in asdict(options).items() if k not in ("profile", "port")},
        "results": [asdict(r) for r in results],
    }
    path = RESULTS_DIR / f"{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path, results, report
