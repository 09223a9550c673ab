"""The desk's replay (dashboard/replay_api.py, dashboard/screens/replay.py,
dashboard/store/replay.py), on a real database and Redis (both stacks): a history written as
ingest writes it (the simulator's vehicles and collectors, one fix per 10 s) is replayed exactly;
the choices name exactly their devices; stops, distance and moving time are the casework's;
every refusal says why; a masked role sees aliases and masked names; a district-limited user
sees only what happened in its districts; the retention prunes old rows in batches."""

from __future__ import annotations

import bisect
import dataclasses
import math
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from helpers import eventually, grant, running_ingest
from replay_support import Client, by_device, simulated_positions, write_history
from sqlalchemy import func, select

from dashboard.access.masking import Masking
from dashboard.access.secrets import server_secret
from dashboard.app import create_app
from dashboard.casedata import load_grid_index
from dashboard.casework.tracks import track
from dashboard.config import ASSETS_DIR
from dashboard.records import Position
from dashboard.store import db
from dashboard.store.models import PositionRow
from dashboard.store.retention import prune_positions

ROLES = """
[roles.viewer]
zh = "查看"
en = "Viewer"
rights = ["see.wall", "see.desk"]
masked = false
[roles.masked_desk]
zh = "脱敏值班"
en = "Masked desk"
rights = ["see.wall", "see.desk"]
masked = true
[roles.wall]
zh = "大屏"
en = "Wall"
rights = ["see.wall"]
masked = true
"""
NOW = time.time()
ZONE = ZoneInfo("Asia/Shanghai")
SPAN = 3600.0
GRIDS = load_grid_index(ASSETS_DIR / "city" / "grids.json")


def local(hour: int, minute: int) -> float:
    """The most recent hour:minute in the city at least a day ago."""
    day = datetime.fromtimestamp(NOW - 86400, ZONE).replace(hour=hour, minute=minute, second=0, microsecond=0)
    while day.timestamp() > NOW - 86400:
        day -= timedelta(days=1)
    return day.timestamp()


# The simulator's collectors are on duty 08:00-12:00 and 14:00-18:00, its muck trucks out 21:00-05:30.
START = local(16, 30)  # an afternoon hour: collectors on foot, enforcement and sanitation vehicles
NIGHT = local(21, 30)  # a night hour: the muck trucks' shift


@pytest.fixture(scope="module")
def history() -> list[Position]:
    return (simulated_positions(START, SPAN, vehicles=30, collectors=10)
            + simulated_positions(NIGHT, SPAN, vehicles=30, seed=6))


@pytest.fixture
def site(stack, tmp_path: Path, history):
    roles = tmp_path / "roles.toml"
    roles.write_text(ROLES, encoding="utf-8")
    settings = stack.settings(tmp_path, roles_file=roles)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    write_history(engine, history)
    app = create_app(settings).server
    yield settings, engine, app
    engine.dispose()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, ZONE).strftime("%Y-%m-%dT%H:%M:%S")


def at(fixes: list[list[float]], base: float, t: float) -> tuple[float, float] | None:
    """Where a device was at t from its fixes [t, lat, lon] (t after base): on the straight line
    between the fixes around it. The test's own arithmetic, not the page's."""
    ts = [base + f[0] for f in fixes]
    i = bisect.bisect_right(ts, t) - 1
    if i < 0:
        return None
    if i == len(ts) - 1 or ts[i] == t:
        return fixes[i][1], fixes[i][2]
    f = (t - ts[i]) / (ts[i + 1] - ts[i])
    return fixes[i][1] + f * (fixes[i + 1][1] - fixes[i][1]), fixes[i][2] + f * (fixes[i + 1][2] - fixes[i][2])


