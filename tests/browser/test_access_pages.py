"""Access in a real Chromium (docs/access.md): a kiosk opens its wall with a token and falls to the
sign-in page when the token is revoked; a person signs in with the form; the CSP lets the pages
run (no violation in the console); a masked wall's page holds no clear name or device id."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import chrome, js
from helpers import eventually, grant
from werkzeug.serving import make_server

from dashboard.access.secrets import hash_password
from dashboard.app import create_app
from dashboard.config import Settings
from dashboard.launcher import free_port
from dashboard.store import db
from dashboard.store.accounts import Accounts
from dashboard.store.hot import DeviceFix, HotStore, connect
from feeds.steps.publish import Ticker

pytestmark = pytest.mark.browser
PASSWORD = "a long enough password"


class Site:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        db.upgrade(settings.resolved_database_url)
        self.accounts = Accounts(db.engine_for(settings.resolved_database_url))
        self.accounts.add_user("leader", "leader", None, hash_password(PASSWORD), time.time())
        self.hot = HotStore(connect(settings.resolved_redis_url))
        now = time.time()
        doc = {"id": "C0001", "kind": "collector", "lat": 30.27, "lon": 120.16, "ts": now, "name": "张三"}
        self.hot.write_positions([DeviceFix("C0001", now, 30.27, 120.16, doc, trail=[(120.16, 30.27, now)])])
        ticker = Ticker(self.hot)
        ticker.note(["C0001"], [], [])
        ticker.tick(now)
        self.server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/"


@pytest.fixture
def site(stack, tmp_path: Path) -> Iterator[Site]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    s = Site(stack.settings(tmp_path))
    yield s
    s.server.shutdown()


@pytest.fixture
def bare_browser(need_chromium) -> Iterator[Any]:
    """A browser that carries no token: it signs in or opens a kiosk link itself."""
    driver = chrome(1920, 1080, token=None)
    yield driver
    driver.quit()


def wall_up(driver: Any) -> bool:
    return bool(js(driver, "var g = window.gridwall; return !!(g && g.map && g.map.instance && g.live"
                           " && g.live.version !== null);"))


def csp_violations(driver: Any) -> list[str]:
    return [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]


def test_a_kiosk_opens_with_its_token_and_falls_to_login_when_revoked(site: Site, bare_browser: Any,
                                                                      artifacts: Path) -> None:
    token = grant(site.settings.resolved_database_url, "wall", "大厅主屏", token="")
    bare_browser.get(site.url + f"?token={token}")
    eventually(lambda: wall_up(bare_browser), 30, "the wall up")
    assert "token=" not in bare_browser.current_url  # out of the address bar
    # Masked on the server: the page holds an alias and 张*, never the clear values.
    ids = js(bare_browser, "return Array.from(window.gridwall.live.markers.keys());")
    assert ids and "C0001" not in ids
    source = js(bare_browser, "return JSON.stringify(Array.from(window.gridwall.live.docs ? "
                              "window.gridwall.live.docs.values() : []));") or ""
    assert "张三" not in source and "张三" not in bare_browser.page_source
    assert csp_violations(bare_browser) == []
    site.accounts.revoke_token(site.accounts.tokens()[-1].id, time.time())
    eventually(lambda: "/login" in bare_browser.current_url, 10, "the sign-in page after the revoke")
    message = bare_browser.find_element("id", "gw-login-message").text
    assert "令牌无效或已吊销" in message
    bare_browser.save_screenshot(str(artifacts / "access-token-revoked.png"))


def test_a_person_signs_in_with_the_form_and_sees_the_wall_unmasked(site: Site, bare_browser: Any,
                                                                    artifacts: Path) -> None:
    bare_browser.get(site.url)
    eventually(lambda: "/login" in bare_browser.current_url, 10, "sent to sign in")
    bare_browser.find_element("id", "gw-username").send_keys("leader")
    bare_browser.find_element("id", "gw-password").send_keys("wrong password here")
    bare_browser.find_element("id", "gw-login-submit").click()
    eventually(lambda: bare_browser.find_element("id", "gw-login-message").text == "用户名或密码错误", 10, "refused")
    bare_browser.save_screenshot(str(artifacts / "access-login-refused.png"))
    bare_browser.find_element("id", "gw-username").clear()
    bare_browser.find_element("id", "gw-username").send_keys("leader")
    bare_browser.find_element("id", "gw-password").send_keys(PASSWORD)
    bare_browser.find_element("id", "gw-login-submit").click()
    eventually(lambda: wall_up(bare_browser), 30, "the wall up after signing in")
    assert "C0001" in js(bare_browser, "return Array.from(window.gridwall.live.markers.keys());")
    assert csp_violations(bare_browser) == []
    cookies = {c["name"]: c for c in bare_browser.get_cookies()}
    assert cookies["gw_session"]["httpOnly"] and cookies["gw_session"]["sameSite"] == "Lax"


def test_the_sign_in_page_on_a_phone(site: Site, need_chromium, artifacts: Path) -> None:
    driver = chrome(390, 844, scale=2.0, token=None)
    try:
        driver.get(site.url + "login?lang=en")
        box = js(driver, "var b = document.querySelector('.gw-login-box').getBoundingClientRect();"
                         " return [b.left, b.right, document.documentElement.scrollWidth];")
        assert box[0] >= 8 and box[1] <= 382 and box[2] <= 390  # a margin on both sides, no sideways scroll
        assert driver.find_element("id", "gw-login-submit").text == "Sign in"
        driver.save_screenshot(str(artifacts / "access-login-phone.png"))
    finally:
        driver.quit()
