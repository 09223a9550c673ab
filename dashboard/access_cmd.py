"""`gridwall user ...`, `gridwall token ...` and `gridwall audit`: accounts from the command line
(docs/access.md). Passwords are read without echo (or one line from standard input with
--password-stdin, for scripts); a token is printed once and only its hash is kept."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from dashboard import limits
from dashboard.access.roles import load_roles
from dashboard.access.secrets import hash_password, new_token, password_problem, token_digest
from dashboard.config import Settings
from dashboard.store import db
from dashboard.store.accounts import Accounts


def add_user_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("add", help="add a user: add NAME --role ROLE [--districts CODE,...]")
    p.add_argument("name")
    p.add_argument("--role", required=True)
    p.add_argument("--districts", help="comma-separated district codes the user is limited to (default: the whole city)")
    p.add_argument("--password-stdin", action="store_true", help="read the password as one line from standard input")
    p = sub.add_parser("passwd", help="set a user's password (unlocks it and signs it out everywhere)")
    p.add_argument("name")
    p.add_argument("--password-stdin", action="store_true")
    p = sub.add_parser("disable", help="disable a user (signs it out everywhere); --enable to undo")
    p.add_argument("name")
    p.add_argument("--enable", action="store_true")
    sub.add_parser("list", help="the users, their roles and districts")


def add_token_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = sub.add_parser("create", help="create a token: create --role wall --name 大厅主屏 (shown once)")
    p.add_argument("--role", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--districts", help="comma-separated district codes the token is limited to")
    sub.add_parser("list", help="the tokens (never the tokens themselves)")
    p = sub.add_parser("revoke", help="revoke a token by its id: its screens fall to the sign-in page at their next poll")
    p.add_argument("id", type=int)


def add_audit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--action", help="only this action (login, login_failed, token_new_address, ...)")


def _accounts(settings: Settings) -> Accounts:
    db.upgrade(settings.resolved_database_url)
    return Accounts(db.engine_for(settings.resolved_database_url))


def _districts(value: str | None) -> list[str] | None:
    return None if not value else [d.strip() for d in value.split(",") if d.strip()]


def _role_problem(settings: Settings, role: str) -> str | None:
    roles = load_roles(settings.roles_file)
    return None if role in roles else f"unknown role {role!r}; the roles are: {', '.join(roles)}"


def _read_password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        print("the two passwords differ", file=sys.stderr)
        return None
    return first


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def user_command(args: argparse.Namespace, settings: Settings) -> int:
    accounts = _accounts(settings)
    now = time.time()
    if args.action == "list":
        for u in accounts.users():
            state = "disabled" if u.disabled else ("locked" if u.locked_until and u.locked_until > now else "active")
            print(f"{u.name}\t{u.role}\t{','.join(u.districts) if u.districts else '(city)'}\t{state}\t"
                  f"last login {_when(u.last_login_at)}")
        return 0
    if args.action == "disable":
        if not accounts.set_disabled(args.name, not args.enable, now):
            print(f"no user {args.name!r}", file=sys.stderr)
            return 1
        accounts.audit("cli", None, "user_enabled" if args.enable else "user_disabled", {"name": args.name}, now)
        return 0
    if args.action == "add":
        if len(args.name) > limits.ACCOUNT_NAME or not args.name.strip():
            print(f"a user name has 1 to {limits.ACCOUNT_NAME} characters", file=sys.stderr)
            return 2
        problem = _role_problem(settings, args.role)
        if problem:
            print(problem, file=sys.stderr)
            return 2
        if accounts.user(name=args.name) is not None:
            print(f"user {args.name!r} exists; `gridwall user passwd` changes a password", file=sys.stderr)
            return 1
    elif accounts.user(name=args.name) is None:
        print(f"no user {args.name!r}", file=sys.stderr)
        return 1
    password = _read_password(args.password_stdin)
    if password is None:
        return 1
    problem = password_problem(password)
    if problem:
        print(f"password refused: {problem}", file=sys.stderr)
        return 2
    if args.action == "add":
        accounts.add_user(args.name, args.role, _districts(args.districts), hash_password(password), now)
        accounts.audit("cli", None, "user_added", {"name": args.name, "role": args.role,
                                                   "districts": args.districts or ""}, now)
        print(f"user {args.name} added ({args.role})")
    else:
        accounts.set_password(args.name, hash_password(password), now)
        accounts.audit("cli", None, "password_set", {"name": args.name}, now)
        print(f"password of {args.name} set; its sessions are signed out")
    return 0


def site_url(settings: Settings) -> str:
    """Where a browser on this machine reaches the web server (a wildcard listen is not an address)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    return f"http://{host}:{settings.port}"


