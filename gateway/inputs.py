"""Text no resolver should be handed, refused at the edge with the place it was found.

- NUL characters: PostgreSQL refuses them in text (the error would name a statement), and SQLite's
  LIKE reads one as the end of the pattern, so `titleContains: "\\u0000"` matched every book.
- Strings longer than `max_length`: no field of this API takes that much text, and long LIKE
  patterns make SQLite give up ("pattern too complex") as if the store were down.

Variables are checked on every request, the document's own literals once per document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, visit
from graphql.language import Visitor

from errors import BadUserInput


def _problem(text: str, max_length: int) -> str | None:
    if len(text) > max_length:
        return f"is longer than {max_length} characters"
    if "\x00" in text:
        return "contains a NUL character"
    # Lone surrogates never get this far: the JSON decoder refuses them, the GraphQL lexer too.
    return None


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, string) for every string in a JSON value, keys included, without recursion."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield f"{where}.{key}", key
                stack.append((f"{where}.{key}", inner))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))


def check_variables(variables: dict[str, Any] | None, max_length: int) -> GraphQLError | None:
    for where, text in _strings(variables or {}, "$"):
        problem = _problem(text, max_length)
        if problem is not None:
            name = where.removeprefix("$.")
            refused = BadUserInput(f"The variable `${name}` {problem}.", variable=name)
            return GraphQLError(refused.message, original_error=refused)
    return None


def check_literals(document: DocumentNode, max_length: int) -> GraphQLError | None:
    found: list[GraphQLError] = []

    class Strings(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: object) -> None:
            problem = None if found else _problem(node.value, max_length)
            if problem is not None:
                refused = BadUserInput(f"A string in the query {problem}.")
                found.append(GraphQLError(refused.message, node, original_error=refused))

    visit(document, Strings())
    return found[0] if found else None