def test_a_replayed_position_at_any_time_matches_the_history(site, history) -> None:
    settings, _, app = site
    leader = Client(app, grant(settings.resolved_database_url, "viewer", token=""))
    start, end = START + 600, START + 2400
    status, body = leader.get("/desk/api/replay", kind="vehicle", **{"from": iso(start), "to": iso(end)})
    assert status == 200, body
    want = by_device(history, start, end)
    vehicles = {p.device_id for p in history if p.kind == "vehicle"}  # (the device rows: the night's too)
    assert {d["id"] for d in body["devices"]} == vehicles
    assert body["from"] == start and body["to"] == end
    checked = 0
    for d in body["devices"]:
        fixes, stored = d["fixes"], want.get(d["id"], [])
        # Every stored fix of the window, in order, each where and when it was stored.
        assert len(fixes) == len(stored), d["id"]
        for f, p in zip(fixes, stored, strict=True):
            assert abs(body["from"] + f[0] - p.ts) < 2e-3 and (f[1], f[2]) == (p.lat, p.lon), (d["id"], f, p)
        # At times between the fixes: on the line between the stored fixes around it.
        for k in range(0, len(stored) - 1, 17):
            a, b = stored[k], stored[k + 1]
            t = a.ts + 0.37 * (b.ts - a.ts)
            lat, lon = at(fixes, body["from"], t)  # type: ignore[misc]
            assert math.isclose(lat, a.lat + 0.37 * (b.lat - a.lat), abs_tol=1e-9)
            assert math.isclose(lon, a.lon + 0.37 * (b.lon - a.lon), abs_tol=1e-9)
            checked += 1
    assert checked > 100
    s = body["summary"]
    assert s["fixes"] == sum(len(v) for k, v in want.items() if k in vehicles) and not s["cut"]


def test_stops_distance_and_moving_time_are_the_casework_rules(site, history) -> None:
    settings, _, app = site
    leader = Client(app, grant(settings.resolved_database_url, "viewer", token=""))
    status, body = leader.get("/desk/api/replay", subtype="muck_truck", stop_min="5",
                              **{"from": str(NIGHT), "to": str(NIGHT + SPAN)})
    assert status == 200, body
    want = by_device(history, NIGHT, NIGHT + SPAN)
    assert body["devices"] and all(d["subtype"] == "muck_truck" for d in body["devices"])
    stops = 0
    for d in body["devices"]:
        ps = want[d["id"]]
        tr = track([(p.ts, p.lat, p.lon) for p in ps], [p.speed for p in ps], stop_min_s=300, gap_s=body["gap_s"])
        assert d["distance_m"] == round(tr.distance_m) and d["moving_s"] == round(tr.moving_s)
        assert [(s["t0"], s["t1"]) for s in d["stops"]] == [(round(s.start - NIGHT, 3), round(s.end - NIGHT, 3)) for s in tr.stops]
        for s in d["stops"]:
            assert s["s"] >= 300 and s["street_zh"] and s.get("grid_code") == GRIDS.lookup(s["lon"], s["lat"])
        stops += len(d["stops"])
    # A muck truck's night: loading at a site, unloading at a dump; this hour has some of them.
    assert stops > 0 and body["summary"]["stops"] == stops
    # (The summary rounds the sum, each device its own distance.)
    assert abs(body["summary"]["distance_m"] - sum(d["distance_m"] for d in body["devices"])) <= len(body["devices"])


def test_each_choice_names_exactly_its_devices(site, history) -> None:
    settings, _, app = site
    leader = Client(app, grant(settings.resolved_database_url, "viewer", token=""))
    window = {"from": str(START), "to": str(START + 600)}
    last = {p.device_id: p for p in sorted(history, key=lambda p: p.ts)}  # what the device rows say

    def ids(**args: str) -> set[str]:
        status, body = leader.get("/desk/api/replay", **args, **window)
        assert status == 200, body
        return {d["id"] for d in body["devices"]}

    assert ids(kind="collector") == {k for k, p in last.items() if p.kind == "collector"}
    assert ids(subtype="sanitation") == {k for k, p in last.items() if p.subtype == "sanitation"}
    squad = next(p.department for p in last.values() if p.subtype == "enforcement")
    assert ids(kind="vehicle", department=squad) == {k for k, p in last.items() if p.kind == "vehicle" and p.department == squad}
    assert ids(kind="collector", department="JDZX") == {k for k, p in last.items() if p.kind == "collector"}
    assert ids(devices="M001,E002") == {"M001", "E002"}
    assert ids(kind="vehicle", department="NO-SUCH-DEPT") == set()
    status, options = leader.get("/desk/api/replay/options")
    assert status == 200
    assert {t["subtype"]: t["n"] for t in options["types"]} == {
        s: sum(1 for p in last.values() if p.subtype == s) for s in ("enforcement", "muck_truck", "sanitation")}
    jdzx = next(d for d in options["departments"] if d["code"] == "JDZX")
    assert jdzx["collector"] == 10 and jdzx["zh"] == "指挥中心"


