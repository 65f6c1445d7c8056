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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    validate,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from graphql.language import Visitor, visit

from auth.viewer import Viewer
from context import Context
from datasources.base import Engine
from datasources.orders.tree import (
    ORDERS_CURSOR_TAG,
    Arguments,
    Node,
    NotInTree,
    PageArguments,
    Root,
    TreeResult,
    TreeStatement,
    compile_tree,
)
from errors import BadUserInput, BookgraphError, Forbidden, NotFound, SourceUnavailable, Unauthenticated
from execution.books import BOOK_SCALARS, MEMBERS, BookHole, BookWriter, Member, together
from execution.catalog import (
    CONNECTION,
    EDGE,
    GENRE,
    PAGE_INFO,
    SEARCH_CONNECTION,
    SEARCH_EDGE,
    Books,
    Genres,
    OneBook,
)
from execution.recommended import RECOMMENDATION, Shelf, ShelfHole, Source
from limits.cost import CostWeights
from observability.tracing import planned_operation
from schema.relay import check_first, decode_cursor, pk_of

log = logging.getLogger(__name__)

Reason = Literal["not_a_query", "unsupported", "variables", "arguments", "viewer", "not_found", "error"]

# The roots a plan can start from, by Query field: the viewer's customer, or one order by ID.
_ROOTS: dict[str, Literal["viewer", "order"]] = {"viewer": "viewer", "order": "order"}
# The one connection inside the tree: a customer's orders (its `first`, `after`, `status`).
_PAGED = ("Customer", "orders")
# A line's book: from the inventory store, filled in after the orders statement (execution.books).
_BOOK = ("OrderLine", "book")
# The viewer's recommendations: filled in after the orders statement (execution.recommended).
_RECOMMENDATIONS = ("Customer", "recommendations")
# A book's recommendation lists, under `book(id:)` (execution.catalog.OneBook).
_SHELVES: dict[str, tuple[str, str]] = {
    "similar_books": ("Book", "similarBooks"),
    "also_bought": ("Book", "alsoBought"),
}
# The fields with arguments a plan passes on as the resolvers receive them.
_WITH_ARGUMENTS = frozenset({_PAGED, _RECOMMENDATIONS, *_SHELVES.values()})
# Why a resolver's refusal sends a request to the general path, which reports it with its path.
_REFUSALS: dict[type[BookgraphError], Reason] = {
    BadUserInput: "arguments",
    NotFound: "not_found",
    Forbidden: "viewer",
    Unauthenticated: "viewer",
}
_DEFINITION = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class Fallback:
    """The general path answers this request."""

    reason: Reason
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    data: orjson.Fragment  # the `data` object's JSON, spliced into the response as it is
    actual_cost: int


@dataclass(frozen=True, slots=True)
class _RootField:
    kind: Literal["viewer", "order"]
    field: GraphQLField
    node: FieldNode


@dataclass(frozen=True, slots=True)
class _Slot:
    field: GraphQLField
    node: FieldNode