def wall_url(settings: Settings, token: str) -> str:
    return f"{site_url(settings)}/?token={token}"


def token_command(args: argparse.Namespace, settings: Settings) -> int:
    accounts = _accounts(settings)
    now = time.time()
    if args.action == "list":
        for tk in accounts.tokens():
            state = f"revoked {_when(tk.revoked_at)}" if tk.revoked_at else "active"
            print(f"{tk.id}\t{tk.name}\t{tk.role}\t{','.join(tk.districts) if tk.districts else '(city)'}\t{state}\t"
                  f"last used {_when(tk.last_used_at)} from {tk.last_address or '-'}")
        return 0
    if args.action == "revoke":
        if not accounts.revoke_token(args.id, now):
            print(f"no active token {args.id}", file=sys.stderr)
            return 1
        accounts.audit("cli", None, "token_revoked", {"id": args.id}, now)
        print(f"token {args.id} revoked")
        return 0
    problem = _role_problem(settings, args.role)
    if problem or len(args.name) > limits.ACCOUNT_NAME:
        print(problem or f"a token name has at most {limits.ACCOUNT_NAME} characters", file=sys.stderr)
        return 2
    token = new_token()
    token_id = accounts.add_token(args.name, args.role, _districts(args.districts), token_digest(token), now)
    accounts.audit("cli", None, "token_created", {"id": token_id, "name": args.name, "role": args.role}, now)
    print(f"token {token_id} ({args.name}, {args.role}); shown once, keep it:")
    print(token)
    print(f"open: {wall_url(settings, token)}")
    return 0


def audit_command(args: argparse.Namespace, settings: Settings) -> int:
    for e in reversed(_accounts(settings).audit_log(args.limit, args.action)):
        print(f"{_when(e.at)}\t{e.who}\t{e.address or '-'}\t{e.action}\t{json.dumps(e.detail, ensure_ascii=False)}")
    return 0


FIRST_START = "first-start.txt"


def first_start(settings: Settings) -> str | None:
    """`gridwall demo`'s first start: with no user yet, an admin with a random password and a
    wall token, written to ``data_dir/first-start.txt`` (mode 0600) and returned as the text to
    print. Later starts return the same text from that file until an admin deletes it."""
    path = settings.data_dir.resolve() / FIRST_START
    accounts = _accounts(settings)
    if accounts.users():
        return path.read_text(encoding="utf-8") if path.exists() else None
    now = time.time()
    password = secrets.token_urlsafe(12)
    accounts.add_user("admin", "admin", None, hash_password(password), now)
    token = new_token()
    token_id = accounts.add_token("大厅主屏", "wall", None, token_digest(token), now)
    accounts.audit("demo", None, "first_start", {"admin": "admin", "token": token_id}, now)
    text = (f"wall (大屏): {wall_url(settings, token)}\n"
            f"sign in:     {site_url(settings)}/login  user admin  password {password}\n"
            f"(kept in {path}; delete it once you have changed the password: gridwall user passwd admin)\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return text


def read_first_start(data_dir: Path) -> str | None:
    path = data_dir.resolve() / FIRST_START
    return path.read_text(encoding="utf-8") if path.exists() else None
