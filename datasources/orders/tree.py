"""A whole subtree of the orders graph in one statement that writes its JSON in PostgreSQL.

The planner (execution/) describes what a known operation selects from the orders store as a tree
of `Node`s, with the entities' own attribute names; `compile_tree` turns it into one SQL statement,
made once per plan, in which every level of the tree is a common table expression (one batch per
level, as the loaders fetch) and the response JSON is built with `json_build_object`/`json_agg`,
PostGraphile-style. The statement also returns how many rows each level holds, which is what the
operation's actual cost is counted from.

The values are written exactly as the GraphQL path writes them: global IDs as
`base64url("Type:pk")` without padding, cursors as `relay.encode_cursor` makes them, timestamps as
Python's `isoformat()` in UTC, money as a decimal string with two places.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncEngine

from datasources.base import store_errors
from datasources.orders.rows import STORE
from observability.telemetry import STORE_STATEMENTS

# The cursor tag of a customer's orders (schema.orders passes the same to its Connection).
ORDERS_CURSOR_TAG = "customer-orders"

_STATEMENTS = STORE_STATEMENTS.labels(STORE)

Entity = Literal["Customer", "Order", "OrderLine", "OrderEvent"]
RootKind = Literal["viewer", "order"]


@dataclass(frozen=True, slots=True)
class Node:
    """One member of a JSON object: `key` in the response, `name` the attribute it shows (the
    schema's Python name; `__typename` with its `literal`), `members` for an object's own members."""

    key: str
    name: str
    members: tuple[Node, ...] = ()
    literal: str | None = None
    # For a connection (`orders`): which slot of the run's arguments holds its page arguments.
    slot: int | None = None


@dataclass(frozen=True, slots=True)
class Root:
    key: str
    kind: RootKind
    members: tuple[Node, ...]


class NotInTree(Exception):
    """The selection holds something this statement cannot write (another store's field, an
    attribute it does not know): the operation runs on the general path."""


@dataclass(frozen=True, slots=True)
class PageArguments:
    first: int
    after: tuple[datetime, int] | None
    statuses: tuple[str, ...] | None

    def value(self, what: str) -> Any:
        if what == "first":
            return self.first
        if what == "statuses":
            return list(self.statuses) if self.statuses is not None else None
        if self.after is None:
            return None
        return self.after[0] if what == "after_value" else self.after[1]


@dataclass(frozen=True, slots=True)
class Arguments:
    subject: str | None = None
    admin: bool = False
    order_id: int | None = None
    pages: Mapping[int, PageArguments] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TreeResult:
    data: str  # the `data` object's JSON text, as PostgreSQL wrote it
    found: tuple[bool, ...]  # per root: whether its row exists (a missing one is for the general path)
    rows: tuple[int, ...]  # rows per level, in `TreeStatement.levels` order


@dataclass(frozen=True, slots=True)
class Level:
    """One common table expression: the rows of `entity` at one place in the tree."""

    entity: Entity
    page: bool  # a connection's page: its rows past `first` only say that a next page exists


@dataclass(frozen=True, slots=True)
class TreeStatement:
    sql: str
    parameters: tuple[tuple[str, int | None], ...]  # (what, slot) per $n, in order
    levels: tuple[Level, ...]
    # Per level, the response keys leading to it from `data` (the plan counts its cost by them).
    paths: tuple[tuple[str, ...], ...]

    def bind(self, arguments: Arguments) -> list[Any]:
        return [
            getattr(arguments, what) if slot is None else arguments.pages[slot].value(what)
            for what, slot in self.parameters
        ]

    async def run(self, engine: AsyncEngine, arguments: Arguments) -> TreeResult:
        with store_errors(STORE, via=engine):
            async with engine.connect() as connection:
                # The driver's own connection: one round trip, no transaction for a single read,
                # and asyncpg keeps the statement prepared on the connection after its first use.
                raw = await connection.get_raw_connection()
                driver: Any = raw.driver_connection
                _STATEMENTS.inc()
                row = await driver.fetchrow(self.sql, *self.bind(arguments))
        return TreeResult(row["data"], tuple(row["found"]), tuple(row["rows"]))


# --- how each entity's attributes are written, for a row alias `r` ---

_TABLES: dict[Entity, str] = {
    "Customer": "customers",
    "Order": "orders",
    "OrderLine": "order_lines",
    "OrderEvent": "order_events",
}


def _base64url(text: str) -> str:
    """As `base64.urlsafe_b64encode(...).rstrip("=")`: PostgreSQL's base64 also breaks lines."""
    encoded = f"replace(encode(convert_to({text}, 'UTF8'), 'base64'), E'\\n', '')"
    return f"rtrim(translate({encoded}, '+/', '-_'), '=')"


def _global_id(type_name: str, column: str) -> str:
    # A type name and a bigint: ASCII without a backslash, so the text is its own bytes, and at
    # most 57 of them, so PostgreSQL writes the base64 on one line (a fifth of the statement's time).
    return f"rtrim(translate(encode(('{type_name}:' || {column})::bytea, 'base64'), '+/', '-_'), '=')"


def _iso(column: str) -> str:
    # Python's isoformat(): microseconds only when there are any, and the UTC offset as +00:00.
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_part('microseconds', {column})"
        f"::bigint % 1000000 = 0 THEN '' ELSE to_char({utc}, '.US') END || '+00:00')"
    )


