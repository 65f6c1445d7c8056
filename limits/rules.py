"""Validation rules that refuse documents too large to execute, and a parser with a token limit.

Each rule is made by a factory taking its limit and can be passed to `graphql.validate(schema,
document, rules=[...])`. Each error carries `extensions.code == QUERY_TOO_COMPLEX`, the measured
value and the limit.

Fragments are followed where they are spread: a fragment adds its depth at the spread's depth, and
its aliases every time it is spread. Nothing is skipped because of a name (an operation or fragment
named `__schema` is an ordinary one; introspection fields count like any other). Fragment cycles
(reported by graphql-core's NoFragmentCycles) add nothing: the traversals stop there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VisitorAction,
    parse,
)

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

__all__ = [
    "QUERY_TOO_COMPLEX",
    "max_aliases_rule",
    "max_depth_rule",
    "max_directives_rule",
    "parse_limited",
]


def too_complex(message: str, nodes: Any = None, **details: Any) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": QUERY_TOO_COMPLEX, **details})


# -- Following fragments --------------------------------------------------------------------------


@dataclass(slots=True)
class _Summary:
    """One selection set without following its fragment spreads."""

    depth: int = 0  # the deepest nesting of fields
    aliases: int = 0
    spreads: list[tuple[str, int]] = field(default_factory=list)  # (fragment, fields around it)


def _summarize(selection_set: SelectionSetNode) -> _Summary:
    summary = _Summary()
    stack = [(selection_set, 0)]  # iterative: the parser allows 200 levels of nesting
    while stack:
        current, level = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                summary.depth = max(summary.depth, level + 1)
                if selection.alias is not None:
                    summary.aliases += 1
                if selection.selection_set is not None:
                    stack.append((selection.selection_set, level + 1))
            elif isinstance(selection, InlineFragmentNode):
                stack.append((selection.selection_set, level))
            elif isinstance(selection, FragmentSpreadNode):
                summary.spreads.append((selection.name.value, level))
    return summary


class _Fragments:
    """The fragments of a document, each summarized once; values over spreads folded in memo."""

    def __init__(self, document: DocumentNode) -> None:
        self.summaries = {
            definition.name.value: _summarize(definition.selection_set)
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }

    def fold(self, summary: _Summary, combine: Callable[[_Summary, Callable[[str], int]], int]) -> int:
        """`combine(summary, value_of_fragment)` for `summary`, fragments evaluated depth first.

        Iterative (a chain of fragments may be longer than Python's recursion limit); a fragment
        spread inside its own expansion (a cycle) counts 0, and unknown fragments count 0.
        """
        memo: dict[str, int] = {}
        opened: set[str] = set()
        stack: list[str] = [name for name, _ in summary.spreads]
        while stack:
            name = stack[-1]
            if name in memo:
                stack.pop()
                continue
            fragment = self.summaries.get(name)
            if fragment is None:
                memo[name] = 0
                stack.pop()
                continue
            if name not in opened:
                opened.add(name)
                pending = [n for n, _ in fragment.spreads if n not in memo and n not in opened]
                if pending:
                    stack.extend(pending)
                    continue
            memo[name] = combine(fragment, lambda n: memo.get(n, 0))
            stack.pop()
        return combine(summary, lambda n: memo.get(n, 0))


def _depth(summary: _Summary, fragment_depth: Callable[[str], int]) -> int:
    return max([summary.depth, *(level + fragment_depth(name) for name, level in summary.spreads)])


# Fragments spread twice in a chain double the count at every link: 64 links are 2^64 aliases,
# more than JSON can carry. Counted up to this, which is past any limit, and reported as "at least".
ALIAS_COUNT_CAP = 1_000_000


def _aliases(summary: _Summary, fragment_aliases: Callable[[str], int]) -> int:
    return min(summary.aliases + sum(fragment_aliases(name) for name, _ in summary.spreads), ALIAS_COUNT_CAP)


def _operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            yield definition


def _describe(operation: OperationDefinitionNode) -> str:
    return f"Operation '{operation.name.value}'" if operation.name else "The anonymous operation"


# -- Rules ----------------------------------------------------------------------------------------


def max_depth_rule(limit: int) -> type[ValidationRule]:
    """Refuse an operation whose fields nest deeper than `limit` (fragments expanded)."""

    class MaxDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = _Fragments(context.document)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> VisitorAction:
            depth = self.fragments.fold(_summarize(node.selection_set), _depth)
            if depth > limit:
                self.report_error(
                    too_complex(
                        f"{_describe(node)} has a depth of {depth}, more than the maximum of {limit}.",
                        node,
                        depth=depth,
                        limit=limit,
                    )
                )
            return SKIP

        @staticmethod
        def enter_fragment_definition(*_args: Any) -> VisitorAction:
            return SKIP  # measured where it is spread

    MaxDepthRule.__name__ = MaxDepthRule.__qualname__ = f"MaxDepthRule_{limit}"
    return MaxDepthRule


def max_aliases_rule(limit: int) -> type[ValidationRule]:
    """Refuse an operation with more than `limit` aliases, counted through every fragment spread."""

    class MaxAliasesRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = _Fragments(context.document)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> VisitorAction:
            aliases = self.fragments.fold(_summarize(node.selection_set), _aliases)
            if aliases > limit:
                self.report_error(
                    too_complex(
                        f"{_describe(node)} has {'at least ' if aliases == ALIAS_COUNT_CAP else ''}"
                        f"{aliases} aliases, more than the maximum of {limit}.",
                        node,
                        aliases=aliases,
                        limit=limit,
                    )
                )
            return SKIP

        @staticmethod
        def enter_fragment_definition(*_args: Any) -> VisitorAction:
            return SKIP

    MaxAliasesRule.__name__ = MaxAliasesRule.__qualname__ = f"MaxAliasesRule_{limit}"
    return MaxAliasesRule


def max_directives_rule(limit: int) -> type[ValidationRule]:
    """Refuse more than `limit` directives on any one field, fragment spread, inline fragment,
    operation, fragment definition or variable definition."""

    class MaxDirectivesRule(ValidationRule):
        def enter(self, node: Any, *_args: Any) -> None:
            directives = getattr(node, "directives", None)
            if directives and len(directives) > limit:
                name = getattr(getattr(node, "name", None), "value", None)
                where = f"'{name}'" if name else "one selection"
                self.report_error(
                    too_complex(
                        f"{len(directives)} directives on {where}, more than the maximum of {limit}.",
                        node,
                        directives=len(directives),
                        limit=limit,
                    )
                )

    MaxDirectivesRule.__name__ = MaxDirectivesRule.__qualname__ = f"MaxDirectivesRule_{limit}"
    return MaxDirectivesRule


# -- Tokens ---------------------------------------------------------------------------------------

# graphql-core's messages when a parser limit stops it (GraphQLSyntaxError, "Syntax Error: ...").
_PARSER_LIMIT = re.compile(
    r"Document (contains more than \d+ (tokens|comments|code points)|is nested too deeply)\."
)


def parse_limited(
    source: str,
    max_tokens: int,
    *,
    max_comments: int | None = None,
    max_source_length: int | None = None,
) -> DocumentNode:
    """`graphql.parse` that stops after `max_tokens` tokens (comments not included).

    graphql-core 3.3 counts tokens with `max_lexical_tokens` (its older `max_tokens`, which counts
    comments too, is deprecated); comments have their own limit, `max_comments` (by default
    `max_tokens` as well), and `max_source_length` limits the text (code points). Exceeding a limit,
    or nesting deeper than the parser allows, raises a GraphQLError with code QUERY_TOO_COMPLEX and
    the limit; any other syntax error is raised as graphql-core raises it.
    """
    try:
        return parse(
            source,
            max_lexical_tokens=max_tokens,
            max_comments=max_tokens if max_comments is None else max_comments,
            max_source_length=max_source_length,
        )
    except GraphQLError as error:
        if not _PARSER_LIMIT.search(error.message):
            raise
        raise GraphQLError(
            error.message,
            source=error.source,
            positions=error.positions,
            extensions={"code": QUERY_TOO_COMPLEX, "limit": _limit_of(error.message, max_tokens)},
        ) from None


def _limit_of(message: str, default: int) -> int:
    match = re.search(r"more than (\d+)", message)
    return int(match.group(1)) if match else default
