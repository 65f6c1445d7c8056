"""Permission classes: who may call a field, declared on the field. Which rows a viewer may see is
decided where the rows are loaded (datasources/orders/source.py), not here."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import strawberry
from strawberry.permission import BasePermission

from auth.viewer import Role, Viewer
from errors import Forbidden, Unauthenticated


class ViewerContext(Protocol):
    """All a permission reads of the request's context (so this module needs nothing above auth)."""

    viewer: Viewer


class _RolePermission(BasePermission):
    roles: ClassVar[frozenset[Role]]

    def has_permission(self, source: Any, info: strawberry.Info[ViewerContext, None], **kwargs: Any) -> bool:
        viewer = info.context.viewer
        if viewer.role in self.roles:
            return True
        # Raised rather than returned: an anonymous caller is told to sign in, a signed-in one
        # that it may not, and the shared permission instance keeps no per-request state.
        if not viewer.is_authenticated:
            raise Unauthenticated("Sign in to do this.")
        raise Forbidden(self.message or "You may not do this.")


class IsCustomer(_RolePermission):
    message = "Only a customer may do this."
    roles = frozenset({Role.CUSTOMER})


class IsAdmin(_RolePermission):
    message = "Only an administrator may do this."
    roles = frozenset({Role.ADMIN})


class IsSignedIn(_RolePermission):
    message = "Sign in to do this."
    roles = frozenset({Role.CUSTOMER, Role.PARTNER, Role.ADMIN})
