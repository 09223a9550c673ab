"""The live protocol against a real Redis (both stacks): what a screen gets at each version.

A screen one or a few ticks behind gets the stored deltas (the latest state of each changed
device, case and alert per tick, with the cases and alerts that left); a new screen, one more
than MAX_DELTAS behind, one whose deltas expired or one from before a Redis reset gets the whole
picture, never a backlog.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from dashboard.access.masking import Masking
from dashboard.access.scope import Scope
from dashboard.poll import live_payload
from dashboard.store.hot import DELTA_PREFIX, DELTAS_KEPT, MAX_DELTAS, DeviceFix, HotStore, connect, delta_key
from feeds.pipeline import BatchResult
from feeds.steps.publish import Ticker


@pytest.fixture
def hot(settings) -> HotStore:
    return HotStore(connect(settings.resolved_redis_url))


def fix(device_id: str, lat: float, lon: float, ts: float, kind: str = "collector", **extra: Any) -> DeviceFix:
    doc = {"id": device_id, "kind": kind, "lat": lat, "lon": lon, "ts": ts, **extra}
    return DeviceFix(device_id, ts, lat, lon, doc, trail=[(lon, lat, ts)])


def case(case_id: str, **fields: Any) -> dict[str, Any]:
    return {"case_id": case_id, "open": True, "lat": 30.27, "lon": 120.16, "due": time.time() + 3600,
            "warn_at": time.time() + 1800, "suspended": False, **fields}


def alert(alert_id: str, state: str = "new", **fields: Any) -> dict[str, Any]:
    return {"alert_id": alert_id, "camera_id": "CAM001", "type": "占道经营", "state": state, "start": time.time(),
            "lat": 30.28, "lon": 120.15, "severity": "alert", **fields}


def payload(hot: HotStore, version: int | None, **kw: Any) -> tuple[dict[str, Any], int]:
    result = live_payload(hot, version, **kw)
    assert result is not None
    body, v = result
    msg = orjson.loads(body)
    assert msg["v"] == v and abs(msg["now"] - time.time()) < 5
    return msg, v


def tick(hot: HotStore, devices=(), cases=(), alerts=()) -> int | None:
    ticker = Ticker(hot)
    ticker._first = False  # as a running worker: no forced first version
    ticker.note(devices, cases, alerts)
    return ticker.tick()


def test_new_screen_gets_the_whole_picture_with_trails(hot):
    t = time.time()
    hot.write_positions([fix("C1", 30.270, 120.150, t - 30)])
    hot.write_positions([fix("C1", 30.271, 120.151, t - 20)])
    hot.write_positions([fix("C1", 30.272, 120.152, t - 10)])
    hot.write_positions([fix("V1", 30.275, 120.170, t, kind="vehicle", subtype="muck_truck")])
    hot.put_cases([case("K1"), case("K2")])
    hot.put_alerts([alert("A1")])
    tick(hot, ["C1", "V1"], ["K1", "K2"], ["A1"])
    msg, v = payload(hot, None, trail_points=2)
    assert v == 1
    assert {d["id"] for d in msg["full"]} == {"C1", "V1"}
    assert {c["case_id"] for c in msg["cases"]} == {"K1", "K2"}
    assert [a["alert_id"] for a in msg["alerts"]] == ["A1"]
    # Newest first, the fix time cut off, at most trail_points.
    assert msg["trails"]["C1"] == "120.152000,30.272000;120.151000,30.271000"
    assert msg["trails"]["V1"] == "120.170000,30.275000"
    assert live_payload(hot, v) is None, "a current screen gets nothing"


def test_trails_are_left_out_when_the_map_would_cluster(hot):
    hot.write_positions([fix(f"C{i}", 30.27, 120.15 + i * 0.001, time.time()) for i in range(5)])
    tick(hot, [f"C{i}" for i in range(5)])
    assert payload(hot, None, trail_points=20, trails_upto=5)[0]["trails"] != {}
    assert payload(hot, None, trail_points=20, trails_upto=4)[0]["trails"] == {}
    assert payload(hot, None)[0]["trails"] == {}, "no trails unless asked for"


def test_a_screen_slightly_behind_gets_coalesced_deltas_with_removals(hot):
    t = time.time()
    hot.write_positions([fix("C1", 30.27, 120.15, t - 5)])
    hot.put_cases([case("K1"), case("K2")])
    hot.put_alerts([alert("A1"), alert("A2")])
    v1 = tick(hot, ["C1"], ["K1", "K2"], ["A1", "A2"])
    # One tick: three fixes of C1, K1 closes, K2 is suspended, A1 ends, A2 becomes critical.
    for i in range(3):
        hot.write_positions([fix("C1", 30.27 + i * 0.001, 120.15, t + i)])
    hot.put_cases([case("K1", open=False), case("K2", suspended=True, due=None, warn_at=None)])
    hot.put_alerts([alert("A1", state="end"), alert("A2", state="update", severity="critical")])
    v2 = tick(hot, ["C1", "C1", "C1"], ["K1", "K2"], ["A1", "A2"])
    msg, v = payload(hot, v1)
    assert v == v2 and "full" not in msg
    (delta,) = msg["deltas"]
    assert [d["lat"] for d in delta["devices"]] == [30.272], "the latest state, once"
    assert [c["case_id"] for c in delta["cases"]] == ["K2"] and delta["cases"][0]["suspended"] is True
    assert delta["cases_gone"] == ["K1"]
    assert [a["severity"] for a in delta["alerts"]] == ["critical"]
    assert delta["alerts_gone"] == ["A1"]

    # Two ticks behind: both deltas, in version order.
    hot.write_positions([fix("C1", 30.28, 120.15, t + 10)])
    v3 = tick(hot, ["C1"])
    msg, v = payload(hot, v1)
    assert v == v3 and len(msg["deltas"]) == 2 and msg["deltas"][1] == {"devices": [orjson.loads(hot.r.hget("{gw}:dev", "C1"))]}


def test_a_screen_too_far_behind_gets_the_picture_not_a_backlog(hot):
    t = time.time()
    v0 = None
    for i in range(MAX_DELTAS + 1):
        hot.write_positions([fix("C1", 30.27 + i * 0.0001, 120.15, t + i)])
        v = tick(hot, ["C1"])
        v0 = v0 or v
    msg, v = payload(hot, v0 - 1)
    assert "deltas" not in msg and [d["lat"] for d in msg["full"]] == [pytest.approx(30.27 + MAX_DELTAS * 0.0001)]
    msg, _ = payload(hot, v0)
    assert len(msg["deltas"]) == MAX_DELTAS, "exactly MAX_DELTAS behind: still deltas"


def test_redis_keeps_a_fixed_number_of_deltas_whatever_the_tick_rate(hot):
    """Only the newest MAX_DELTAS are ever read, so a cut drops the delta DELTAS_KEPT back: a
    fast tick (or a long day) does not pile up deltas for DELTA_TTL_S. A device prune cuts a
    version too, and drops one the same way."""
    t = time.time()
    for i in range(DELTAS_KEPT + 15):
        hot.write_positions([fix("C1", 30.27 + i * 0.0001, 120.15, t + i), fix("C2", 30.27, 120.16, t - 10 * 86400)])
        last = tick(hot, ["C1"])
    held = sorted(int(k.decode().rsplit(":", 1)[1]) for k in hot.r.scan_iter(f"{DELTA_PREFIX}*"))
    assert held == list(range(last - DELTAS_KEPT + 1, last + 1))
    assert hot.prune_devices(t, retention_s=86400) == ["C2"]
    held = sorted(int(k.decode().rsplit(":", 1)[1]) for k in hot.r.scan_iter(f"{DELTA_PREFIX}*"))
    assert held == list(range(last - DELTAS_KEPT + 2, last + 2))
    msg, _ = payload(hot, last + 1 - MAX_DELTAS)
    assert len(msg["deltas"]) == MAX_DELTAS and msg["deltas"][-1] == {"devices_gone": ["C2"]}


def test_expired_deltas_and_a_reset_redis_give_the_whole_picture(hot):
    hot.write_positions([fix("C1", 30.27, 120.15, time.time())])
    v1 = tick(hot, ["C1"])
    hot.write_positions([fix("C1", 30.28, 120.15, time.time() + 1)])
    v2 = tick(hot, ["C1"])
    hot.r.delete(delta_key(v2))  # as its TTL would
    assert "full" in payload(hot, v1)[0]
    # After a Redis reset the version starts again below the screen's.
    hot.r.flushdb()
    hot.write_positions([fix("C9", 30.27, 120.15, time.time())])
    tick(hot, ["C9"])
    msg, v = payload(hot, v2)
    assert v == 1 and [d["id"] for d in msg["full"]] == ["C9"]


def test_unknown_ids_are_no_news_and_nothing_changed_cuts_no_version(hot):
    assert tick(hot) is None
    v = tick(hot, ["ghost"], [], [])
    assert v == 1 and orjson.loads(hot.r.get(delta_key(v))) == {}, "a device that is not there is not a removal"


def test_the_first_tick_moves_a_fresh_picture_past_version_0(hot):
    # A rebuilt hot state (feeds/rebuild.py) has no version: the first tick of a worker cuts one,
    # so a screen that loaded the empty picture at version 0 learns there is something.
    hot.put_cases([case("K1")])
    assert live_payload(hot, 0) is None
    ticker = Ticker(hot)
    assert ticker.tick() == 1
    assert "full" in payload(hot, 0)[0]
    assert ticker.tick() is None, "only the first tick"
    ticker.note(["C1"])
    hot.write_positions([fix("C1", 30.27, 120.15, time.time())])
    assert ticker.tick() == 2
    assert "full" in payload(hot, 0)[0], "a screen behind the reset still takes the picture"
    assert "deltas" in payload(hot, 1)[0]


def test_the_ticker_takes_what_a_batch_changed(hot):
    hot.write_positions([fix("C1", 30.27, 120.15, time.time())])
    hot.put_cases([case("K1")])
    hot.put_alerts([alert("A1")])
    ticker = Ticker(hot)
    assert ticker.tick() == 1  # the first tick at version 0: a reset
    ticker.note_result(BatchResult(changed_devices=["C1"], changed_cases=["K1"], changed_alerts=["A1"]))
    v = ticker.tick()
    delta = orjson.loads(hot.r.get(delta_key(v)))
    assert ([d["id"] for d in delta["devices"]], [c["case_id"] for c in delta["cases"]],
            [a["alert_id"] for a in delta["alerts"]]) == (["C1"], ["K1"], ["A1"])
    assert ticker.tick() is None, "noted changes go out once"


def test_the_full_picture_scales_to_thousands_of_trails(hot):
    t = time.time()
    ids = [f"D{i:05d}" for i in range(3000)]
    for step in range(3):
        hot.write_positions([fix(d, 30.25 + i * 1e-5, 120.15 + step * 1e-4, t + step) for i, d in enumerate(ids)])
    tick(hot, ids)
    msg, _ = payload(hot, None, trail_points=20)
    assert len(msg["full"]) == 3000 and len(msg["trails"]) == 3000
    assert all(len(v.split(";")) == 3 for v in msg["trails"].values())


def test_a_district_limited_screen_gets_its_districts_docs_and_nothing_else(hot):
    """dashboard/access/scope.py on the poll's bytes: the whole picture and the deltas carry the
    docs of the scope's districts only; a device that drives out is removed from the screen, one
    that drives in appears; a city screen at the same version still gets everything."""
    mine, other = "33990200100101", "33990300100101"
    scope = Scope.of(["339902"])
    t = time.time()
    hot.write_positions([fix("C-in", 30.27, 120.15, t - 10, grid_code=mine),
                         fix("C-out", 30.28, 120.16, t - 10, grid_code=other, name="李四")])
    hot.put_cases([case("K-in", district="339902", grid_code=mine), case("K-out", district="339903", grid_code=other)])
    hot.put_alerts([alert("A-in", grid_code=mine), alert("A-out", grid_code=other)])
    v1 = tick(hot, ["C-in", "C-out"], ["K-in", "K-out"], ["A-in", "A-out"])
    msg, _ = payload(hot, None, trail_points=5, scope=scope)
    assert [d["id"] for d in msg["full"]] == ["C-in"] and list(msg["trails"]) == ["C-in"]
    assert [c["case_id"] for c in msg["cases"]] == ["K-in"] and [a["alert_id"] for a in msg["alerts"]] == ["A-in"]
    body, _ = live_payload(hot, None, trail_points=5, scope=scope)
    assert b"C-out" not in body and b"K-out" not in body and b"A-out" not in body and "李四".encode() not in body
    city, _ = payload(hot, None, trail_points=5)
    assert {d["id"] for d in city["full"]} == {"C-in", "C-out"}, "the city's picture is its own"

    # C-in drives out, C-out drives in, K-out changes: one tick.
    hot.write_positions([fix("C-in", 30.28, 120.16, t, grid_code=other), fix("C-out", 30.27, 120.15, t, grid_code=mine, name="李四")])
    hot.put_cases([case("K-out", district="339903", grid_code=other, urgent=True)])
    tick(hot, ["C-in", "C-out"], ["K-out"])
    msg, _ = payload(hot, v1, scope=scope)
    (delta,) = msg["deltas"]
    assert [d["id"] for d in delta["devices"]] == ["C-out"] and delta["devices_gone"] == ["C-in"]
    assert "cases" not in delta
    masked = Masking.for_role(True, b"k" * 32, "street")
    msg, _ = payload(hot, v1, scope=scope, masking=masked)
    (delta,) = msg["deltas"]
    assert delta["devices"][0]["name"] == "李*" and delta["devices_gone"] != ["C-in"], "aliased, after the cut"
    city, _ = payload(hot, v1)
    assert {d["id"] for d in city["deltas"][0]["devices"]} == {"C-in", "C-out"}
