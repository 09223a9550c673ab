"""Roles as data (dashboard/data/roles.toml, or the file `roles_file` names): what each role may
see and do, and whether personal data is masked for it. Code asks for a right, never for a role
by name, so a city can rename roles or narrow them without a code change."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from dashboard import limits

DEFAULT_ROLES = Path(__file__).resolve().parent.parent / "data" / "roles.toml"

# Every right the code asks for; a roles file naming another is a typo, refused at start.
RIGHTS = frozenset({
    "see.wall", "see.desk", "see.briefing", "see.reports",
    "act.supervise", "act.dispatch",
    "admin.users", "admin.health", "admin.deadletters",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    zh: str
    en: str
    rights: frozenset[str]
    masked: bool

    def may(self, right: str) -> bool:
        return right in self.rights


def load_roles(path: Path | None = None) -> Mapping[str, Role]:
    """The roles of ``path`` (default: the bundled file). Raises ValueError on an unknown right,
    a name too long for its column, or a file without roles."""
    source = path or DEFAULT_ROLES
    data = tomllib.loads(source.read_text(encoding="utf-8")).get("roles", {})
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{source}: no [roles.<name>] tables")
    roles: dict[str, Role] = {}
    for name, spec in data.items():
        if len(name) > limits.ROLE:
            raise ValueError(f"{source}: role name {name!r} longer than {limits.ROLE}")
        rights = frozenset(spec.get("rights", ()))
        unknown = rights - RIGHTS
        if unknown:
            raise ValueError(f"{source}: role {name!r}: unknown right(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(sorted(RIGHTS))}")
        roles[name] = Role(name, str(spec.get("zh", name)), str(spec.get("en", name)), rights,
                           bool(spec.get("masked", False)))
    return MappingProxyType(roles)
