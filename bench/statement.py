"""What the orders store spends on a plan's statement: the compiled statement of the comparison's
query (`bench/orders_only.graphql`: a customer's 50 newest orders with their customer and lines),
for the customer with the most orders, against the same rows in PostGraphile's statement shape.
One connection, nothing else running, so the figure is the statement's own time in PostgreSQL
plus one round trip.

    python -m bench.statement --url postgresql+asyncpg://postgres@127.0.0.1:55433/orders \\
        [--runs 5] [--executions 200]

(the comparison's database while `../shared/peers/compare-postgraphile` has it started, or any
orders database with a history). Prints the median and the best of `runs` alternating runs, each
the wall time of `executions` statements, per statement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from graphql import parse
from graphql.execution.values import VariableValues

from auth.viewer import Role, Viewer
from datasources.base import Engine, create_engine
from datasources.measuring import customers_by_order_count, postgraphile_shape
from datasources.orders.tree import Arguments, TreeStatement
from execution.plans import Fallback, Plan, Planner
from limits.cost import CostWeights
from schema.root import schema

QUERY = (Path(__file__).parent / "orders_only.graphql").read_text()


def _statement(subject: str) -> tuple[TreeStatement, Arguments]:
    """The plan's orders statement for the comparison's query, and its arguments for `subject`."""
    plan = Planner(schema._schema, CostWeights(), parse).plan(QUERY, None, VariableValues({}, {}))
    assert isinstance(plan, Plan) and plan.statement is not None, plan
    arguments = plan.arguments(Viewer(role=Role.CUSTOMER, subject=subject), VariableValues({}, {}))
    assert not isinstance(arguments, Fallback), arguments
    return plan.statement, arguments


async def planned_data(engine: Engine, subject: str) -> dict[str, Any]:
    """The `data` the plan's statement writes for `subject`."""
    statement, arguments = _statement(subject)
    data: dict[str, Any] = json.loads((await statement.run(engine, arguments)).data)
    return data


async def measure(url: str, runs: int, executions: int) -> dict[str, list[float]]:
    engine = create_engine(url, "orders")
    try:
        [subject] = await customers_by_order_count(engine, 1)
        statement, arguments = _statement(subject)
        shapes: dict[str, Callable[[], Awaitable[object]]] = {
            "plan": lambda: statement.run(engine, arguments),
            "postgraphile shape": lambda: postgraphile_shape(engine, subject),
        }
        times: dict[str, list[float]] = {name: [] for name in shapes}
        for call in shapes.values():  # warm: prepared statements, buffers
            for _ in range(20):
                await call()
        for _ in range(runs):
            for name, call in shapes.items():
                started = time.perf_counter()
                for _ in range(executions):
                    await call()
                times[name].append((time.perf_counter() - started) / executions * 1000)
        return times
    finally:
        await engine.dispose()  # (PostgreSQL: no reader of its own)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="an orders database (postgresql+asyncpg://...)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--executions", type=int, default=200)
    options = parser.parse_args()
    times = asyncio.run(measure(options.url, options.runs, options.executions))
    for name, values in times.items():
        print(f"{name:>20}: {statistics.median(values):.2f} ms per statement (best {min(values):.2f})")


if __name__ == "__main__":
    main()
