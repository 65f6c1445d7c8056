"""The differential harness of compiled execution: the same request through both paths, on the same
stores, must give the same JSON (ignoring nothing but the budget's moving balance), and the plan must
never send a store more statements than the general path does."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client import REGISTRY
from support import GraphQLClient, StatementCounter, comparable

from auth.viewer import Role
from config import Settings

ORDERS_ONLY = (
    "query OrdersOnly { viewer { orders(first: 50) { edges { node { number status total { amount } "
    "customer { name } lines { bookId quantity unitPrice { amount } } } } } } }"
)


def executions(path: str) -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "bookgraph_execution"
        for sample in metric.samples
        if sample.name == "bookgraph_execution_total" and sample.labels["path"] == path
    )


def fallbacks(reason: str) -> float:
    value = REGISTRY.get_sample_value("bookgraph_execution_total", {"path": "fallback", "reason": reason})
    return value or 0.0


class Both:
    def __init__(self, planned: httpx.AsyncClient, general: httpx.AsyncClient, settings: Settings) -> None:
        self.planned, self.general = GraphQLClient(planned, settings), GraphQLClient(general, settings)
        self.statements: dict[str, int] = {}  # what the plan app's last request cost each store

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        as_: str | None = "demo-customer-1",
        role: Role = Role.CUSTOMER,
        planned: bool = True,
        cached: bool = False,
    ) -> dict[str, Any]:
        """The answer both paths agree on; `planned` says which path the plan app must have taken.
        `cached`: the general path answers once before, so that what it caches in Redis (the
        recommendations) is there for both, and neither pays the miss the other does not."""
        if cached:
            await self.general.post(query, variables, as_=as_, role=role)
        before, counter = executions("plan"), StatementCounter()
        first = await self.planned.post(query, variables, as_=as_, role=role)
        by_plan = self.statements = counter.delta()
        assert (executions("plan") - before == 1) is planned, first.text
        counter = StatementCounter()
        second = await self.general.post(query, variables, as_=as_, role=role)
        by_strawberry = counter.delta()
        assert first.status_code == second.status_code
        assert comparable(first.json()) == comparable(second.json())
        if planned:  # (a fallback's statements are Strawberry's, after a plan's that found no row)
            for store in StatementCounter.STORES:
                assert by_plan[store] <= by_strawberry[store], (store, by_plan, by_strawberry)
        body: dict[str, Any] = first.json()
        return body