def test_every_refusal_says_why_and_whoever_may_not_see_the_desk_is_refused(site) -> None:
    settings, _, app = site
    leader = Client(app, grant(settings.resolved_database_url, "viewer", token=""))
    ok = {"from": str(START), "to": str(START + 600)}
    cases = [
        ({"kind": "vehicle", "from": str(NOW + 3600), "to": str(NOW + 7200)}, 400, "window_in_future"),
        ({"kind": "vehicle", "from": str(NOW - 600), "to": str(NOW + 3600)}, 400, "window_in_future"),
        ({"kind": "vehicle", "from": str(START + 600), "to": str(START)}, 400, "window_reversed"),
        ({"kind": "vehicle", "from": str(START), "to": str(START)}, 400, "window_empty"),
        ({"kind": "vehicle", "from": str(NOW - 30 * 3600), "to": str(NOW - 3600)}, 400, "window_too_long"),
        ({"kind": "vehicle", "from": iso(NOW - 40 * 86400), "to": iso(NOW - 40 * 86400 + 60)}, 400, "before_retention"),
        ({"kind": "vehicle", "from": "yesterday", "to": str(START)}, 400, "bad_time"),
        ({"kind": "vehicle", "from": str(START)}, 400, "bad_time"),
        ({"kind": "boat", **ok}, 400, "bad_query"),
        ({**ok}, 400, "bad_query"),
        ({"devices": "M001", "kind": "vehicle", **ok}, 400, "bad_query"),
        ({"kind": "collector", "subtype": "muck_truck", **ok}, 400, "bad_query"),
        ({"kind": "vehicle", "evil": "1", **ok}, 400, "bad_query"),
        ({"kind": "vehicle", "stop_min": "0", **ok}, 400, "bad_query"),
        ({"kind": "vehicle", "department": "x" * 500, **ok}, 400, "bad_query"),
        ({"devices": "M001,NOPE-42", **ok}, 404, "no_such_device"),
    ]
    for args, status, reason in cases:
        got, body = leader.get("/desk/api/replay", **args)
        assert (got, body.get("reason")) == (status, reason), (args, got, body)
        assert body.get("detail"), args
    # A window that cannot be answered within the fixes a reply may carry: narrow it.
    small = Client(create_app(dataclasses.replace(settings, replay_max_fixes=100)).server,
                   grant(settings.resolved_database_url, "viewer", token=""))
    got, body = small.get("/desk/api/replay", kind="vehicle", **ok)
    assert (got, body["reason"]) == (400, "too_many_fixes")
    # No right: the request itself is refused, whatever a page shows.
    wall = Client(app, grant(settings.resolved_database_url, "wall", token=""))
    assert wall.get("/desk/api/replay", kind="vehicle", **ok)[0] == 403
    assert wall.get("/desk/api/replay/options")[0] == 403
    assert wall.c.get("/desk/replay", headers={**wall.headers, "Accept": "text/html"}).status_code == 403
    assert Client(app, None).get("/desk/api/replay", kind="vehicle", **ok)[0] == 401