@dataclass(frozen=True, slots=True)
class Plan:
    statement: TreeStatement | None  # None: nothing from the orders store
    roots: tuple[_RootField, ...]
    slots: tuple[_Slot, ...]
    # (level, weight): the actual cost is the sum of weight times that level's rows (level -1: once).
    cost_terms: tuple[tuple[int, int], ...]
    # The lines' books and the viewer's recommendations, once the orders statement has run.
    holes: tuple[BookHole | ShelfHole, ...] = ()
    # The roots of other stores (the catalog, trending books), read beside the orders statement.
    catalog: tuple[tuple[str, Books | Genres | OneBook | Shelf], ...] = ()
    keys: tuple[str, ...] = ()  # every root's response key, in the order of the selection

    def arguments(self, viewer: Viewer, variables: VariableValues) -> Arguments | Fallback:
        order_id = None
        for root in self.roots:
            if root.kind == "viewer" and not (viewer.is_customer and viewer.subject):
                return Fallback("viewer", "no customer signed in")
            if root.kind == "order":
                if not viewer.is_authenticated:
                    return Fallback("viewer", "not signed in")
                given = get_argument_values(root.field, root.node, variables)
                try:
                    order_id = pk_of(given["id"], "Order")
                except BadUserInput:
                    return Fallback("arguments", "id")
        pages = {}
        for index, slot in enumerate(self.slots):
            given = get_argument_values(slot.field, slot.node, variables)
            try:
                first = check_first(given["first"])
                after = decode_cursor(given.get("after"), ORDERS_CURSOR_TAG)
            except BadUserInput:
                return Fallback("arguments", "first/after")
            if after is not None and not isinstance(after[0], datetime):
                return Fallback("arguments", "after")
            statuses = given.get("status")
            pages[index] = PageArguments(
                first,
                after,
                tuple(sorted(str(getattr(s, "value", s)) for s in statuses))
                if statuses is not None
                else None,
            )
        return Arguments(
            subject=viewer.subject,
            admin=viewer.is_admin,
            order_id=order_id,
            pages=pages,
        )

    async def run(self, engine: Engine, context: Context, variables: VariableValues) -> Answer | Fallback:
        try:
            return await self._run(engine, context, variables)
        except SourceUnavailable:
            raise
        except BookgraphError as refused:  # the general path says which, with its path
            return Fallback(_REFUSALS.get(type(refused), "error"), refused.message)

    async def _run(self, engine: Engine, context: Context, variables: VariableValues) -> Answer | Fallback:
        arguments = self.arguments(context.viewer, variables)
        if isinstance(arguments, Fallback):
            return arguments
        if not self.catalog:  # the orders statement alone: no tasks to start
            assert self.statement is not None
            results: list[Any] = [await self.statement.run(engine, arguments)]
        else:
            results = await together(
                self.statement.run(engine, arguments) if self.statement else _none(),
                *(root.write(context, variables) for _, root in self.catalog),
            )
        result = cast(TreeResult | None, results[0])
        written = cast(list[tuple[Any, int]], results[1:])
        if result is not None and not all(result.found):
            # A customer seen for the first time (the general path creates it), or an order that
            # is not there or not theirs (the general path says NOT_FOUND, with its path).
            return Fallback("not_found")
        rows = result.rows if result is not None else ()
        cost = sum(weight * (rows[level] if level >= 0 else 1) for level, weight in self.cost_terms)
        if result is not None and not self.holes and not self.catalog:
            return Answer(orjson.Fragment(result.data), cost)
        ordered = orjson.loads(result.data) if result is not None else {}
        for (key, _), (value, objects) in zip(self.catalog, written, strict=True):
            ordered[key] = value
            cost += objects
        data = {key: ordered[key] for key in self.keys}
        # Together, so that the request's loaders batch the books of every place at once.
        filled = await together(*(hole.fill(data, context, variables) for hole in self.holes))
        return Answer(orjson.Fragment(orjson.dumps(data)), cost + sum(filled))


async def _none() -> None:
    return None


