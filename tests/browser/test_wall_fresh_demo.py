"""The first minutes of a fresh demo, in a real headless Chromium: while the simulator's
backfill streams in, the wall shows the history's loading state and no case figures; once it is
in, the figures appear, and the overdue counter agrees with the board's rows from then on.
(A newcomer once saw 566 超期 in the first minute against 74 once it settled.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browser_support import js
from helpers import Demo

pytestmark = pytest.mark.browser

SAMPLE = (
    "var b = window.gridwall && gridwall.panels && gridwall.panels.board;"
    " var box = document.getElementById('gw-ov-loading'), k = document.getElementById('gw-kpi-overdue');"
    " if (!b || !box || !k) { return null; }"
    " return {loading: !!(b.history && b.history.ready === false), box: box.hidden ? null : box.innerText,"
    " kpi: k.textContent, red: b.overdue ? b.overdue.red : null};"
)


def test_a_fresh_demo_shows_loading_until_the_history_is_in(tmp_path: Path, browser, artifacts: Path) -> None:
    demo = Demo(tmp_path / "data", "--collectors", "20", "--vehicles", "20", "--backfill-days", "8")
    try:
        demo.wait_healthy()
        browser.get(demo.url)
        samples: list[dict] = []
        deadline = time.monotonic() + 240
        settled_at = None
        while time.monotonic() < deadline:
            s = js(browser, SAMPLE)
            if s is not None:
                samples.append(s)
                if s["loading"] and s["box"] and not (artifacts / "wall-fresh-demo-loading.png").exists():
                    browser.save_screenshot(str(artifacts / "wall-fresh-demo-loading.png"))
                if not s["loading"] and any(x["loading"] for x in samples):
                    settled_at = settled_at or time.monotonic()
                    if time.monotonic() - settled_at > 10:
                        break
            time.sleep(0.5)
        loading = [s for s in samples if s["loading"]]
        assert loading, f"the backfill never showed as loading ({len(samples)} samples: {samples[:3]})"
        # While loading: the loading text, and no overdue figure anywhere.
        assert all("载入历史数据" in (s["box"] or "载入历史数据") for s in loading), loading[:3]
        assert all(not s["kpi"].isdigit() for s in loading[2:]), [s["kpi"] for s in loading][:20]
        assert settled_at is not None, f"still loading after 4 minutes: {samples[-1]}"
        # Once in: figures, and the counter is the board's.
        after = [s for s in samples[samples.index(loading[-1]) + 3:] if not s["loading"]]
        assert after and all(s["kpi"].isdigit() for s in after), after[:3]
        # (The counter is cut every tick, the board every second: a case may turn red between.)
        assert abs(int(after[-1]["kpi"]) - after[-1]["red"]) <= 2, after[-1]
        browser.save_screenshot(str(artifacts / "wall-fresh-demo-settled.png"))
    finally:
        demo.stop()
