"""Permission classes declared on fields."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from errors import ErrorCode


class IsAuthenticated(BasePermission):
    message = "Sign in to see this field."
    error_extensions: ClassVar[dict[str, object]] = {"code": ErrorCode.UNAUTHENTICATED.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.is_authenticated)


class IsAdmin(BasePermission):
    message = "Only an administrator may see this field."
    error_extensions: ClassVar[dict[str, object]] = {"code": ErrorCode.FORBIDDEN.value}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.is_admin)
