"""What clients see of an error: expected ones keep their message and code, the rest are masked."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from errors import BookgraphError, ErrorCode
from observability.telemetry import GRAPHQL_ERRORS, REQUEST_ID

log = logging.getLogger("bookgraph.errors")

MASKED_MESSAGE = "Internal server error."
_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$")


def error_code(error: GraphQLError) -> ErrorCode:
    original = error.original_error
    if isinstance(original, BookgraphError):
        return original.code
    if original is None:
        if error.extensions and "code" in error.extensions:  # permission classes set their own
            return ErrorCode(str(error.extensions["code"]))
        if error.message.startswith("Syntax Error"):
            return ErrorCode.GRAPHQL_PARSE_FAILED
        return ErrorCode.GRAPHQL_VALIDATION_FAILED
    if about_the_request(error):
        # graphql-core's own complaint about a value the client sent: variables that do not coerce
        # (missing, null for non-null, out of range, unknown input fields). With a path it would be
        # a value this server failed to serialise, which is a fault of ours.
        return ErrorCode.BAD_USER_INPUT
    return ErrorCode.INTERNAL


def about_the_request(error: GraphQLError) -> bool:
    """A parse or validation error, or variables that do not coerce: raised before anything ran."""
    return not error.path and (error.original_error is None or isinstance(error.original_error, GraphQLError))


def refused_before_execution(result: ExecutionResult) -> bool:
    errors = result.errors or []
    return result.data is None and bool(errors) and all(map(about_the_request, errors))


def present(error: GraphQLError) -> GraphQLError:
    code = error_code(error)
    GRAPHQL_ERRORS.labels(code.value).inc()
    if code is ErrorCode.INTERNAL:
        log.error(
            "unexpected error at %s",
            ".".join(map(str, error.path or [])) or "<operation>",
            exc_info=error.original_error,
        )
        return GraphQLError(
            MASKED_MESSAGE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": code.value, "requestId": REQUEST_ID.get()},
        )
    extensions = dict(error.extensions or {})
    original = error.original_error
    if isinstance(original, BookgraphError):
        extensions.update(original.extensions)
    extensions["code"] = code.value
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


def present_all(errors: list[GraphQLError] | None, *, suggestions: bool = True) -> list[GraphQLError] | None:
    """Every error of a result as the client sees it; applied once, where the response is made.
    Without `suggestions`, no "Did you mean …" hints: they name fields and types the client could not
    otherwise list."""
    if not errors:
        return errors
    presented = [present(e) for e in errors]
    if not suggestions:
        for error in presented:
            error.message = without_suggestions(error.message)
    return presented


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)
