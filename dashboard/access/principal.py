"""Who is asking: a signed-in user, a wall's token, a user named by the intranet's proxy, or
nobody. Every check asks the principal for a right (dashboard/access/roles.py), never for a role
by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboard.access.roles import Role
from dashboard.access.scope import Scope

Kind = Literal["anonymous", "user", "token", "proxy"]


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Kind
    id: int | None  # the user's or token's row id
    name: str
    role: Role | None
    districts: tuple[str, ...] | None = None  # None: the whole city
    signed_in_at: float = 0.0  # users: when this session signed in

    def may(self, right: str) -> bool:
        return self.role is not None and self.role.may(right)

    @property
    def masked(self) -> bool:
        """Personal data is masked for this principal (its role says; nobody's is)."""
        return self.role is None or self.role.masked

    @property
    def scope(self) -> Scope:
        """The part of the city it sees (dashboard/access/scope.py): its districts, or all."""
        return Scope.of(self.districts)

    @property
    def who(self) -> str:
        """As the audit log names it: "user:alice", "token:3", "proxy:bob", "anonymous"."""
        if self.kind == "anonymous":
            return "anonymous"
        return f"{self.kind}:{self.id if self.kind == 'token' else self.name}"

    # Flask-Login's user protocol, for the users it keeps in the session.
    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def is_active(self) -> bool:
        return self.kind != "anonymous"

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    def get_id(self) -> str | None:
        return None if self.id is None else str(self.id)


ANONYMOUS = Principal("anonymous", None, "anonymous", None)
