"""Intranet single sign-on through a real nginx (Debian's), configured from the shipped example
docs/deploy/nginx-gridwall.conf: the header names the user only when nginx set it, and only from
the proxy's address. Direct requests and forged headers get nothing (docs/access.md)."""

from __future__ import annotations

import base64
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from proxy_servers import Nginx
from werkzeug.serving import make_server

from dashboard.access.secrets import hash_password
from dashboard.app import create_app
from dashboard.launcher import free_port
from dashboard.store import db
from dashboard.store.accounts import Accounts
from dashboard.store.hot import HotStore, connect
from feeds.steps.publish import Ticker

PROXY_ADDRESS = "127.0.0.3"  # nginx connects to the app from here (proxy_bind); tests come from 127.0.0.1
USERS = {"admin": "admin-secret", "leader": "leader-secret", "mallory": "mallory-secret"}  # nginx's


@dataclass
class Proxied:
    nginx: Nginx
    direct: str  # the app itself, bypassing nginx
    accounts: Accounts


@pytest.fixture
def proxied(stack, tmp_path: Path, need_nginx) -> Iterator[Proxied]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    settings = stack.settings(tmp_path, auth_proxy_header="X-Remote-User", auth_proxy_addresses=PROXY_ADDRESS)
    db.upgrade(settings.resolved_database_url)
    accounts = Accounts(db.engine_for(settings.resolved_database_url))
    for name, role in (("admin", "admin"), ("leader", "leader")):  # mallory: known to nginx, not to gridwall
        accounts.add_user(name, role, None, hash_password("unused by the proxy path"), time.time())
    Ticker(HotStore(connect(settings.resolved_redis_url))).tick()
    # The app listens on every loopback address, so nginx can reach it from its own.
    server = make_server("0.0.0.0", free_port(), create_app(settings).server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    nginx = Nginx(tmp_path / "nginx", f"127.0.0.1:{server.server_port}", USERS, bind=PROXY_ADDRESS)
    nginx.start()
    try:
        yield Proxied(nginx, f"http://127.0.0.1:{server.server_port}", accounts)
    finally:
        nginx.stop()
        server.shutdown()


def get(url: str, user: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    h = dict(headers or {})
    if user:
        h["Authorization"] = "Basic " + base64.b64encode(f"{user}:{USERS[user]}".encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=h), timeout=10) as resp:
            return resp.status, _body(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, _body(err.read())


def _body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode(errors="replace")


def test_the_user_nginx_authenticated_is_the_user_gridwall_sees(proxied: Proxied) -> None:
    n = proxied.nginx
    status, body = get(n.url + "/healthz", "admin")
    assert status in (200, 503) and "parts" in body, (body, n.log())  # the admin's detailed answer
    assert get(n.url + "/wall/poll?v=&b=", "admin")[0] == 200
    status, body = get(n.url + "/healthz", "leader")
    assert body.keys() == {"status"}  # a leader may not see the detail
    assert get(n.url + "/wall/poll?v=&b=", "leader")[0] == 200


def test_nginx_asks_for_a_sign_in_first(proxied: Proxied) -> None:
    status, body = get(proxied.nginx.url + "/wall/poll?v=&b=")
    assert status == 401 and "nginx" in str(body)  # nginx's own page: the request never reached the app


def test_a_header_sent_by_the_client_is_replaced_by_nginx(proxied: Proxied) -> None:
    n = proxied.nginx
    status, body = get(n.url + "/healthz", "leader", {"X-Remote-User": "admin"})
    assert body.keys() == {"status"}, "the client's X-Remote-User: admin got through"
    # The screens' site has no sign-in and clears the header: a forged one makes nobody a user.
    status, body = get(n.screens_url + "/wall/poll?v=&b=", headers={"X-Remote-User": "admin"})
    assert status == 401 and body["reason"] == "login"
    status, body = get(n.screens_url + "/healthz", headers={"X-Remote-User": "admin"})
    assert body.keys() == {"status"}


def test_a_user_gridwall_does_not_know_is_refused(proxied: Proxied) -> None:
    status, body = get(proxied.nginx.url + "/wall/poll?v=&b=", "mallory")
    assert status == 403 and body["reason"] == "proxy_unknown_user"
    audited = [e for e in proxied.accounts.audit_log(10) if e.action == "proxy_unknown_user"]
    assert audited and audited[0].who == "proxy:mallory" and audited[0].address == "127.0.0.1"


def test_the_header_from_anywhere_but_the_proxy_is_refused_and_audited(proxied: Proxied) -> None:
    status, body = get(proxied.direct + "/wall/poll?v=&b=", headers={"X-Remote-User": "admin"})
    assert status == 403 and body["reason"] == "proxy_untrusted"
    refused = [e for e in proxied.accounts.audit_log(10) if e.action == "proxy_refused"]
    assert refused and refused[0].address == "127.0.0.1" and refused[0].detail["header"] == "X-Remote-User"


def test_the_audit_log_names_the_client_not_the_proxy(proxied: Proxied) -> None:
    def refusals() -> list[str]:
        return [e.address for e in proxied.accounts.audit_log(10, action="token_refused")]

    # A token refused through the screens' site: audited with the client's address (127.0.0.1),
    # which nginx passes in X-Forwarded-For, not nginx's own (127.0.0.3).
    get(proxied.nginx.screens_url + "/?token=not-a-token", headers={"Accept": "text/html"})
    assert refusals() == ["127.0.0.1"]
    # nginx replaces a client's own X-Forwarded-For (it does not append to it), so a forged first
    # hop sent through the proxy does not reach the audit log either ...
    forged = {"Accept": "text/html", "X-Forwarded-For": "203.0.113.9"}
    get(proxied.nginx.screens_url + "/?token=not-a-token", headers=forged)
    assert refusals() == ["127.0.0.1"] * 2, "a client's X-Forwarded-For went through nginx"
    # ... and one sent straight to the app is not believed: it is trusted from the proxy only.
    get(proxied.direct + "/?token=not-a-token", headers=forged)
    assert refusals() == ["127.0.0.1"] * 3
