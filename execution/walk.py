"""The planner's walk: the validated selection, with the schema's types, becomes a `Plan` — the
orders tree the statement writes, the holes for other stores, the catalog roots and the cost terms.
What no plan can serve raises `Unsupported`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal, cast

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
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.values import VariableValues, get_argument_values, get_directive_values

from datasources.orders.tree import Node, Root, TreeStatement, compile_tree
from errors import BadUserInput
from execution.books import BOOK_SCALARS, MEMBERS, BookHole, BookWriter, Member
from execution.catalog import (
    CONNECTION,
    EDGE,
    GENRE,
    PAGE_INFO,
    SEARCH_CONNECTION,
    SEARCH_EDGE,
    BookNodes,
    Books,
    Genres,
    OneBook,
)
from execution.plan import Plan, RootField, Slot
from execution.recommended import RECOMMENDATION, Shelf, ShelfHole, Source
from limits.cost import CostWeights
from schema.relay import from_global_id

# The roots a plan can start from, by Query field: the viewer's customer, or one order by ID.
_ROOTS: dict[str, Literal["viewer", "order"]] = {"viewer": "viewer", "order": "order"}
# `node(id:)`, by the type its ID names: planned as the Query field that finds one of that type.
_NODES = {"Book": "book", "Order": "order"}
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
_DEFINITION = "strawberry-definition"


class Unsupported(Exception):
    pass


def id_type(value: Any) -> str | None:
    """The type a global ID names; None for anything that is not one (the general path says why)."""
    try:
        return from_global_id(value)[0] if isinstance(value, str) else None
    except BadUserInput:
        return None


class Walk:
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
        self.slots: list[Slot] = []
        self.holes: list[BookHole | ShelfHole] = []
        self.viewer: str | None = None  # the viewer root's response key, while its members are walked
        # (path, weight): objects cost 1 at their own path, extra weights at their parent's.
        self.terms: list[tuple[tuple[str, ...], int]] = []

    def plan(self) -> Plan:
        query = self.schema.query_type
        assert query is not None
        roots, root_fields, keys = [], [], []
        catalog: list[tuple[str, Books | BookNodes | Genres | OneBook | Shelf]] = []
        for key, nodes in self.collect(query, (self.operation.selection_set,)).items():
            name = nodes[0].name.value
            if name not in query.fields:  # __typename, __schema, __type
                raise Unsupported(f"Query.{name}")
            field = query.fields[name]
            extra = self.weights.extra(self.schema, query, name)
            if extra:
                self.terms.append(((), extra))
            named = get_named_type(field.type)
            if name == "nodes":
                keys.append(key)
                catalog.append((key, self.book_nodes(field, nodes)))
                continue
            if name == "node":
                # Planned per the type its ID names (a condition of the plan): as `book(id:)` for a
                # Book, as `order(id:)` for an Order, its fragments applied for that type.
                kind = id_type(get_argument_values(field, nodes[0], self.variables)["id"])
                if kind not in _NODES:
                    raise Unsupported(f"node of {kind}")
                named = self.schema.get_type(kind)
                name = _NODES[kind]
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
            root_fields.append(RootField(kind, field, nodes[0]))
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

    def book_nodes(self, field: GraphQLField, nodes: Sequence[FieldNode]) -> BookNodes:
        """`nodes(ids:)` when every ID names a Book (the types are a condition of the plan)."""
        given = nodes[0].arguments[0].value if nodes[0].arguments else None
        if isinstance(given, ListValueNode) and any(isinstance(v, VariableNode) for v in given.values):
            raise Unsupported("nodes with variables inside a list")  # (no condition reads those)
        ids = get_argument_values(field, nodes[0], self.variables)["ids"]
        if not ids or any(id_type(value) != "Book" for value in ids):
            raise Unsupported("nodes of other types than Book")
        book = self.schema.get_type("Book")
        assert isinstance(book, GraphQLObjectType)
        return BookNodes(self.schema, field, nodes[0], BookWriter(self.book(book, nodes)))

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
                self.slots.append(Slot(field, field_nodes[0]))
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
