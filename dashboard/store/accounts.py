"""Users, tokens and the audit log in SQL (tables ``app_user``, ``access_token``, ``audit_log``;
docs/access.md). The rules (who may do what, when an account locks) are dashboard/access's; this
module stores what they decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from dashboard import limits
from dashboard.store.models import AuditRow, TokenRow, UserRow

_DETAIL_CHARS = 2000  # an audit detail's texts are cut here: an audit row never fails to write


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    districts: tuple[str, ...] | None
    password_hash: str | None
    disabled: bool
    failed_logins: int
    locked_until: float | None
    sessions_after: float
    created_at: float
    last_login_at: float | None


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    name: str
    role: str
    districts: tuple[str, ...] | None
    created_at: float
    revoked_at: float | None
    last_used_at: float | None
    last_address: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: float
    who: str
    address: str | None
    action: str
    detail: dict[str, Any]


def _districts(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _user(row: Any) -> User:
    return User(row.id, row.name, row.role, _districts(row.districts), row.password_hash, bool(row.disabled),
                int(row.failed_logins), row.locked_until, float(row.sessions_after), row.created_at, row.last_login_at)


def _token(row: Any) -> Token:
    return Token(row.id, row.name, row.role, _districts(row.districts), row.created_at, row.revoked_at,
                 row.last_used_at, row.last_address)


def _cut(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: (v[:_DETAIL_CHARS] if isinstance(v, str) else v) for k, v in detail.items()}


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- users ------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, districts: Sequence[str] | None, password_hash: str | None,
                 now: float) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(insert(UserRow).values(
                name=name, role=role, districts=None if districts is None else list(districts),
                password_hash=password_hash, disabled=False, failed_logins=0, sessions_after=0.0,
                created_at=now).returning(UserRow.id)).scalar_one())

    def user(self, *, name: str | None = None, user_id: int | None = None) -> User | None:
        where = UserRow.name == name if name is not None else UserRow.id == user_id
        with self.engine.connect() as conn:
            row = conn.execute(select(UserRow).where(where)).first()
        return None if row is None else _user(row)

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(UserRow).order_by(UserRow.name))]

    def set_password(self, name: str, password_hash: str, now: float) -> bool:
        """A new password unlocks the account and signs it out everywhere."""
        return self._update_user(name, password_hash=password_hash, failed_logins=0, locked_until=None,
                                 sessions_after=now)

    def set_disabled(self, name: str, disabled: bool, now: float) -> bool:
        return self._update_user(name, disabled=disabled, sessions_after=now)

    def set_role(self, name: str, role: str, districts: Sequence[str] | None, now: float) -> bool:
        return self._update_user(name, role=role, districts=None if districts is None else list(districts),
                                 sessions_after=now)

    def _update_user(self, name: str, **values: Any) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(UserRow).where(UserRow.name == name).values(**values)).rowcount > 0

    def login_failed(self, user_id: int, now: float, max_failures: int, lock_s: float) -> float | None:
        """Count a failed login; at ``max_failures`` in a row the account locks for ``lock_s``.
        One UPDATE, so two concurrent failures both count. Returns the lock's end, if locked."""
        with self.engine.begin() as conn:
            failed = conn.execute(update(UserRow).where(UserRow.id == user_id)
                                  .values(failed_logins=UserRow.failed_logins + 1)
                                  .returning(UserRow.failed_logins)).scalar_one()
            if failed < max_failures:
                return None
            until = now + lock_s
            conn.execute(update(UserRow).where(UserRow.id == user_id).values(failed_logins=0, locked_until=until))
            return until

    def login_succeeded(self, user_id: int, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(UserRow).where(UserRow.id == user_id)
                         .values(failed_logins=0, locked_until=None, last_login_at=now))

    # --- tokens -----------------------------------------------------------------------------
    def add_token(self, name: str, role: str, districts: Sequence[str] | None, digest: str, now: float) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(insert(TokenRow).values(
                name=name, role=role, districts=None if districts is None else list(districts), digest=digest,
                created_at=now).returning(TokenRow.id)).scalar_one())

    def token_by_digest(self, digest: str) -> Token | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(TokenRow).where(TokenRow.digest == digest)).first()
        return None if row is None else _token(row)

    def token(self, token_id: int) -> Token | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(TokenRow).where(TokenRow.id == token_id)).first()
        return None if row is None else _token(row)

    def tokens(self) -> list[Token]:
        with self.engine.connect() as conn:
            return [_token(r) for r in conn.execute(select(TokenRow).order_by(TokenRow.id))]

    def revoke_token(self, token_id: int, now: float) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(update(TokenRow).where(TokenRow.id == token_id, TokenRow.revoked_at.is_(None))
                                .values(revoked_at=now)).rowcount > 0

    def token_used(self, token_id: int, address: str | None, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(TokenRow).where(TokenRow.id == token_id)
                         .values(last_used_at=now, last_address=(address or "")[:limits.REMOTE_ADDRESS] or None))

    # --- the audit log ----------------------------------------------------------------------
    def audit(self, who: str, address: str | None, action: str, detail: dict[str, Any], now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(AuditRow).values(
                at=now, who=who[:limits.ACCOUNT_NAME + 8], address=(address or "")[:limits.REMOTE_ADDRESS] or None,
                action=action[:32], detail=_cut(detail)))

    def audit_log(self, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if action is not None:
            query = query.where(AuditRow.action == action)
        with self.engine.connect() as conn:
            return [AuditEntry(r.id, r.at, r.who, r.address, r.action, dict(r.detail)) for r in conn.execute(query)]
