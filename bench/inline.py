"""The general path's executor with and without leaves read inline (schema/inline.py), on one
document over objects in memory, so that no store, cost or HTTP work blurs the difference:
50 orders of 3 lines, about 900 fields.

    python -m bench.inline [--runs 6] [--executions 200]

Prints the median and the best of `runs` alternating runs, each the CPU time of `executions`
executions, per execution.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import strawberry

from schema.inline import InlineExecutionContext


@strawberry.type
class Money:
    amount: str
    currency: str


@strawberry.type
class Line:
    quantity: int
    unit_price: Money


@strawberry.type
class Order:
    number: str
    status: str
    total: Money
    lines: list[Line]


ORDERS = [
    Order(
        number=f"BG-{n:07d}",
        status="DELIVERED",
        total=Money(amount="18.00", currency="EUR"),
        lines=[Line(quantity=1, unit_price=Money(amount="6.00", currency="EUR")) for _ in range(3)],
    )
    for n in range(50)
]


@strawberry.type
class Query:
    @strawberry.field
    def orders(self) -> list[Order]:
        return ORDERS


DOCUMENT = (
    "{ orders { number status total { amount currency } lines { quantity unitPrice { amount currency } } } }"
)


async def _run(schema: strawberry.Schema, executions: int) -> tuple[float, object]:
    for _ in range(20):  # warm: the document cache, the executor's per-field lookups
        await schema.execute(DOCUMENT)
    started = time.process_time()
    for _ in range(executions):
        result = await schema.execute(DOCUMENT)
    assert not result.errors, result.errors
    return (time.process_time() - started) / executions * 1000, result.data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--executions", type=int, default=200)
    args = parser.parse_args()
    schemas = {
        "inline": strawberry.Schema(query=Query, execution_context_class=InlineExecutionContext),
        "library": strawberry.Schema(query=Query),
    }
    times: dict[str, list[float]] = {name: [] for name in schemas}
    answers = {}
    for _ in range(args.runs):
        for name, schema in schemas.items():
            elapsed, answers[name] = asyncio.run(_run(schema, args.executions))
            times[name].append(elapsed)
    assert answers["inline"] == answers["library"]
    for name, measured in times.items():
        print(
            f"{name:8} median {statistics.median(measured):.2f} ms, best {min(measured):.2f} ms per execution"
        )
    print(
        f"speed-up (medians): {statistics.median(times['library']) / statistics.median(times['inline']):.2f}x"
    )


if __name__ == "__main__":
    main()
