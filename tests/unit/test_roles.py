"""Roles are data (dashboard/data/roles.toml): a city renames or narrows them in a file of its own;
a right the code does not know is refused at start, not silently granted or ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.access.principal import ANONYMOUS, Principal
from dashboard.access.roles import RIGHTS, load_roles
from dashboard.access.secrets import (
    hash_password,
    new_token,
    password_problem,
    server_secret,
    token_digest,
    verify_password,
)


def test_the_bundled_roles_as_the_issue_lists_them() -> None:
    roles = load_roles()
    assert set(roles) == {"wall", "briefing", "leader", "dispatcher", "admin"}
    assert roles["wall"].rights == {"see.wall"} and roles["wall"].masked
    assert roles["briefing"].rights == {"see.briefing"} and roles["briefing"].masked  # issue 14
    assert roles["leader"].may("act.supervise") and not roles["leader"].may("act.dispatch")
    assert roles["dispatcher"].rights == roles["leader"].rights | {"act.dispatch"}
    assert roles["admin"].rights == RIGHTS and not roles["admin"].masked


def test_a_city_renames_and_narrows_a_role(tmp_path: Path) -> None:
    path = tmp_path / "roles.toml"
    path.write_text('[roles.duty]\nzh = "值班"\nen = "On duty"\nrights = ["see.wall", "see.desk"]\nmasked = true\n',
                    encoding="utf-8")
    roles = load_roles(path)
    assert list(roles) == ["duty"] and roles["duty"].zh == "值班" and roles["duty"].masked
    assert not roles["duty"].may("act.supervise")


@pytest.mark.parametrize("text, problem", [
    ('[roles.x]\nrights = ["see.wall", "see.everything"]\n', "unknown right"),
    ("# nothing\n", r"no \[roles"),
    (f'[roles.{"r" * 40}]\nrights = []\n', "longer than"),
])
def test_a_roles_file_with_a_mistake_is_refused(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=problem):
        load_roles(path)


def test_principals_ask_rights_and_nobody_is_masked() -> None:
    roles = load_roles()
    leader = Principal("user", 3, "王", roles["leader"])
    assert leader.may("see.desk") and not leader.may("admin.users") and not leader.masked
    assert leader.who == "user:王" and Principal("token", 7, "大厅", roles["wall"]).who == "token:7"
    assert ANONYMOUS.masked and not ANONYMOUS.may("see.wall") and not ANONYMOUS.is_authenticated


def test_passwords_and_tokens() -> None:
    assert password_problem("short") is not None and password_problem("x" * 129) is not None
    assert password_problem("a good long passphrase") is None
    stored = hash_password("a good long passphrase")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "a good long passphrase")
    assert not verify_password(stored, "a good long passphrasf")
    assert not verify_password(None, "a good long passphrase")  # no user: the same work, no
    assert not verify_password("not a hash", "whatever")
    token = new_token()
    assert len(token) >= 43 and token_digest(token) != token and len(token_digest(token)) == 64


def test_the_server_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = server_secret(None, tmp_path)
    assert first == server_secret(None, tmp_path) and len(first) == 64
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert server_secret("configured-secret-value", tmp_path) == b"configured-secret-value"