def _amount(cents: str) -> str:
    return f"(({cents})::numeric / 100)::numeric(20, 2)::text"


def _cursor(alias: str) -> str:
    # orjson.dumps([tag, {"t": placed_at.isoformat()}, id]), byte for byte.
    placed_at = _iso(f"{alias}.placed_at")
    return _base64url(f"""'["{ORDERS_CURSOR_TAG}",{{"t":"' || {placed_at} || '"}},' || {alias}.id || ']'""")


_SCALARS: dict[Entity, dict[str, str]] = {
    "Customer": {
        "id": _global_id("Customer", "{r}.id"),
        "name": "{r}.name",
        "email": "{r}.email",
        "created_at": _iso("{r}.created_at"),
        # The recommendations come from Redis and the stores: written as the key, for the plan.
        "recommendations": "{r}.id",
    },
    "Order": {
        "id": _global_id("Order", "{r}.id"),
        "number": "{r}.number",
        "status": "{r}.status",
        "placed_at": _iso("{r}.placed_at"),
    },
    "OrderLine": {
        "book_id": _global_id("Book", "{r}.book_id"),
        "quantity": "{r}.quantity",
        # The book lives in the inventory store: written as its key, for the plan to replace.
        "book": "{r}.book_id",
    },
    "OrderEvent": {
        "from_status": "{r}.from_status",
        "to_status": "{r}.to_status",
        "occurred_at": _iso("{r}.occurred_at"),
        "note": "{r}.note",
    },
}

# Money members: (cents, currency) per attribute.
_MONEY: dict[Entity, dict[str, tuple[str, str]]] = {
    "Order": {"total": ("{r}.total_cents", "{r}.currency")},
    "OrderLine": {
        "unit_price": ("{r}.unit_price_cents", "{r}._currency"),
        "subtotal": ("{r}.unit_price_cents * {r}.quantity", "{r}._currency"),
    },
}

# Relations: attribute → (child entity, many, join condition of child `c` on parent `p`, order).
_RELATIONS: dict[Entity, dict[str, tuple[Entity, bool, str, str]]] = {
    "Order": {
        "customer": ("Customer", False, "c.id = p.customer_id", ""),
        "lines": ("OrderLine", True, "c.order_id = p.id", "c.id"),
        "events": ("OrderEvent", True, "c.order_id = p.id", "c.occurred_at, c.id"),
    },
}


