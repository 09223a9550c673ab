"""Who may see and do what (docs/access.md), against the real app on both stacks: every route
against every kind of principal, CSRF, the login lockout and rate limit, the idle timeout, the
proxy header, revoked tokens, the security headers and the request size cap."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from helpers import ROOT, grant

from dashboard.access.scope import Scope
from dashboard.access.secrets import hash_password
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.accounts import Accounts
from dashboard.store.board import BoardStore
from dashboard.store.hot import DeviceFix, HotStore, connect
from feeds.steps.publish import Ticker

PASSWORD = "a long enough password"
HASHED = hash_password(PASSWORD)  # once: argon2 is slow on purpose
HTML = {"Accept": "text/html"}


@dataclass
class Site:
    settings: Settings
    app: Any
    accounts: Accounts

    def client(self, principal: str) -> Any:
        """A test client signed in as ``principal``: anonymous, wall (a token), revoked (a token
        revoked after it was used), leader, dispatcher, admin or district (a leader limited to
        one district)."""
        c = self.app.server.test_client()
        if principal == "anonymous":
            return c
        if principal in ("wall", "revoked"):
            token = grant(self.settings.resolved_database_url, "wall", principal, token="")
            assert c.get(f"/?token={token}", headers=HTML).status_code == 302
            if principal == "revoked":
                self.accounts.revoke_token(self.accounts.tokens()[-1].id, time.time())
            return c
        login(c, principal)
        return c


def login(client: Any, name: str, password: str = PASSWORD, follow: bool = False) -> Any:
    page = client.get("/login", headers=HTML)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.data.decode())
    data = {"username": name, "password": password, "csrf_token": csrf.group(1) if csrf else ""}
    return client.post("/login?next=/", data=data, follow_redirects=follow)


def make_site(settings: Settings) -> Site:
    db.upgrade(settings.resolved_database_url)
    accounts = Accounts(db.engine_for(settings.resolved_database_url))
    now = time.time()
    for name, role, districts in (("leader", "leader", None), ("dispatcher", "dispatcher", None),
                                  ("admin", "admin", None), ("district", "leader", ["330106"])):
        accounts.add_user(name, role, districts, HASHED, now)
    hot = HotStore(connect(settings.resolved_redis_url))
    Ticker(hot).tick(now)  # a KPI snapshot: the poll has a picture to give
    # ... and the district user's, as the ingest worker builds it for a scope that asked.
    BoardMaker(hot, db.engine_for(settings.resolved_database_url), settings).update(now, Scope.of(["330106"]))
    return Site(settings, create_app(settings), accounts)


@pytest.fixture
def site(stack, tmp_path: Path) -> Site:
    return make_site(stack.settings(tmp_path, login_lock_s=2.0))


# --- the route x role matrix ---------------------------------------------------------------------

PRINCIPALS = ("anonymous", "wall", "revoked", "leader", "dispatcher", "admin", "district")
SIGNED_IN = ("wall", "leader", "dispatcher", "admin", "district")
DESK = ("leader", "dispatcher", "admin", "district")
# route -> what each principal gets: a status, or (status, a check of the body)
DETAILED = lambda r: "parts" in r.get_json()  # noqa: E731
BARE = lambda r: r.get_json() in ({"status": "up"}, {"status": "down"})  # noqa: E731
MATRIX: dict[str, dict[str, Any]] = {
    "/": {"anonymous": 302, "revoked": 302, **dict.fromkeys(SIGNED_IN, 200)},
    "/wall/poll?v=&b=": {"anonymous": 401, "revoked": 401, **dict.fromkeys(SIGNED_IN, 200)},
    "/_dash-layout": {"anonymous": 401, "revoked": 401, **dict.fromkeys(SIGNED_IN, 200)},
    "/_dash-dependencies": {"anonymous": 401, "revoked": 401, **dict.fromkeys(SIGNED_IN, 200)},
    "/healthz": {**{p: (None, BARE) for p in PRINCIPALS}, "admin": (None, DETAILED)},
    "/login": dict.fromkeys(PRINCIPALS, 200),
    "/assets/gridwall-core.js": dict.fromkeys(PRINCIPALS, 200),
    "/assets/city/city.json": dict.fromkeys(PRINCIPALS, 200),
    "/no/such/page": {"anonymous": 302, "revoked": 302, **dict.fromkeys(SIGNED_IN, 200)},
    # The desk (issue 12): leaders and dispatchers; a wall is refused the page and its data.
    "/desk": {"anonymous": 302, "revoked": 302, "wall": 403, **dict.fromkeys(DESK, 200)},
    "/desk/api/cases": {"anonymous": 401, "revoked": 401, "wall": 403, **dict.fromkeys(DESK, 200)},
    "/desk/api/board": {"anonymous": 401, "revoked": 401, "wall": 403, **dict.fromkeys(DESK, 200)},
    "/desk/api/ranks?period=year": {"anonymous": 401, "revoked": 401, "wall": 403, **dict.fromkeys(DESK, 200)},
    # The desk's own pages: the weekly list, the collector board (issue 13), replay.
    **{page: {"anonymous": 302, "revoked": 302, "wall": 403, **dict.fromkeys(DESK, 200)}
       for page in ("/desk/weekly", "/desk/collectors", "/desk/replay")},
}


def test_every_route_against_every_principal(site: Site) -> None:
    problems = []
    for principal in PRINCIPALS:
        client = site.client(principal)
        for route, expected in MATRIX.items():
            want = expected[principal]
            status, check = want if isinstance(want, tuple) else (want, None)
            resp = client.get(route, headers=HTML if not route.startswith(("/wall", "/_dash", "/healthz", "/desk/api")) else {})
            if status is not None and resp.status_code != status:
                problems.append(f"{principal} GET {route}: {resp.status_code}, expected {status}")
            if check is not None and not check(resp):
                problems.append(f"{principal} GET {route}: body {resp.data[:120]!r}")
            if status == 302 and "/login" not in resp.headers.get("Location", ""):
                problems.append(f"{principal} GET {route}: redirected to {resp.headers.get('Location')}")
    assert problems == []


def test_an_anonymous_poll_gets_no_byte_of_the_picture(site: Site) -> None:
    hot = HotStore(connect(site.settings.resolved_redis_url))
    hot.r.hset("{gw}:dev", "C1", orjson.dumps({"id": "C1", "name": "张三", "lat": 30.27, "lon": 120.16}))
    for principal in ("anonymous", "revoked"):
        resp = site.client(principal).get("/wall/poll?v=&b=")
        assert resp.status_code == 401 and b"C1" not in resp.data and "张三".encode() not in resp.data
        assert orjson.loads(resp.data)["reason"] in ("login", "login_token")


def test_a_district_limited_user_polls_its_districts_picture_and_counters(site: Site) -> None:
    hot = HotStore(connect(site.settings.resolved_redis_url))
    mine, other = "33010600100101", "33010200100101"
    hot.write_positions([DeviceFix(d, time.time(), 30.27, 120.16, {"id": d, "kind": "collector", "ts": time.time(),
                                                                   "name": n, "grid_code": g})
                         for d, n, g in (("C-mine", "张三", mine), ("C-other", "李四", other))])
    hot.put_cases([{"case_id": k, "open": True, "district": g[:6], "grid_code": g, "due": time.time() - 60,
                    "warn_at": time.time() - 120, "title": t} for k, g, t in (("K-mine", mine, "井盖"), ("K-other", other, "垃圾"))])
    ticker = Ticker(hot)
    ticker.note(["C-mine", "C-other"], ["K-mine", "K-other"])
    ticker.tick()
    BoardMaker(hot, db.engine_for(site.settings.resolved_database_url), site.settings).update(time.time(), Scope.of(["330106"]))
    district = site.client("district").get("/wall/poll?v=&b=")
    assert district.status_code == 200
    body = district.get_json()
    assert [d["id"] for d in body["live"]["full"]] == ["C-mine"] and [c["case_id"] for c in body["live"]["cases"]] == ["K-mine"]
    assert body["kpi"]["cases"] == {"open": 1, "overdue": 1, "warn": 0} and body["kpi"]["scope"] == ["330106"]
    assert b"C-other" not in district.data and "李四".encode() not in district.data and b"K-other" not in district.data
    leader = site.client("leader").get("/wall/poll?v=&b=").get_json()
    assert {d["id"] for d in leader["live"]["full"]} == {"C-mine", "C-other"} and leader["kpi"]["cases"]["open"] == 2
    # The scope said it is wanted: the worker builds it every second from now on.
    assert BoardStore(hot.r).wanted(time.time()) == [["330106"]]


def test_a_page_the_role_may_not_see_is_refused_and_its_layout_withheld(site: Site) -> None:
    guard_pages = dict(site.app.server.view_functions)
    assert "/login" not in guard_pages  # (sanity: view names, not paths)
    # The wall role may see the wall; it may not see the admin-only detail of /healthz.
    wall = site.client("wall")
    assert wall.get("/healthz").get_json().keys() == {"status"}


# --- signing in ----------------------------------------------------------------------------------

def test_login_sets_a_hardened_session_and_logout_ends_it(site: Site) -> None:
    c = site.app.server.test_client()
    resp = login(c, "leader")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("gw_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie
    assert c.get("/wall/poll?v=&b=").status_code == 200
    page = c.get("/login", headers=HTML).data.decode()
    assert "已登录：leader（领导）" in page
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert c.post("/logout", data={"csrf_token": csrf}).status_code == 302
    assert c.get("/wall/poll?v=&b=").status_code == 401
    actions = [e.action for e in site.accounts.audit_log(10)]
    assert actions[:2] == ["logout", "login"]


def test_wrong_passwords_lock_the_account_and_say_so(site: Site) -> None:
    c = site.app.server.test_client()
    for _ in range(site.settings.login_max_failures - 1):
        assert login(c, "leader", "wrong password!!").status_code == 401
    locked = login(c, "leader", "wrong password!!")
    assert locked.status_code == 403 and "账号已锁定" in locked.data.decode()
    # The right password does not open a locked account ...
    again = login(c, "leader")
    assert again.status_code == 403 and "账号已锁定" in again.data.decode()
    assert c.get("/wall/poll?v=&b=").status_code == 401
    # ... until the lock ends (login_lock_s = 2 s here).
    time.sleep(2.1)
    assert login(c, "leader").status_code == 302
    log = [e.action for e in site.accounts.audit_log(20)]
    assert "account_locked" in log and "login_locked" in log and log.count("login_failed") == 4


def test_an_unknown_user_fails_like_a_wrong_password(site: Site) -> None:
    c = site.app.server.test_client()
    resp = login(c, "nobody-here", "whatever it is")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.data.decode()


def test_logins_are_rate_limited_per_address(site: Site) -> None:
    c = site.app.server.test_client()
    codes = [login(c, f"user{i}", "wrong password!!").status_code for i in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert "尝试过于频繁" in login(c, "leader").data.decode()


def test_a_disabled_user_cannot_sign_in_and_is_signed_out(site: Site) -> None:
    c = site.app.server.test_client()
    login(c, "dispatcher")
    assert c.get("/wall/poll?v=&b=").status_code == 200
    site.accounts.set_disabled("dispatcher", True, time.time())
    assert c.get("/wall/poll?v=&b=").status_code == 401
    resp = login(c, "dispatcher")
    assert resp.status_code == 403 and "账号已停用" in resp.data.decode()


def test_a_new_password_signs_out_every_session(site: Site) -> None:
    c = site.app.server.test_client()
    login(c, "admin")
    assert c.get("/wall/poll?v=&b=").status_code == 200
    time.sleep(0.01)
    site.accounts.set_password("admin", hash_password("another long password"), time.time())
    assert c.get("/wall/poll?v=&b=").status_code == 401


def test_an_idle_session_expires(stack, tmp_path: Path) -> None:
    site = make_site(stack.settings(tmp_path, session_idle_s=1.0))
    c = site.app.server.test_client()
    login(c, "leader")
    assert c.get("/wall/poll?v=&b=").status_code == 200
    time.sleep(1.3)
    resp = c.get("/wall/poll?v=&b=")
    assert resp.status_code == 401 and orjson.loads(resp.data)["reason"] == "login_expired"
    page = c.get("/", headers=HTML)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert "session_expired" in [e.action for e in site.accounts.audit_log(5)]


def test_next_never_leaves_the_site(site: Site) -> None:
    c = site.app.server.test_client()
    page = c.get("/login", headers=HTML)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.data.decode()).group(1)
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        resp = c.post(f"/login?next={evil}", data={"username": "leader", "password": PASSWORD, "csrf_token": csrf})
        assert resp.status_code == 302 and resp.headers["Location"] == "/", evil
        c.post("/logout", data={"csrf_token": csrf})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login", headers=HTML).data.decode()).group(1)


# --- CSRF ----------------------------------------------------------------------------------------

def test_state_changing_requests_need_the_csrf_token(site: Site) -> None:
    c = site.app.server.test_client()
    refused = c.post("/login", data={"username": "leader", "password": PASSWORD})
    assert refused.status_code == 400 and orjson.loads(refused.data)["reason"] == "csrf"
    login(c, "leader")
    assert c.post("/logout").status_code == 400  # without the token: still signed in
    assert c.get("/wall/poll?v=&b=").status_code == 200
    # Dash's own POST: the renderer sends the _csrf_token cookie back as X-CSRFToken.
    page = c.get("/", headers=HTML)
    cookie = next(h for h in page.headers.getlist("Set-Cookie") if h.startswith("_csrf_token="))
    token = cookie.split(";")[0].split("=", 1)[1]
    # Dash pages' own callback: the layout of the path the browser names.
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/"},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    assert c.post("/_dash-update-component", json=body).status_code == 400
    ok = c.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert ok.status_code == 200, ok.data[:300]
    assert "csrf_refused" in [e.action for e in site.accounts.audit_log(10)]


# --- tokens --------------------------------------------------------------------------------------

def test_a_wall_token_opens_the_wall_once_and_a_revoked_one_falls_to_login(site: Site) -> None:
    token = grant(site.settings.resolved_database_url, "wall", "大厅主屏", token="")
    c = site.app.server.test_client()
    entry = c.get(f"/?token={token}&lang=en", headers=HTML)
    assert entry.status_code == 302 and entry.headers["Location"] == "/?lang=en"  # the token leaves the address
    assert c.get("/wall/poll?v=&b=").status_code == 200
    site.accounts.revoke_token(site.accounts.tokens()[-1].id, time.time())
    resp = c.get("/wall/poll?v=&b=")  # the very next poll
    assert resp.status_code == 401 and orjson.loads(resp.data)["reason"] == "login_token"
    assert c.get("/", headers=HTML).status_code == 302
    assert c.get(f"/?token={token}", headers=HTML).headers["Location"].startswith("/login?m=login_token")


def test_a_token_used_from_a_new_address_is_audited(site: Site) -> None:
    token = grant(site.settings.resolved_database_url, "wall", "大厅主屏", token="")
    c = site.app.server.test_client()
    c.get("/wall/poll?v=&b=", headers={"Authorization": f"Bearer {token}"})
    c.get("/wall/poll?v=&b=", headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": "127.0.0.9"})
    seen = [(e.action, e.address) for e in site.accounts.audit_log(10) if e.action == "token_new_address"]
    assert seen == [("token_new_address", "127.0.0.9"), ("token_new_address", "127.0.0.1")]
    assert site.accounts.tokens()[-1].last_address == "127.0.0.9"


def test_a_wrong_bearer_token_is_refused(site: Site) -> None:
    resp = site.app.server.test_client().get("/wall/poll?v=&b=", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401


def test_the_poll_is_rate_limited_per_token(stack, tmp_path: Path) -> None:
    site = make_site(stack.settings(tmp_path, poll_rate="5 per second"))
    one, other = (grant(site.settings.resolved_database_url, "wall", f"w{i}", token="") for i in range(2))
    c = site.app.server.test_client()
    codes = [c.get("/wall/poll?v=&b=", headers={"Authorization": f"Bearer {one}"}).status_code for _ in range(8)]
    assert codes.count(200) == 5 and codes.count(429) == 3, codes
    # Another token (another wall) is not held back by the first one's flood.
    assert c.get("/wall/poll?v=&b=", headers={"Authorization": f"Bearer {other}"}).status_code == 200


# --- the intranet proxy's header -----------------------------------------------------------------

def test_the_proxy_header_is_honoured_only_from_the_proxy(stack, tmp_path: Path) -> None:
    site = make_site(stack.settings(tmp_path, auth_proxy_header="X-Remote-User", auth_proxy_addresses="10.20.30.40"))
    c = site.app.server.test_client()
    spoofed = c.get("/wall/poll?v=&b=", headers={"X-Remote-User": "admin"})
    assert spoofed.status_code == 403 and orjson.loads(spoofed.data)["reason"] == "proxy_untrusted"
    via_proxy = c.get("/healthz", headers={"X-Remote-User": "admin", "X-Forwarded-For": "192.0.2.7"},
                      environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert "parts" in via_proxy.get_json()  # the admin's detailed answer
    unknown = c.get("/wall/poll?v=&b=", headers={"X-Remote-User": "mallory"}, environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert unknown.status_code == 403
    refused = [e for e in site.accounts.audit_log(10) if e.action == "proxy_refused"]
    assert refused and refused[0].address == "127.0.0.1"
    # A flood of spoofed headers is refused every time but written once a minute per address.
    for _ in range(50):
        assert c.get("/wall/poll?v=&b=", headers={"X-Remote-User": "admin"}).status_code == 403
    assert [e.action for e in site.accounts.audit_log(100)].count("proxy_refused") == 1


# --- headers and bounds --------------------------------------------------------------------------

def test_security_headers_on_every_answer(site: Site) -> None:
    c = site.client("leader")
    for route in ("/", "/login", "/wall/poll?v=&b=", "/healthz"):
        h = c.get(route, headers=HTML).headers
        csp = h.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "'unsafe-eval'" not in csp, route
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0], route
        assert h.get("X-Content-Type-Options") == "nosniff" and h.get("X-Frame-Options") == "DENY", route


def test_request_bodies_are_capped(site: Site) -> None:
    c = site.client("leader")
    resp = c.post("/_dash-update-component", data=b"x" * (site.settings.max_request_bytes + 1),
                  content_type="application/json")
    assert resp.status_code in (400, 413)  # refused before any callback runs
    big = c.post("/login", data={"username": "x" * 100_000, "password": "y"})
    assert big.status_code == 413


# --- the commands --------------------------------------------------------------------------------

def gridwall(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"GRIDWALL_DATABASE_URL": settings.resolved_database_url, "GRIDWALL_REDIS_URL": settings.resolved_redis_url,
           "GRIDWALL_DATA_DIR": str(settings.data_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "dashboard.cli", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_user_and_token_commands(settings: Settings) -> None:
    add = gridwall(settings, "user", "add", "王值班", "--role", "dispatcher", "--districts", "330106", "--password-stdin",
                   stdin="short\n")
    assert add.returncode == 2 and "at least 12" in add.stderr
    assert gridwall(settings, "user", "add", "王值班", "--role", "chief", "--password-stdin", stdin=PASSWORD).returncode == 2
    add = gridwall(settings, "user", "add", "王值班", "--role", "dispatcher", "--districts", "330106", "--password-stdin",
                   stdin=PASSWORD + "\n")
    assert add.returncode == 0, add.stderr
    listed = gridwall(settings, "user", "list").stdout
    assert "王值班\tdispatcher\t330106\tactive" in listed
    made = gridwall(settings, "token", "create", "--role", "wall", "--name", "大厅主屏")
    assert made.returncode == 0, made.stderr
    token = made.stdout.splitlines()[1]
    assert f"?token={token}" in made.stdout
    accounts = Accounts(db.engine_for(settings.resolved_database_url))
    assert token not in repr(accounts.tokens())  # only its hash is kept
    assert "大厅主屏\twall" in gridwall(settings, "token", "list").stdout
    tid = accounts.tokens()[-1].id
    assert gridwall(settings, "token", "revoke", str(tid)).returncode == 0
    assert "revoked" in gridwall(settings, "token", "list").stdout
    assert gridwall(settings, "user", "disable", "王值班").returncode == 0
    assert "disabled" in gridwall(settings, "user", "list").stdout
    audit = gridwall(settings, "audit").stdout
    for action in ("user_added", "token_created", "token_revoked", "user_disabled"):
        assert action in audit


# --- masking, on the bytes -----------------------------------------------------------------------

CLEAR = ("张三".encode(), b"C0001", b"13812341234", "曙光路123号".encode(), b"snap.example")


def put_personal(hot: HotStore, now: float, name: str = "张三") -> None:
    from dashboard.store.hot import DeviceFix

    doc = {"id": "C0001", "kind": "collector", "lat": 30.27, "lon": 120.16, "ts": now, "name": name,
           "status": "巡查中 电话13812341234"}
    hot.write_positions([DeviceFix("C0001", now, 30.27, 120.16, doc, trail=[(120.16, 30.27, now)])])
    hot.put_cases([{"case_id": "K1", "open": True, "lat": 30.27, "lon": 120.16, "due": now + 3600,
                    "warn_at": now + 1800, "suspended": False, "title": "井盖破损 联系13812341234",
                    "address": "浙江省杭州市西湖区北山街道曙光路123号3幢"}])
    hot.put_alerts([{"alert_id": "A1", "camera_id": "CAM001", "type": "占道经营", "state": "new", "start": now,
                     "lat": 30.28, "lon": 120.15, "severity": "alert", "snapshot_url": "http://snap.example/a.jpg"}])


def test_a_masked_wall_never_receives_a_clear_value(site: Site) -> None:
    hot = HotStore(connect(site.settings.resolved_redis_url))
    now = time.time()
    put_personal(hot, now)
    ticker = Ticker(hot)
    ticker.note(["C0001"], ["K1"], ["A1"])
    ticker.tick(now)
    wall, leader = site.client("wall"), site.client("leader")
    masked = wall.get("/wall/poll?v=&b=")
    assert masked.status_code == 200
    assert [c for c in CLEAR if c in masked.data] == []
    msg = orjson.loads(masked.data)
    device = msg["live"]["full"][0]
    assert device["name"] == "张*" and device["id"] != "C0001" and "138****1234" in device["status"]
    assert msg["live"]["cases"][0]["address"] == "浙江省杭州市西湖区北山街道曙光路"
    assert "snapshot_url" not in msg["live"]["alerts"][0]
    clear = leader.get("/wall/poll?v=&b=").data
    assert all(c in clear for c in CLEAR), "the leader sees them"
    # The deltas too: a new fix, the next tick, a wall one version behind.
    put_personal(hot, now + 1, name="李四")
    ticker.note(["C0001"], [], [])
    ticker.tick(now + 1)
    delta = wall.get(f"/wall/poll?v={msg['live']['v']}&b=").data
    assert b"deltas" in delta and "李四".encode() not in delta and b"C0001" not in delta
    assert orjson.loads(delta)["live"]["deltas"][0]["devices"][0]["id"] == device["id"]  # the same alias
    # A bogus version gets the masked whole picture as well.
    assert [c for c in (*CLEAR, "李四".encode()) if c in wall.get("/wall/poll?v=999999999&b=").data] == []
