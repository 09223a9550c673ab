"""The evaluation report's download on the desk (layouts/desk.py ``report_download``,
assets/gridwall-desk.js ``reportLinks``), in a real headless Chromium: a leader picks a period,
the links follow, and each gives the file (docs/reports.md "From the desk"). A role without
see.reports has no control. Screenshot: test-artifacts/desk-report-download.png."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser_support import chrome, js
from desk_support import seeded_site
from helpers import TEST_TOKEN, eventually, grant
from werkzeug.serving import make_server

from dashboard.app import create_app
from dashboard.launcher import free_port

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("stack", ["embedded"], indirect=True)]


@pytest.fixture
def site(stack, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    for settings, _hot, _engine in seeded_site(stack, tmp_path, seed=7):
        grant(settings.resolved_database_url, "leader", "王领导", token=TEST_TOKEN)  # the browsers' token
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", free_port(), create_app(settings).server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_port}", settings
        server.shutdown()


FETCH = """
var done = arguments[arguments.length - 1];
fetch(arguments[0]).then(function (r) {
  return r.arrayBuffer().then(function (b) {
    var head = String.fromCharCode.apply(null, new Uint8Array(b.slice(0, 4)));
    done([r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), head]);
  });
}).catch(function (e) { done([0, String(e)]); });
"""


def test_a_leader_downloads_the_report_of_the_period_chosen(site, browser, artifacts: Path) -> None:
    url, settings = site
    browser.set_script_timeout(60)
    browser.get(url + "/desk")
    eventually(lambda: js(browser, "return !!document.getElementById('gw-d-report-pdf');"), 20, "the report control")
    href = lambda fmt: js(browser, "return document.getElementById(arguments[0]).getAttribute('href');",  # noqa: E731
                          f"gw-d-report-{fmt}")
    assert href("pdf") == "/desk/api/report.pdf?period=month&lang=zh"
    # Last week, chosen by its label: both links follow.
    last_week = datetime.now(ZoneInfo(settings.timezone)).date() - timedelta(days=7)
    year, week, _ = last_week.isocalendar()
    label = f"{year}-W{week:02d}"
    browser.find_element("css selector", "#gw-d-report-period option[value='week']").click()
    browser.find_element("id", "gw-d-report-at").send_keys(label)
    eventually(lambda: href("xlsx") == f"/desk/api/report.xlsx?period=week&at={label}&lang=zh", 5, "the links follow")
    browser.save_screenshot(str(artifacts / "desk-report-download.png"))
    for fmt, magic, mime in (("pdf", "%PDF", "application/pdf"), ("xlsx", "PK\x03\x04", "spreadsheetml")):
        t0 = time.monotonic()
        status, kind, disposition, head = browser.execute_async_script(FETCH, href(fmt))
        assert status == 200 and mime in kind and head == magic, (fmt, status, kind)
        assert f"report-week-{label}-zh.{fmt}" in disposition
        assert time.monotonic() - t0 < 30
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors


def test_a_role_without_see_reports_has_no_download(site, need_chromium, artifacts: Path) -> None:
    url, settings = site
    token = grant(settings.resolved_database_url, "viewer", "查看员", token="")
    driver = chrome(1280, 800, token=token)
    try:
        driver.get(url + "/desk")
        eventually(lambda: js(driver, "return !!document.getElementById('gw-d-rows');"), 20, "the desk")
        assert js(driver, "return document.querySelectorAll('[id^=gw-d-report-]').length;") == 0
    finally:
        driver.quit()
