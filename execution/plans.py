"""Compiled execution: a known query runs from a plan made once, not field by field.

For a document and operation name the planner walks the validated selection with the schema's
types, merging fields by response key and applying `@skip`/`@include` as execution does, and
describes what it selects as a tree of the store that holds it (datasources/orders/tree.py); that
tree becomes one statement which writes the response's JSON in PostgreSQL. The request's
arguments (`first`, `after`, `status`, `id`) are the statement's parameters, checked exactly as the
resolvers check them, and the row rule is a parameter too. The actual cost is counted from the
rows of each level the statement reports, by the same rules as `limits.cost` (no walk over the
response). What lives in the other stores keeps one batch per relation through the request's
loaders: a line's book (`execution.books`), the catalog's roots and search (`execution.catalog`),
and the recommendation lists (`execution.recommended`), merged into the response in the selection's
order.

Whatever a plan cannot answer exactly as the general path would (a field of another store, an
argument that is refused, a customer seen for the first time, a store that fails) is answered by
Strawberry instead: `Fallback` says why, and `bookgraph_execution_total` counts both paths.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from graphql import DocumentNode, GraphQLSchema, OperationType, VariableNode, get_operation_ast, validate
from graphql.execution.values import VariableValues, get_variable_values
from graphql.language import Visitor, visit

from context import Context
from datasources.base import Engine
from datasources.orders.tree import NotInTree
from errors import SourceUnavailable
from execution.plan import Answer, Fallback, Plan
from execution.walk import Unsupported, Walk, id_type
from limits.cost import CostWeights
from observability.tracing import planned_operation

# What the plan path offers the edge (the view reads answers and fallbacks) and the benchmarks.
__all__ = ["Answer", "CompiledExecution", "Fallback", "Plan", "Planner"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, order=True)
class Condition:
    """A variable a plan depends on: a Boolean `@skip`/`@include` reads (`if`), an ID `node` takes
    by the type it names (`type`), or the IDs `nodes` takes by theirs (`types`)."""

    variable: str
    reads: Literal["if", "type", "types"]

    def value(self, variables: VariableValues) -> Any:
        given = variables.coerced.get(self.variable)
        if self.reads == "types":
            return tuple(id_type(v) for v in given) if isinstance(given, list) else None
        return id_type(given) if self.reads == "type" else given


Conditions = tuple[Condition, ...]


class Planner:
    """Plans by (document text, operation name, the values of the variables that `@skip`/`@include`
    read), in a bounded LRU; a document no plan can serve is remembered as such."""

    def __init__(
        self,
        schema: GraphQLSchema,
        weights: CostWeights,
        parse: Callable[[str], DocumentNode | None],
        size: int = 1024,
    ) -> None:
        self.schema = schema
        self.weights = weights
        self.parse = parse
        self.size = size
        self._plans: OrderedDict[tuple[str, str | None, tuple[Any, ...]], Plan | Fallback] = OrderedDict()
        self._conditions: OrderedDict[tuple[str, str | None], Conditions | Fallback] = OrderedDict()

    def warm(self, operations: Sequence[tuple[str, str | None]]) -> int:
        """Plans for the trusted documents, made before the first request; how many could be made."""
        made = 0
        for text, name in operations:
            try:
                conditions = self.conditions(text, name)
                # A plan depends on the variables only through `@skip`/`@include`: without any, the
                # one plan is made now; with some, one per their values, as requests bring them.
                found = conditions if conditions else self.plan(text, name, VariableValues({}, {}))
            except Exception:  # a planner bug must not keep the server from serving
                log.exception("no plan for a trusted document", extra={"operation": name})
                continue
            made += isinstance(found, Plan)
        return made

    def conditions(self, text: str, operation_name: str | None) -> Conditions | Fallback:
        """The variables a plan depends on (what `@skip`/`@include` read, the IDs `node` and `nodes`
        take), or why the operation can have no plan."""
        return self._cached(  # type: ignore[no-any-return]
            self._conditions, (text, operation_name), lambda: self._conditions_of(text, operation_name)
        )

    def plan(self, text: str, operation_name: str | None, variables: VariableValues) -> Plan | Fallback:
        """The plan for this request, or why it has none. `variables` are the coerced values."""
        conditions = self.conditions(text, operation_name)
        if isinstance(conditions, Fallback):
            return conditions
        values = tuple(condition.value(variables) for condition in conditions)
        return self._cached(  # type: ignore[no-any-return]
            self._plans,
            (text, operation_name, values),
            lambda: self._compile(text, operation_name, variables),
        )

    def variables(
        self, text: str, operation_name: str | None, given: dict[str, Any] | None
    ) -> VariableValues | Fallback:
        """The request's variables coerced by the operation's definitions, as execution does."""
        document = self.parse(text)
        operation = get_operation_ast(document, operation_name) if document else None
        if operation is None:
            return Fallback("unsupported", "no such operation")
        coerced = get_variable_values(self.schema, operation.variable_definitions or [], given or {})
        if isinstance(coerced, list):
            return Fallback("variables")
        return coerced

    def _cached(self, cache: OrderedDict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
        found = make()
        cache[key] = found
        if len(cache) > self.size:
            cache.popitem(last=False)
        return found

    def _conditions_of(self, text: str, operation_name: str | None) -> Conditions | Fallback:
        """What this operation's plan depends on: a plan is made per the values of the variables its
        `@skip`/`@include` read and per the types of the IDs its `node` and `nodes` fields take."""
        document = self.parse(text)
        if document is None or validate(self.schema, document):
            return Fallback("unsupported", "invalid document")  # the general path reports why
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return Fallback("unsupported", "no such operation")
        if operation.operation is not OperationType.QUERY:
            return Fallback("not_a_query")
        found: set[Condition] = set()

        class Reads(Visitor):
            def enter_directive(self, node: Any, *_: Any) -> None:
                if node.name.value in ("skip", "include"):
                    found.update(
                        Condition(a.value.name.value, "if")
                        for a in node.arguments
                        if isinstance(a.value, VariableNode)
                    )

            def enter_field(self, node: Any, *_: Any) -> None:
                if node.name.value in ("node", "nodes"):  # (fields of Query only)
                    reads: Literal["type", "types"] = "type" if node.name.value == "node" else "types"
                    found.update(
                        Condition(a.value.name.value, reads)
                        for a in node.arguments or ()
                        if isinstance(a.value, VariableNode)
                    )

        visit(document, Reads())
        return tuple(sorted(found))

    def _compile(self, text: str, operation_name: str | None, variables: VariableValues) -> Plan | Fallback:
        document = self.parse(text)
        assert document is not None  # _conditions_of has parsed and validated it
        operation = get_operation_ast(document, operation_name)
        assert operation is not None
        try:
            return Walk(self.schema, self.weights, document, operation, variables).plan()
        except (Unsupported, NotInTree) as why:
            return Fallback("unsupported", str(why))


class CompiledExecution:
    """The plan path of one process: the planner and the store its plans read."""

    def __init__(self, planner: Planner, orders: Engine) -> None:
        self.planner = planner
        self.orders = orders

    async def answer(
        self, text: str, operation_name: str | None, variables: dict[str, Any] | None, context: Context
    ) -> Answer | Fallback:
        try:
            return await self._answer(text, operation_name, variables, context)
        except SourceUnavailable:
            return Fallback("error", "store unavailable")  # the general path reports it per field
        except Exception:
            # A plan must never cost an answer: the general path runs, and the bug is logged.
            log.exception("a query plan failed; answered by the general path")
            return Fallback("error")

    async def _answer(
        self, text: str, operation_name: str | None, variables: dict[str, Any] | None, context: Context
    ) -> Answer | Fallback:
        conditions = self.planner.conditions(text, operation_name)
        if isinstance(conditions, Fallback):
            return conditions
        coerced = self.planner.variables(text, operation_name, variables)
        if isinstance(coerced, Fallback):
            return coerced
        plan = self.planner.plan(text, operation_name, coerced)
        if isinstance(plan, Fallback):
            return plan
        with planned_operation(operation_name, text) as span:
            answer = await plan.run(self.orders, context, coerced)
            if isinstance(answer, Fallback):  # Strawberry's span follows, for the same operation
                span.set_attribute("graphql.execution", f"fallback: {answer.reason}")
            return answer
