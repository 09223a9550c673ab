"""Passwords and tokens: argon2id (argon2-cffi) for passwords, which people choose and which must
resist guessing offline; SHA-256 for tokens, which are 256 random bits already, so a fast hash
is enough and a lookup by hash stays one indexed query."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dashboard import limits

_hasher = PasswordHasher()  # argon2-cffi's defaults: argon2id, RFC 9106's low-memory profile
# Verifying against this when the user does not exist costs as long as a real check, so the
# time a failed login takes does not tell which user names exist.
_DUMMY = _hasher.hash("not a password of anyone's")
TOKEN_BYTES = 32


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < limits.PASSWORD_MIN:
        return f"at least {limits.PASSWORD_MIN} characters"
    if len(password) > limits.PASSWORD_MAX:
        return f"at most {limits.PASSWORD_MAX} characters"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Does ``password`` match ``stored``? With nothing stored, the same work is done and False
    returned."""
    if len(password) > limits.PASSWORD_MAX:
        return False
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def server_secret(configured: str | None, data_dir: Path) -> bytes:
    """The key that signs sessions and keys the device aliases: the configured one, else the one
    made at first start in ``data_dir/secret.key`` (0600; made atomically, so two workers that
    start together agree on it)."""
    if configured:
        return configured.encode()
    path = data_dir.resolve() / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret.key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # fails if another process made it first: theirs wins
        tmp.unlink()
    return path.read_text().strip().encode()
