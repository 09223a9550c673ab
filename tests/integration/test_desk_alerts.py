"""Alerts and collectors from the desk (dashboard/desk_api.py), on the real stack (both): a video
alert comes in over MQTT through a real ingest worker; a dispatcher acknowledges it with a reason
and it leaves the active alerts, the wall's ticker and the screens' picture, for good (a later
update of its camera does not bring it back), and the handling goes out over MQTT; another alert
becomes a case report that comes back through the case feed as a case; a collector near a case
is sent to 核实 with a task on its handheld's topic. Every refusal is clear and changes nothing."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import orjson
import pytest
from desk_support import CITY, Desk, seeded_site
from helpers import eventually, grant, publisher, running_ingest
from sqlalchemy import select

from dashboard.app import create_app
from dashboard.screens.wall import BoardMaker
from dashboard.store.accounts import Accounts
from dashboard.store.alert_handling import alert_head
from dashboard.store.hot import DeviceFix
from dashboard.store.liverank import LiveRank
from dashboard.store.models import CaseRow
from dashboard.store.outbox import Outbox


@pytest.fixture
def site(stack, tmp_path: Path):
    yield from seeded_site(stack, tmp_path)


def video(alert_id: str, camera: str, state: str, start: float, type_: str = "占道经营") -> tuple[str, bytes]:
    place = next(c for c in CITY.cameras if c.id == camera)
    return f"gridwall/video/{camera}", orjson.dumps({
        "alert_id": alert_id, "camera_id": camera, "type": type_, "state": state, "start": start,
        "lat": place.lat, "lon": place.lon,
        "severity": "alert", "confidence": 0.9, "snapshot_url": f"https://nvr.example/{alert_id}.jpg"})


def ticker_ids(hot, engine, settings) -> list[str]:
    board = BoardMaker(hot, engine, settings, LiveRank(hot.r, settings.timezone)).build(time.time())
    return [i["id"] for i in board["ticker"] if i["kind"] == "alert"]


def test_an_acknowledged_alert_leaves_the_wall_for_good_and_a_dismissed_one_too(site) -> None:
    settings, hot, engine = site
    app = create_app(settings).server
    dispatcher = Desk(app, grant(settings.resolved_database_url, "dispatcher", "张值班", token=""))
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "leader", token=""))
    camera = CITY.cameras[0].id
    a1, a2 = f"A{uuid.uuid4().hex[:8]}", f"A{uuid.uuid4().hex[:8]}"
    now = time.time()
    outbox = Outbox(engine)
    with running_ingest(settings) as worker, publisher(settings) as pub:
        for topic, payload in (video(a1, camera, "new", now - 30), video(a2, camera, "new", now - 20, "暴露垃圾")):
            pub.publish(topic, payload, qos=1)
        eventually(lambda: {a1, a2} <= {a["alert_id"] for a in hot.active_alerts()}, 15, "the alerts in")
        status, listed = dispatcher.get("/desk/api/alerts")
        assert status == 200 and {a1, a2} <= {r["alert_id"] for r in listed["active"]}
        row = next(r for r in listed["active"] if r["alert_id"] == a1)
        assert row["type_zh"] == "占道经营" and row["snapshot_url"].endswith(f"{a1}.jpg") and row["lat"] is not None
        assert {a1, a2} <= set(ticker_ids(hot, engine, settings))
        version = hot.version()

        refusals = [
            (leader.post("/desk/api/act/alert", {"alert_id": a1, "action": "ack", "reason": "x"}), 403, "forbidden"),
            (dispatcher.post("/desk/api/act/alert", {"alert_id": a1, "action": "ack", "reason": ""}), 400, "bad_reason"),
            (dispatcher.post("/desk/api/act/alert", {"alert_id": a1, "action": "ack", "reason": "x" * 201}), 400,
             "bad_reason"),
            (dispatcher.post("/desk/api/act/alert", {"alert_id": a1, "action": "close", "reason": "x"}), 400, "bad_action"),
            (dispatcher.post("/desk/api/act/alert", {"alert_id": "NOPE", "action": "ack", "reason": "x"}), 404,
             "no_such_alert"),
            (dispatcher.post("/desk/api/act/alert", {"alert_id": a1, "action": "ack", "reason": "x"}, csrf=False), 400,
             "csrf"),
        ]
        for (status, body), want_status, want_reason in refusals:
            assert (status, body.get("reason")) == (want_status, want_reason), body
        assert alert_head(engine, a1).handled_at is None and outbox.counts()["pending"] == 0

        status, body = dispatcher.post("/desk/api/act/alert", {"alert_id": a1, "action": "ack", "reason": "已通知中队前往"})
        assert (status, body) == (202, {"handled": "ack"})
        status, body = dispatcher.post("/desk/api/act/alert", {"alert_id": a2, "action": "dismiss", "reason": "误报：阴影"})
        assert status == 202
        assert dispatcher.post("/desk/api/act/alert", {"alert_id": a1, "action": "dismiss", "reason": "again"})[0] == 409
        # Off the active alerts and the ticker; the screens are sent the removal in the next tick.
        assert not {a1, a2} & {a["alert_id"] for a in hot.active_alerts()}
        assert not {a1, a2} & set(ticker_ids(hot, engine, settings))
        eventually(lambda: hot.version() > version, 5, "the next tick")
        removed = [orjson.loads(d) for d in hot.deltas(version, hot.version()) or []]
        assert any({a1, a2} <= set(d.get("alerts_gone", ())) for d in removed), removed
        # Its camera goes on: the update does not bring it back.
        pub.publish(*video(a1, camera, "update", now - 30), qos=1)
        eventually(lambda: worker.processed >= 3, 10, "the update taken in")
        assert a1 not in {a["alert_id"] for a in hot.active_alerts()}
        assert a1 not in ticker_ids(hot, engine, settings)
        # The handlings went out over MQTT (marked sent on their PUBACKs: the ACL lets ingest).
        eventually(lambda: outbox.counts()["sent"] == 2, 10, "the handlings published")
    head = alert_head(engine, a1)
    assert (head.handled_action, head.handled_by) == ("ack", "张值班")
    listed = dispatcher.get("/desk/api/alerts")[1]
    done = {r["alert_id"]: r["handled"] for r in listed["handled"]}
    assert done[a1]["reason"] == "已通知中队前往" and done[a2]["action"] == "dismiss"
    audit = {e.action for e in Accounts(engine).audit_log(20)}
    assert {"alert_ack", "alert_dismiss"} <= audit


def test_an_alert_becomes_a_case_through_the_case_feed(site) -> None:
    settings, hot, engine = site
    app = create_app(settings).server
    dispatcher = Desk(app, grant(settings.resolved_database_url, "dispatcher", "张值班", token=""))
    camera = CITY.cameras[1].id
    alert_id = f"A{uuid.uuid4().hex[:8]}"
    with running_ingest(settings), publisher(settings) as pub:
        pub.publish(*video(alert_id, camera, "new", time.time() - 10, "暴露垃圾"), qos=1)
        eventually(lambda: hot.alert(alert_id) is not None, 15, "the alert in")
        assert dispatcher.post("/desk/api/act/alert-case", {"alert_id": alert_id, "note": ""})[1]["reason"] == "bad_note"
        status, body = dispatcher.post("/desk/api/act/alert-case", {"alert_id": alert_id, "note": "路口东侧垃圾堆放"})
        assert status == 202 and body["case_id"].startswith("V")
        case_id = body["case_id"]

        def stored() -> object:
            with engine.connect() as conn:
                return conn.execute(select(CaseRow.source, CaseRow.category, CaseRow.grid_code, CaseRow.state)
                                    .where(CaseRow.case_id == case_id)).first()
        row = eventually(stored, 20, "the case, back through the case feed")
    assert (row.source, row.category, row.state) == ("video", "event", "reported")
    assert row.grid_code, "placed in its grid from the camera's place"
    assert alert_head(engine, alert_id).handled_case == case_id
    page = dispatcher.get(f"/desk/api/case/{case_id}")[1]
    assert page["entries"][0]["actor"] == "张值班"
    assert page["media"] and page["media"][0]["url"].endswith(f"{alert_id}.jpg")


def test_a_collector_near_a_case_is_sent_to_verify_it(site) -> None:
    settings, hot, engine = site
    app = create_app(settings).server
    dispatcher = Desk(app, grant(settings.resolved_database_url, "dispatcher", "张值班", token=""))
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "leader", token=""))
    now = time.time()
    case = next(d for d in hot.open_cases() if d.get("lat") is not None)
    near, far = "C9001", "C9002"
    hot.write_positions([
        DeviceFix(near, now - 5, case["lat"] + 0.001, case["lon"], {"id": near, "kind": "collector", "ts": now - 5,
                                                                     "lat": case["lat"] + 0.001, "lon": case["lon"]}),
        DeviceFix(far, now - 5, case["lat"] + 0.5, case["lon"], {"id": far, "kind": "collector", "ts": now - 5,
                                                                  "lat": case["lat"] + 0.5, "lon": case["lon"]}),
    ])
    outbox = Outbox(engine)
    good = {"device_id": near, "kind": "verify", "case_id": case["case_id"], "note": "请到现场核实并拍照"}
    refusals = [
        (leader.post("/desk/api/act/send", good), 403, "forbidden"),
        (dispatcher.post("/desk/api/act/send", {**good, "device_id": far}), 409, "not_near"),
        (dispatcher.post("/desk/api/act/send", {**good, "device_id": "C/1"}), 400, "bad_device"),
        (dispatcher.post("/desk/api/act/send", {**good, "kind": "arrest"}), 400, "bad_action"),
        (dispatcher.post("/desk/api/act/send", {**good, "case_id": "NO-SUCH"}), 404, "no_such_case"),
        (dispatcher.post("/desk/api/act/send", {**good, "alert_id": "A1"}), 400, "bad_action"),
        (dispatcher.post("/desk/api/act/send", {**good, "note": "x" * 501}), 400, "bad_note"),
    ]
    for (status, body), want_status, want_reason in refusals:
        assert (status, body.get("reason")) == (want_status, want_reason), body
    assert outbox.counts()["pending"] == 0
    status, body = dispatcher.post("/desk/api/act/send", good)
    assert status == 202 and body["distance_m"] < 200
    [message] = outbox.pending(10)
    task = orjson.loads(message.payload)
    assert message.topic == f"gridwall/task/{near}"
    assert (task["kind"], task["case_id"], task["note"], task["actor"], task["task_id"]) == (
        "verify", case["case_id"], "请到现场核实并拍照", "张值班", body["task_id"])
    assert abs(task["lat"] - case["lat"]) < 1e-6
    # The place is kept for the idle rule: standing still there is the work (docs/supervision.md).
    [(lat, lon, sent)] = hot.watch_states().task_places(now, 7200)[near]
    assert (round(lat, 5), round(lon, 5)) == (round(case["lat"], 5), round(case["lon"], 5)) and sent >= now
    with running_ingest(settings):
        eventually(lambda: outbox.counts()["sent"] == 1, 10, "the task published (the ACL lets ingest)")
    assert any(e.action == "send_verify" for e in Accounts(engine).audit_log(10))


def test_a_collector_near_an_alert_is_sent_to_verify_it(site) -> None:
    from dashboard.records import Alert
    from dashboard.store.history_writer import HistoryWriter
    from feeds.steps.alerts import alert_doc

    settings, hot, engine = site
    app = create_app(settings).server
    dispatcher = Desk(app, grant(settings.resolved_database_url, "dispatcher", "张值班", token=""))
    cam, now = CITY.cameras[2], time.time()
    alert = Alert(f"A{uuid.uuid4().hex[:8]}", cam.id, "乱堆物料", "new", now - 30, lat=cam.lat, lon=cam.lon,
                  grid_code=cam.grid_code, snapshot_url="https://nvr.example/x.jpg")
    HistoryWriter(engine).write(alerts=[alert])
    hot.put_alerts([alert_doc(alert)])
    hot.write_positions([DeviceFix("C9101", now - 5, cam.lat + 0.0005, cam.lon, {
        "id": "C9101", "kind": "collector", "ts": now - 5, "lat": cam.lat + 0.0005, "lon": cam.lon, "name": "赵六"})])
    status, body = dispatcher.get(f"/desk/api/alert/{alert.alert_id}")
    assert status == 200 and body["alert"]["type_zh"] == "乱堆物料"
    assert body["nearby"][0]["id"] == "C9101" and body["nearby"][0]["distance_m"] < 100
    assert dispatcher.get("/desk/api/alert/NOPE")[0] == 404
    status, sent = dispatcher.post("/desk/api/act/send", {"device_id": "C9101", "kind": "verify", "alert_id": alert.alert_id})
    assert status == 202
    [message] = Outbox(engine).pending(10)
    task = orjson.loads(message.payload)
    assert message.topic == "gridwall/task/C9101" and task["alert_id"] == alert.alert_id
    assert task["title"] == "乱堆物料" and task["snapshot_url"] == "https://nvr.example/x.jpg"


def test_the_case_page_lists_the_vehicles_near_it_now(site) -> None:
    """Only vehicles, only those heard from lately, nearest first, within 3 km (a brute-force look
    over what was written)."""
    settings, hot, engine = site
    app = create_app(settings).server
    dispatcher = Desk(app, grant(settings.resolved_database_url, "dispatcher", "张值班", token=""))
    now = time.time()
    case = next(d for d in hot.open_cases() if d.get("lat") is not None)
    fixes = {  # id: (north offset in degrees, kind, seconds ago)
        "V9001": (0.002, "vehicle", 5), "V9002": (0.001, "vehicle", 5), "V9003": (0.0005, "vehicle", 3 * 3600),
        "V9004": (0.05, "vehicle", 5), "C9201": (0.0001, "collector", 5),
    }
    hot.write_positions([DeviceFix(i, now - ago, case["lat"] + d, case["lon"], {
        "id": i, "kind": kind, "subtype": "muck_truck" if kind == "vehicle" else None, "ts": now - ago,
        "lat": case["lat"] + d, "lon": case["lon"], "name": f"浙A{i}"}) for i, (d, kind, ago) in fixes.items()])
    status, page = dispatcher.get(f"/desk/api/case/{case['case_id']}")
    assert status == 200
    shown = [(v["id"], v["subtype"]) for v in page["vehicles"]]
    assert shown[:2] == [("V9002", "muck_truck"), ("V9001", "muck_truck")], shown
    assert "V9003" not in dict(shown) and "V9004" not in dict(shown) and "C9201" not in dict(shown)
    assert 100 < page["vehicles"][0]["distance_m"] < 120