class Unsupported(Exception):
    pass


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
        self._conditions: OrderedDict[tuple[str, str | None], tuple[str, ...] | Fallback] = OrderedDict()

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

    def conditions(self, text: str, operation_name: str | None) -> tuple[str, ...] | Fallback:
        """The variables the operation's `@skip`/`@include` read, or why it can have no plan."""
        return self._cached(  # type: ignore[no-any-return]
            self._conditions, (text, operation_name), lambda: self._conditions_of(text, operation_name)
        )

    def plan(self, text: str, operation_name: str | None, variables: VariableValues) -> Plan | Fallback:
        """The plan for this request, or why it has none. `variables` are the coerced values."""
        conditions = self.conditions(text, operation_name)
        if isinstance(conditions, Fallback):
            return conditions
        values = tuple(variables.coerced.get(name) for name in conditions)  # Booleans: `if:`
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

    def _conditions_of(self, text: str, operation_name: str | None) -> tuple[str, ...] | Fallback:
        """The variables this operation's `@skip`/`@include` read (a plan is made per their values)."""
        document = self.parse(text)
        if document is None or validate(self.schema, document):
            return Fallback("unsupported", "invalid document")  # the general path reports why
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return Fallback("unsupported", "no such operation")
        if operation.operation is not OperationType.QUERY:
            return Fallback("not_a_query")
        names: set[str] = set()

        class Conditions(Visitor):
            def enter_directive(self, node: Any, *_: Any) -> None:
                if node.name.value in ("skip", "include"):
                    names.update(
                        a.value.name.value for a in node.arguments if isinstance(a.value, VariableNode)
                    )

        visit(document, Conditions())
        return tuple(sorted(names))

    def _compile(self, text: str, operation_name: str | None, variables: VariableValues) -> Plan | Fallback:
        document = self.parse(text)
        assert document is not None  # _conditions_of has parsed and validated it
        operation = get_operation_ast(document, operation_name)
        assert operation is not None
        try:
            return _Walk(self.schema, self.weights, document, operation, variables).plan()
        except (Unsupported, NotInTree) as why:
            return Fallback("unsupported", str(why))


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        weights: CostWeights,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.weights = weights
        self.operation = operation
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.slots: list[_Slot] = []
        self.holes: list[BookHole | ShelfHole] = []
        self.viewer: str | None = None  # the viewer root's response key, while its members are walked
        # (path, weight): objects cost 1 at their own path, extra weights at their parent's.
        self.terms: list[tuple[tuple[str, ...], int]] = []

    def plan(self) -> Plan:
        query = self.schema.query_type
        assert query is not None
        roots, root_fields, keys = [], [], []
        catalog: list[tuple[str, Books | Genres | OneBook | Shelf]] = []
        for key, nodes in self.collect(query, (self.operation.selection_set,)).items():
            name = nodes[0].name.value
            if name not in query.fields:  # __typename, __schema, __type
                raise Unsupported(f"Query.{name}")
            field = query.fields[name]
            extra = self.weights.extra(self.schema, query, name)
            if extra:
                self.terms.append(((), extra))
            named = get_named_type(field.type)
            assert isinstance(named, GraphQLObjectType)
            keys.append(key)
            if name in ("books", "searchBooks"):
                catalog.append((key, self.books(field, nodes, search=name == "searchBooks")))
                continue
            if name == "genres":
                catalog.append((key, Genres(self.plain(named, nodes, GENRE))))
                continue
            if name == "book":
                catalog.append((key, self.one_book(field, named, nodes)))
                continue
            if name == "trendingBooks":
                catalog.append((key, self.shelf("trending_books", field, named, nodes)))
                continue
            kind = _ROOTS.get(name)
            if kind is None:
                raise Unsupported(f"Query.{name}")
            self.terms.append(((key,), 1))
            self.viewer = key if kind == "viewer" else None
            roots.append(Root(key, kind, self.members(named, nodes, (key,))))
            self.viewer = None
            root_fields.append(_RootField(kind, field, nodes[0]))
        if not keys:
            raise Unsupported("no root field")
        statement = compile_tree(tuple(roots)) if roots else None
        return Plan(
            statement,
            tuple(root_fields),
            tuple(self.slots),
            self.cost_terms(statement) if statement else tuple(self.constant_terms()),
            tuple(self.holes),
            tuple(catalog),
            tuple(keys),
        )

    def constant_terms(self) -> list[tuple[int, int]]:
        return [(-1, sum(weight for path, weight in self.terms if not path))]

    def books(self, field: GraphQLField, nodes: Sequence[FieldNode], search: bool = False) -> Books:
        """`books` (or `searchBooks`): its connection's members, within what `execution.catalog`
        writes."""
        allowed, allowed_edge = (SEARCH_CONNECTION, SEARCH_EDGE) if search else (CONNECTION, EDGE)
        connection = get_named_type(field.type)
        assert isinstance(connection, GraphQLObjectType)
        members: list[Member] = []
        edge: tuple[Member, ...] = ()
        page_info: tuple[Member, ...] = ()
        writer = BookWriter(())
        typenames = {"connection": connection.name}
        for key, name, child, child_nodes in self.fields_of(connection, nodes):
            if name not in allowed:
                raise Unsupported(f"{connection.name}.{name}")
            if name in ("edges", "page_info"):
                assert child is not None
                if any(m.name == name for m in members):
                    raise Unsupported(f"{name} under two keys")
                typenames["edge" if name == "edges" else "page_info"] = child.name
            if name == "edges":
                assert child is not None
                edge = self.plain(child, child_nodes, allowed_edge)
                for _, part, book, book_nodes in self.fields_of(child, child_nodes):
                    if part == "node" and book is not None:
                        writer = BookWriter(self.book(book, book_nodes))
                if sum(m.name == "node" for m in edge) > 1:
                    raise Unsupported("the node under two keys")
            elif name == "page_info":
                assert child is not None
                page_info = self.plain(child, child_nodes, PAGE_INFO)
            members.append(Member(key, name))
        typenames.setdefault("edge", "BookEdge")
        typenames.setdefault("page_info", "PageInfo")
        return Books(field, nodes[0], tuple(members), edge, page_info, writer, typenames, self.schema, search)

    def one_book(self, field: GraphQLField, book: GraphQLObjectType, nodes: Sequence[FieldNode]) -> OneBook:
        """`book(id | isbn)`: what `book` writes of any book, and its recommendation lists."""
        members, plain, shelves = [], [], []
        weight = 0
        for key, name, child, child_nodes in self.fields_of(book, nodes):
            members.append(Member(key, name))
            if name in _SHELVES:
                assert child is not None
                weight += self.weights.extra(self.schema, book, child_nodes[0].name.value)
                shelves.append(
                    (
                        key,
                        self.shelf(
                            cast(Source, name), book.fields[child_nodes[0].name.value], child, child_nodes
                        ),
                    )
                )
            else:
                plain.append(self.book_member(key, name, child, child_nodes))
        return OneBook(
            self.schema, field, nodes[0], tuple(members), BookWriter(tuple(plain)), tuple(shelves), weight
        )

    def shelf(
        self,
        source: Source,
        field: GraphQLField,
        recommendation: GraphQLObjectType,
        nodes: Sequence[FieldNode],
    ) -> Shelf:
        """A list of recommendations, within what `execution.recommended` writes."""
        members: list[Member] = []
        writer = BookWriter(())
        for key, name, child, child_nodes in self.fields_of(recommendation, nodes):
            if name not in RECOMMENDATION:
                raise Unsupported(f"{recommendation.name}.{name}")
            if name == "book":
                assert child is not None
                if any(m.name == "book" for m in members):
                    raise Unsupported("the book under two keys")
                writer = BookWriter(self.book(child, child_nodes))
            members.append(Member(key, name))
        return Shelf(source, self.schema, field, nodes[0], tuple(members), writer)

    def plain(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], allowed: frozenset[str]
    ) -> tuple[Member, ...]:
        """Scalar members only, among `allowed`."""
        members = []
        for key, name, _, _ in self.fields_of(type_, nodes):
            if name not in allowed:
                raise Unsupported(f"{type_.name}.{name}")
            members.append(Member(key, name))
        return tuple(members)

    def cost_terms(self, statement: TreeStatement) -> tuple[tuple[int, int], ...]:
        # A level's rows are the objects at its path; a page's rows are its edges (and nodes).
        anchors = [
            (*path, "edges") if level.page else path
            for path, level in zip(statement.paths, statement.levels, strict=True)
        ]
        terms: dict[int, int] = {}
        for path, weight in self.terms:
            best = -1
            for index, anchor in enumerate(anchors):
                if path[: len(anchor)] == anchor and (best < 0 or len(anchor) > len(anchors[best])):
                    best = index
            terms[best] = terms.get(best, 0) + weight
        return tuple(sorted(terms.items()))

    def members(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode], path: tuple[str, ...]
    ) -> tuple[Node, ...]:
        members = []
        for key, name, child, field_nodes in self.fields_of(type_, nodes):
            if name == "__typename":
                members.append(Node(key, name, literal=type_.name))
                continue
            graphql_name = field_nodes[0].name.value
            field = type_.fields[graphql_name]
            if (type_.name, graphql_name) == _BOOK:
                # Another store's object: the tree writes its key, the plan the book (and counts it).
                assert child is not None
                self.holes.append(BookHole((*path, key), BookWriter(self.book(child, field_nodes))))
                members.append(Node(key, name))
                continue
            if (type_.name, graphql_name) == _RECOMMENDATIONS:
                # Personal: planned for the viewer's own customer only (whom the viewer may see).
                if path != (self.viewer,):
                    raise Unsupported("recommendations of a customer other than the viewer")
                assert child is not None
                shelf = self.shelf("recommendations", field, child, field_nodes)
                self.holes.append(ShelfHole((*path, key), shelf))
                extra = self.weights.extra(self.schema, type_, graphql_name)
                if extra:
                    self.terms.append((path, extra))
                members.append(Node(key, name))
                continue
            extra = self.weights.extra(self.schema, type_, graphql_name)
            if extra:
                self.terms.append((path, extra))
            slot = None
            if (type_.name, graphql_name) == _PAGED:
                slot = len(self.slots)
                self.slots.append(_Slot(field, field_nodes[0]))
            if child is not None:
                self.terms.append(((*path, key), 1))
                members.append(Node(key, name, self.members(child, field_nodes, (*path, key)), slot=slot))
            else:
                members.append(Node(key, name))
        return tuple(members)

    def book(self, book: GraphQLObjectType, nodes: Sequence[FieldNode]) -> tuple[Member, ...]:
        """What a book shows, within what `execution.books` writes."""
        return tuple(self.book_member(*selected) for selected in self.fields_of(book, nodes))

    def book_member(
        self, key: str, name: str, child: GraphQLObjectType | None, nodes: Sequence[FieldNode]
    ) -> Member:
        if name == "__typename" or name in BOOK_SCALARS or name == "genres":
            return Member(key, name)
        if name in MEMBERS and child is not None:
            parts = []
            for part_key, part, _, _ in self.fields_of(child, nodes):
                if part not in MEMBERS[name]:
                    raise Unsupported(f"{child.name}.{part}")
                parts.append(Member(part_key, part))
            return Member(key, name, tuple(parts))
        raise Unsupported(f"Book.{name}")

    def fields_of(
        self, type_: GraphQLObjectType, nodes: Sequence[FieldNode]
    ) -> Iterator[tuple[str, str, GraphQLObjectType | None, list[FieldNode]]]:
        """(response key, Python name, object type or None, nodes) of each field selected, in order.
        A field that takes arguments (but those in `_WITH_ARGUMENTS`) or holds an interface or a
        union is not for a plan."""
        selection_sets = tuple(n.selection_set for n in nodes if n.selection_set is not None)
        for key, field_nodes in self.collect(type_, selection_sets).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                yield key, name, None, field_nodes
                continue
            field = type_.fields[name]
            if field.args and (type_.name, name) not in _WITH_ARGUMENTS:
                raise Unsupported(f"{type_.name}.{name} takes arguments")
            named = get_named_type(field.type)
            if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
                raise Unsupported(f"{type_.name}.{name} is abstract")
            child = named if isinstance(named, GraphQLObjectType) else None
            yield key, field.extensions[_DEFINITION].python_name, child, field_nodes

    def collect(
        self, type_: GraphQLObjectType, selection_sets: Sequence[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """Fields by response key, in the order execution meets them."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def gather(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self.included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self.applies(selection.type_condition, type_):
                        gather(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if (
                        name in visited
                        or fragment is None
                        or not self.applies(fragment.type_condition, type_)
                    ):
                        continue
                    visited.add(name)
                    gather(fragment.selection_set)

        for selection_set in selection_sets:
            gather(selection_set)
        return fields

    def included(self, node: Any) -> bool:
        try:
            skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
            include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        except GraphQLError as error:
            raise Unsupported("a directive's variable") from error
        return not (skip and skip["if"]) and not (include and not include["if"])

    def applies(self, condition: Any, type_: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if named is type_:
            return True
        # An interface or union the object type belongs to (`... on Node`).
        abstract = isinstance(named, GraphQLInterfaceType | GraphQLUnionType)
        return abstract and self.schema.is_sub_type(named, type_)  # type: ignore[arg-type]


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
