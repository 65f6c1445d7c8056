"""The Viewer: who a request acts for. An anonymous request gets an object too, never None."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from starlette.authentication import BaseUser


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    CUSTOMER = "customer"
    PARTNER = "partner"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Viewer(BaseUser):
    role: Role
    subject: str | None = None
    name: str | None = None
    email: str | None = None
    expires_at: int | None = None  # the token's `exp`: a live connection ends then

    @property
    def is_authenticated(self) -> bool:
        return self.role is not Role.ANONYMOUS

    @property
    def identity(self) -> str:
        return self.subject or ""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_customer(self) -> bool:
        return self.role is Role.CUSTOMER


ANONYMOUS = Viewer(role=Role.ANONYMOUS)
