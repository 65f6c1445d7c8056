"""Expected failures, each with the stable code clients read from `extensions.code`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    INTERNAL = "INTERNAL"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
    PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    THROTTLED = "THROTTLED"
    # A request that never became an operation: not JSON, no query, a method other than GET/POST.
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


class BookgraphError(Exception):
    """An error whose message is safe to show to the client as it is."""

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadUserInput(BookgraphError):
    code = ErrorCode.BAD_USER_INPUT


class Unauthenticated(BookgraphError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(BookgraphError):
    code = ErrorCode.FORBIDDEN


class NotFound(BookgraphError):
    code = ErrorCode.NOT_FOUND


class SourceUnavailable(BookgraphError):
    code = ErrorCode.SOURCE_UNAVAILABLE

    def __init__(self, store: str) -> None:
        super().__init__(f"The {store} store is unavailable; try again shortly.", store=store)
        self.store = store


class PersistedQueryNotFound(BookgraphError):
    """Apollo's protocol: the client resends the operation with its text."""

    code = ErrorCode.PERSISTED_QUERY_NOT_FOUND

    def __init__(self) -> None:
        # The exact message Apollo clients look for.
        super().__init__("PersistedQueryNotFound")


class PersistedQueryNotInList(BookgraphError):
    code = ErrorCode.PERSISTED_QUERY_NOT_IN_LIST


class PersistedQueryHashMismatch(BookgraphError):
    code = ErrorCode.PERSISTED_QUERY_HASH_MISMATCH


class Throttled(BookgraphError):
    code = ErrorCode.THROTTLED


class MethodNotAllowed(BookgraphError):
    code = ErrorCode.METHOD_NOT_ALLOWED
