"""HTTP cache hints, as Apollo Server's @cacheControl: each field may say how long its value stays
fresh and whether it is the same for everyone; an answer may be kept as long as its shortest-lived
field, and only by the client itself when any field (or the request's token) is about one viewer.

- A root field without a hint is not cacheable (max-age 0); a nested field without one inherits
  its parent's: a book's title is as fresh as the page that listed it, its stock is fresher.
- Mutations, errors and refusals are `no-store`; so is anything with max-age 0.
- A request with a token is `private` whatever it selected: a shared cache must never hand one
  viewer's answer to another.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from graphql import (
    REMOVE,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    TypeInfo,
    TypeInfoVisitor,
    get_operation_ast,
    visit,
)
from graphql.language import Visitor

# Vary: the answer depends on who asks and in which media type (gzip adds Accept-Encoding).
VARY = "Accept, Authorization"
NO_STORE = "no-store"


@dataclass(frozen=True, slots=True)
class Hint:
    max_age: int | None = None  # seconds; None inherits the parent field's
    private: bool = False


# Declared once here, per type and field. The catalog changes by import, stock with every order.
HINTS: dict[str, Hint] = {
    "Query.genres": Hint(300),
    "Query.books": Hint(60),
    "Query.book": Hint(60),
    "Query.author": Hint(60),
    "Query.searchBooks": Hint(60),
    "Query.trendingBooks": Hint(300),
    "Query.node": Hint(60),
    "Query.nodes": Hint(60),
    "Book.stock": Hint(10),
    "Book.alsoBought": Hint(300),
    "Book.similarBooks": Hint(300),
    # About one viewer: never in a shared cache, and not kept by the client either.
    "Query.viewer": Hint(0, private=True),
    "Query.order": Hint(0, private=True),
    "Customer.orders": Hint(0, private=True),
    "Customer.recommendations": Hint(0, private=True),
    # An order reached another way (node, nodes, _entities): its status moves, it is one customer's.
    "Order.status": Hint(0, private=True),
    "Order.events": Hint(0, private=True),
}


@dataclass(frozen=True, slots=True)
class Policy:
    max_age: int
    private: bool

    def header(self, *, with_token: bool) -> str:
        if self.max_age <= 0:
            return NO_STORE
        return f"{'private' if self.private or with_token else 'public'}, max-age={self.max_age}"


class CachePolicies:
    def __init__(self, schema: GraphQLSchema, hints: dict[str, Hint] | None = None) -> None:
        self.schema = schema
        self.hints = HINTS if hints is None else hints
        self.of = lru_cache(maxsize=1024)(self._of)

    def header(
        self, document: DocumentNode | None, operation_name: str | None, *, errors: bool, with_token: bool
    ) -> str:
        if document is None or errors:
            return NO_STORE
        policy = self.of(document, operation_name)
        return NO_STORE if policy is None else policy.header(with_token=with_token)

    def _of(self, document: DocumentNode, operation_name: str | None) -> Policy | None:
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}

        class Inline(Visitor):
            """Each spread replaced by its fragment, so its fields inherit from where it is spread
            (the document passed validation: no cycles, no unknown fragments)."""

            def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> object:
                fragment = fragments.get(node.name.value)
                if fragment is None:
                    return REMOVE
                return InlineFragmentNode(
                    type_condition=fragment.type_condition,
                    directives=(),
                    selection_set=fragment.selection_set,
                )

        type_info = TypeInfo(self.schema)
        hints = self.hints
        ages: list[int] = []
        around: list[int] = []  # the effective max-age of each enclosing field
        private = False

        class Walk(Visitor):
            def enter_field(self, node: FieldNode, *_: object) -> None:
                nonlocal private
                parent = type_info.get_parent_type()
                hint = hints.get(f"{parent.name}.{node.name.value}") if parent is not None else None
                # A root field without a hint is not cacheable; a nested one is as fresh as its parent.
                inherited = around[-1] if around else 0
                age = hint.max_age if hint is not None and hint.max_age is not None else inherited
                private = private or (hint is not None and hint.private)
                if node.name.value != "__typename":
                    ages.append(age)
                around.append(age)

            def leave_field(self, *_: object) -> None:
                around.pop()

        visit(visit(operation, Inline()), TypeInfoVisitor(type_info, Walk()))
        return Policy(min(ages, default=0), private)
