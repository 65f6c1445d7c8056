"""Relations, each declared once as data: the store and loader that fetch it, the owner's attribute
that keys it, and what it costs.

From that one declaration come the GraphQL field (`relation(...)` in a type's body), the prefetch
of a list's children (`load_relations`) and the cost weights (`field_costs`). A planner reads the
same declarations through `relations_of(type)`.

A resolver that returns objects passes its result to `load_relations(info, result)`: the selected
relations of every object it holds are loaded at once, one batch per relation and level (the
loaders make each batch one statement), and stored on the objects as plain values. The relation
fields then resolve synchronously, which is several times cheaper in graphql-core than an awaitable
per item. A relation nobody prefetched (an object fetched on its own) loads through the same loader
when its field resolves.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from context import Context, Info
from schema.lookahead import Selection, lookahead

O = TypeVar("O", bound="Prefetched")  # noqa: E741 - the owner
V = TypeVar("V")

COST = "cost"  # the key of a field's extra cost weight in its Strawberry metadata
_RELATION = "relation"  # the key of a field's Relation in its Strawberry metadata
_MISSING = object()


@dataclasses.dataclass(frozen=True, eq=False, slots=True)
class Relation(Generic[O, V]):
    """How one type's objects reach their related values.

    `store` names the request's datasource (`Context.inventory`, `Context.orders`), `loader` the
    DataLoader on it, `key` the owner's attribute the loader is keyed by; `many` says whether the
    loader returns a list per key. `convert` turns what the loader returned into the field's value.
    """

    store: str
    loader: str
    key: str
    many: bool
    convert: Callable[[O, Any, Context], V]
    cost: int = 0  # extra weight, beyond the objects the field returns

    def load_many(self, context: Context, owners: Sequence[O]) -> Awaitable[list[Any]]:
        loader = getattr(getattr(context, self.store), self.loader)
        return loader.load_many([getattr(owner, self.key) for owner in owners])  # type: ignore[no-any-return]

    async def load(self, owner: O, info: Info) -> V:
        """The value for one owner that no list prefetched, with its own children prefetched."""
        context = info.context
        (raw,) = await self.load_many(context, [owner])
        value = self.convert(owner, raw, context)
        if _holds_prefetched(value):
            await _prefetch_groups(context, _collect(value, lookahead(info), {}))
        return value


def relation(
    relation: Relation[Any, Any], *, graphql_type: Any, description: str | None = None
) -> Any:  # a StrawberryField, typed Any as strawberry.field is
    """The field of `relation`, to assign in a type's body (`authors = relation(...)`)."""

    def resolve(root: Prefetched, info: Info) -> Any:
        return root.related(relation, info)

    return strawberry.field(
        resolver=resolve,
        graphql_type=graphql_type,
        description=description,
        metadata={_RELATION: relation, COST: relation.cost},
    )


def cost(weight: int) -> dict[str, int]:
    """Metadata for a field that costs more than a key lookup: `strawberry.field(metadata=cost(5))`."""
    return {COST: weight}


class Prefetched:
    """Mixin for types with relations. Each such type declares
    `prefetched: strawberry.Private[dict[Relation[Any, Any], Any]] = field(default_factory=dict)`
    (a plain annotation here would not become a dataclass field)."""

    prefetched: dict[Relation[Any, Any], Any]

    def related(self, relation: Relation[Any, V], info: Info) -> V | Awaitable[V]:
        """The prefetched value (or its error, raised at this field), else an awaitable load."""
        value = self.prefetched.get(relation, _MISSING)
        if value is _MISSING:
            return relation.load(self, info)
        if isinstance(value, BaseException):
            raise value
        return value  # type: ignore[no-any-return]


@functools.cache
def relations_of(type_: type[Any]) -> tuple[tuple[str, Relation[Any, Any]], ...]:
    """The relations a Strawberry type declares, by GraphQL field name."""
    definition = get_object_definition(type_, strict=True)
    return tuple(
        (field.graphql_name or to_camel_case(field.python_name), related)
        for field in definition.fields
        if (related := field.metadata.get(_RELATION)) is not None
    )


async def load_relations(info: Info, result: object) -> None:
    """Load the selected relations of every object `result` holds (a list, a connection's edges'
    nodes, recommendations' books), and theirs below them; one batch per relation and level."""
    await _prefetch_groups(info.context, _collect(result, lookahead(info), {}))


_Groups = dict[tuple[type, int], tuple[list["Prefetched"], Selection]]


def _collect(value: object, selection: Selection, groups: _Groups) -> _Groups:
    """The objects with relations in `value`, grouped by type and by what is selected of them."""
    if isinstance(value, list):
        for item in value:
            _collect(item, selection, groups)
    elif isinstance(value, Prefetched):
        groups.setdefault((type(value), id(selection)), ([], selection))[0].append(value)
    elif value is not None and selection and dataclasses.is_dataclass(value):
        for name, below in selection.items():
            if below:  # only an object below can hold more objects
                _collect(getattr(value, _python_name(name), None), below, groups)
    return groups


def _holds_prefetched(value: object) -> bool:
    if isinstance(value, list):
        return bool(value) and isinstance(value[0], Prefetched)
    return isinstance(value, Prefetched)


async def _prefetch_groups(context: Context, groups: _Groups) -> None:
    await asyncio.gather(*(_prefetch(context, owners, selection) for owners, selection in groups.values()))


async def _prefetch(context: Context, owners: list[Prefetched], selection: Selection) -> None:
    declared = relations_of(type(owners[0]))  # type: ignore[arg-type]  # classes are hashable
    selected = [(r, selection[name]) for name, r in declared if name in selection]
    await asyncio.gather(*(_fill(context, owners, r, below) for r, below in selected))


async def _fill(
    context: Context, owners: list[Prefetched], relation: Relation[Any, Any], selection: Selection
) -> None:
    """Store each owner's value; a failed load is stored as the error of every owner, so only that
    field fails, at each item's path, as it would without prefetching."""
    try:
        loaded = await relation.load_many(context, owners)
    except Exception as exc:
        for owner in owners:
            owner.prefetched[relation] = exc
        return
    values = []
    for owner, raw in zip(owners, loaded, strict=True):
        value = owner.prefetched[relation] = relation.convert(owner, raw, context)
        values.append(value)
    await _prefetch_groups(context, _collect(values, selection, {}))


@functools.cache
def _python_name(graphql_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", graphql_name).lower()


def field_costs(schema: GraphQLSchema) -> dict[str, int]:
    """The extra weight of every field that declares one, by `Type.field`, for the cost limits."""
    costs: dict[str, int] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            weight = definition.metadata.get(COST) if definition is not None else None
            if weight:
                costs[f"{type_.name}.{name}"] = weight
    return costs