class _Compiler:
    def __init__(self) -> None:
        self.ctes: list[str] = []
        self.counts: list[str] = []  # per level: how many rows it holds
        self.levels: list[Level] = []
        self.paths: list[tuple[str, ...]] = []
        self.parameters: list[tuple[str, int | None]] = []

    def parameter(self, what: str, slot: int | None, cast: str) -> str:
        self.parameters.append((what, slot))
        return f"${len(self.parameters)}::{cast}"

    def level(self, entity: Entity, page: bool, body: str, path: tuple[str, ...]) -> str:
        """A level of its own: a common table expression the levels below it join."""
        name = f"t{len(self.levels)}"
        self.ctes.append(f"{name} AS ({body})")
        self.counts.append(f"(SELECT count(*) FROM {name}{' WHERE _in' if page else ''})")
        self.levels.append(Level(entity, page))
        self.paths.append(path)
        return name

    def leaf(self, entity: Entity, rows: str, path: tuple[str, ...]) -> str:
        """A level with no level below it: read where its parent's object is written, by a
        correlated subquery on its table's index, as PostGraphile does (no table expression to
        materialise and scan once per parent); `rows` joins it to its parent's level to count it."""
        self.counts.append(f"(SELECT count(*) {rows})")
        self.levels.append(Level(entity, False))
        self.paths.append(path)
        return f"r{len(self.levels) - 1}"

    def root(self, root: Root) -> tuple[str, str]:
        """(the root's JSON expression, its level's name)."""
        if root.kind == "viewer":
            subject = self.parameter("subject", None, "text")
            body = f"SELECT 1::bigint AS _key, c.* FROM customers c WHERE c.subject = {subject}"
            entity: Entity = "Customer"
        else:
            order_id = self.parameter("order_id", None, "bigint")
            admin = self.parameter("admin", None, "boolean")
            subject = self.parameter("subject", None, "text")
            # The row rule: an admin sees every order, a customer their own.
            body = (
                f"SELECT 1::bigint AS _key, c.* FROM orders c WHERE c.id = {order_id} "
                f"AND ({admin} OR c.customer_id IN (SELECT id FROM customers WHERE subject = {subject}))"
            )
            entity = "Order"
        name = self.level(entity, False, body, (root.key,))
        return f"(SELECT {self.object(entity, 'r0', name, root.members, (root.key,))} FROM {name} r0)", name

    def object(
        self, entity: Entity, alias: str, level: str, members: tuple[Node, ...], path: tuple[str, ...]
    ) -> str:
        if not members:
            raise NotInTree("an object with no members")
        if len(members) > 50:  # json_build_object takes at most 100 arguments
            raise NotInTree("more than 50 members in one object")
        pairs = []
        for member in members:
            pairs.append(f"{_text(member.key)}, {self.member(entity, alias, level, member, path)}")
        return f"json_build_object({', '.join(pairs)})"

    def member(self, entity: Entity, alias: str, level: str, member: Node, path: tuple[str, ...]) -> str:
        if member.name == "__typename":
            assert member.literal is not None
            return _text(member.literal)
        scalar = _SCALARS[entity].get(member.name)
        if scalar is not None:
            return scalar.format(r=alias)
        money = _MONEY.get(entity, {}).get(member.name)
        if money is not None:
            return self.money(money[0].format(r=alias), money[1].format(r=alias), member.members)
        relation = _RELATIONS.get(entity, {}).get(member.name)
        if relation is not None:
            return self.relation(alias, level, member, relation, (*path, member.key))
        if entity == "Customer" and member.name == "orders":
            return self.orders(alias, level, member, (*path, member.key))
        raise NotInTree(f"{entity}.{member.name} is not in the orders store's tree")

    def money(self, cents: str, currency: str, members: tuple[Node, ...]) -> str:
        amount = _amount(cents)
        return _json_object("Money", members, {"amount": lambda _: amount, "currency": lambda _: currency})

    def relation(
        self,
        alias: str,
        parent: str,
        member: Node,
        relation: tuple[Entity, bool, str, str],
        path: tuple[str, ...],
    ) -> str:
        entity, many, condition, order = relation
        table = _TABLES[entity]
        # A line's money is in its order's currency.
        extra = ", {p}.currency AS _currency" if entity == "OrderLine" else ""
        rows = f"FROM {parent} p JOIN {table} c ON {condition}{self.in_page(parent)}"
        if any(_below(entity, m) for m in member.members):
            level = self.level(
                entity,
                False,
                f"SELECT row_number() OVER () AS _key, p._key AS _parent, c.*{extra.format(p='p')} {rows}",
                path,
            )
            child = "r" + level[1:]
            value = self.object(entity, child, level, member.members, path)
            where = f"FROM {level} {child} WHERE {child}._parent = {alias}._key"
        else:
            child = self.leaf(entity, rows, path)
            value = self.object(entity, child, "", member.members, path)
            joined = condition.replace("p.", f"{alias}.")
            where = f"FROM (SELECT c.*{extra.format(p=alias)} FROM {table} c WHERE {joined}) {child}"
        if many:
            ordering = order.replace("c.", f"{child}.")
            return f"(SELECT coalesce(json_agg({value} ORDER BY {ordering}), '[]'::json) {where})"
        return f"(SELECT {value} {where})"

    def in_page(self, parent: str) -> str:
        index = int(parent[1:])
        return " WHERE p._in" if self.levels[index].page else ""

    def orders(self, alias: str, parent: str, member: Node, path: tuple[str, ...]) -> str:
        """A customer's orders, newest first: a page of `first` (+1 to know of a next page)."""
        slot = member.slot
        assert slot is not None
        first = self.parameter("first", slot, "int")
        after_value = self.parameter("after_value", slot, "timestamptz")
        after_id = self.parameter("after_id", slot, "bigint")
        statuses = self.parameter("statuses", slot, "text[]")
        filters = f"({statuses} IS NULL OR x.status = ANY({statuses}))"
        body = (
            f"SELECT row_number() OVER () AS _key, p._key AS _parent, o.*, o._rn <= {first} AS _in "
            f"FROM {parent} p CROSS JOIN LATERAL (SELECT x.*, row_number() OVER "
            f"(ORDER BY x.placed_at DESC, x.id DESC) AS _rn FROM orders x WHERE x.customer_id = p.id "
            f"AND {filters} AND ({after_value} IS NULL OR (x.placed_at, x.id) < ({after_value}, {after_id})) "
            f"ORDER BY x.placed_at DESC, x.id DESC LIMIT {first} + 1) o{self.in_page(parent)}"
        )
        level = self.level("Order", True, body, path)
        child = "r" + level[1:]
        rows = f"FROM {level} {child} WHERE {child}._parent = {alias}._key"
        total = f"(SELECT count(*) FROM orders x WHERE x.customer_id = {alias}.id AND {filters})"

        def edges(part: Node) -> str:
            edge = self.edge(child, level, part, (*path, part.key))
            return (
                f"(SELECT coalesce(json_agg({edge} ORDER BY {child}._rn), '[]'::json) {rows} AND {child}._in)"
            )

        return _json_object(
            "OrderConnection",
            member.members,
            {
                "edges": edges,
                "page_info": lambda part: self.page_info(child, rows, after_value, part.members),
                "total_count": lambda _: total,
            },
        )

    def edge(self, child: str, level: str, edge: Node, path: tuple[str, ...]) -> str:
        return _json_object(
            "OrderEdge",
            edge.members,
            {
                "cursor": lambda _: _cursor(child),
                "node": lambda part: self.object("Order", child, level, part.members, (*path, part.key)),
            },
        )

    def page_info(self, child: str, rows: str, after_value: str, members: tuple[Node, ...]) -> str:
        edges = f"{rows} AND {child}._in ORDER BY {child}._rn"
        values = {
            "has_next_page": f"EXISTS (SELECT 1 {rows} AND NOT {child}._in)",
            "has_previous_page": f"({after_value} IS NOT NULL)",
            "start_cursor": f"(SELECT {_cursor(child)} {edges} LIMIT 1)",
            "end_cursor": f"(SELECT {_cursor(child)} {edges} DESC LIMIT 1)",
        }
        return _json_object("PageInfo", members, {name: _constant(sql) for name, sql in values.items()})