def test_a_masked_role_sees_aliases_and_masked_names(site, history) -> None:
    settings, _, app = site
    masked = Client(app, grant(settings.resolved_database_url, "masked_desk", token=""))
    status, body = masked.get("/desk/api/replay", kind="collector", **{"from": str(START), "to": str(START + 600)})
    assert status == 200, body
    aliases = Masking.on(server_secret(settings.secret_key, settings.data_dir), "street")
    names = {p.device_id: p.name for p in history}
    assert body["devices"]
    for d in body["devices"]:
        assert d["id"].startswith("C-") and d["id"] not in names
        real = next(k for k in names if aliases.device_id(k) == d["id"])
        assert d["name"] == aliases.device({"id": real, "name": names[real]})["name"] and d["name"].endswith("*")
    # It names a device by the alias it sees; the real id is not a way in.
    alias = body["devices"][0]["id"]
    status, one = masked.get("/desk/api/replay", devices=alias, **{"from": str(START), "to": str(START + 600)})
    assert status == 200 and [d["id"] for d in one["devices"]] == [alias] and one["devices"][0]["fixes"]
    real = next(k for k in names if aliases.device_id(k) == alias)
    assert masked.get("/desk/api/replay", devices=real, **{"from": str(START), "to": str(START + 600)})[0] == 404


def test_a_district_limited_user_sees_only_what_happened_in_its_districts(site, history) -> None:
    settings, _, app = site
    district = "339905"
    limited = Client(app, grant(settings.resolved_database_url, "viewer", districts=[district], token=""))
    everyone = Client(app, grant(settings.resolved_database_url, "viewer", token=""))
    window = {"from": str(START), "to": str(START + SPAN)}
    status, mine = limited.get("/desk/api/replay", kind="vehicle", **window)
    assert status == 200
    _, whole = everyone.get("/desk/api/replay", kind="vehicle", **window)
    inside = 0
    for d in mine["devices"]:
        for f in d["fixes"]:
            grid = GRIDS.lookup(f[2], f[1])
            assert grid is not None and grid.startswith(district)
            inside += 1
    want = sum(1 for d in whole["devices"] for f in d["fixes"]
               if (g := GRIDS.lookup(f[2], f[1])) is not None and g.startswith(district))
    assert inside == want > 0
    # A device never in the district is not listed at all.
    assert len(mine["devices"]) < len(whole["devices"])


def test_retention_prunes_old_rows_in_batches_and_keeps_the_rest(site) -> None:
    settings, engine, _ = site
    with engine.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(PositionRow)).scalar()
    assert prune_positions(engine, NOW, settings.history_retention_days) == 0, "nothing old: one row read, none deleted"
    # 12,000 fixes older than the retention, written after the recent ones (an import of old history).
    old = [Position(f"OLD{i % 40:02d}", "vehicle", 30.27, 120.16, NOW - 40 * 86400 + i) for i in range(12_000)]
    write_history(engine, old)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PositionRow)).scalar() == kept + 12_000
    # Behind the recent rows (lower ids), the old ones wait until those are due too.
    assert prune_positions(engine, NOW, settings.history_retention_days, batch=5000) == 0
    # A day after the recent rows are past the retention as well: they go first, then the old ones.
    later = NOW + settings.history_retention_days * 86400 + 86400
    deleted = []
    while (n := prune_positions(engine, later, settings.history_retention_days, batch=5000)) > 0:
        assert n <= 5000
        deleted.append(n)
    assert sum(deleted) == kept + 12_000 and len(deleted) >= 3
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PositionRow)).scalar() == 0


def test_the_ingest_worker_prunes_the_history_on_its_heartbeat(stack, tmp_path: Path) -> None:
    """The retention is kept by the running ingest worker (feeds/ingest.py, every heartbeat),
    not by a job someone must remember."""
    settings = stack.settings(tmp_path, history_retention_days=2.0)
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    old = [Position(f"V{i % 7}", "vehicle", 30.27, 120.16, NOW - 3 * 86400 + i) for i in range(300)]
    recent = [Position(f"V{i % 7}", "vehicle", 30.27, 120.16, NOW - 86400 + i) for i in range(20)]
    write_history(engine, old + recent)

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(PositionRow)).scalar() or 0)

    assert count() == 320
    with running_ingest(settings):
        eventually(lambda: count() == 20, 20, "the old rows pruned by the worker")
    engine.dispose()