def _json_object(type_name: str, members: tuple[Node, ...], values: dict[str, Callable[[Node], str]]) -> str:
    """`members` as one JSON object: each the SQL that `values` makes for its name, or its
    __typename; an object with no members, or one this statement cannot write, is not in the tree."""
    pairs = []
    for member in members:
        if member.name == "__typename":
            assert member.literal is not None
            pairs.append(f"{_text(member.key)}, {_text(member.literal)}")
        elif member.name in values:
            pairs.append(f"{_text(member.key)}, {values[member.name](member)}")
        else:
            raise NotInTree(f"{type_name}.{member.name}")
    if not pairs:
        raise NotInTree(f"a {type_name} with no members")
    return f"json_build_object({', '.join(pairs)})"


def _below(entity: Entity, member: Node) -> bool:
    """Whether `member` of an `entity` is a level of its own (a relation or a page)."""
    return member.name in _RELATIONS.get(entity, {}) or (entity == "Customer" and member.name == "orders")


def _constant(sql: str) -> Callable[[Node], str]:
    return lambda _: sql


def compile_tree(roots: tuple[Root, ...]) -> TreeStatement:
    """One statement for `roots`; raises NotInTree for anything it cannot write."""
    compiler = _Compiler()
    values, founds = [], []
    for root in roots:
        value, level = compiler.root(root)
        values.append(f"{_text(root.key)}, {value}")
        founds.append(f"EXISTS (SELECT 1 FROM {level})")
    counts = compiler.counts
    sql = (
        f"WITH {', '.join(compiler.ctes)} "
        f"SELECT json_build_object({', '.join(values)})::text AS data, "
        f"ARRAY[{', '.join(founds)}] AS found, ARRAY[{', '.join(counts)}]::bigint[] AS rows"
    )
    return TreeStatement(sql, tuple(compiler.parameters), tuple(compiler.levels), tuple(compiler.paths))


def _text(value: str) -> str:
    """A SQL string literal (keys are GraphQL names and type names: no quote can occur, but say so)."""
    return "'" + value.replace("'", "''") + "'"
