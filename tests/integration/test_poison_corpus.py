"""Poison through a real broker and a real ingest worker, on both stacks: values the database
cannot store (over-long text in every bounded field, NUL, invalid UTF-8, deep nesting, huge
numbers, times outside 2000..2100, wrong types in nested objects), interleaved with good
traffic (GPS, alerts, full case lifecycles) that includes every text field at exactly its bound.

On PostgreSQL, which refuses a varchar longer than its column, this is what holds validation to
the columns: every bad message is refused at validation with its reason (never `store_failed`,
never a stalled batch), every good one at the bound is stored. test_bad_input_corpus.py covers
one message per older reason through the pipeline directly; this one is about storability."""

from __future__ import annotations

import time
from typing import Any

import orjson
from helpers import eventually, publisher, running_ingest
from sqlalchemy import select

from dashboard import limits
from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.hot import DEV, HotStore, connect
from dashboard.store.models import AlertRow, CaseEventRow, CaseRow, DeviceRow

Good = tuple[str, bytes, str, str]  # topic, payload, what ("gps" | "alert" | "case"), its id
Bad = tuple[str, bytes, str, str]  # topic, payload, feed, reason

CITY = {"lat": 30.27, "lon": 120.16}
GRID = "33990200100101"


def _json(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# --- good traffic, with every text field at its bound -------------------------------------------


def fix(device: str, now: float, kind: str = "collector", **extra: Any) -> Good:
    body = {**CITY, "ts": now - 1, **extra}
    return f"gridwall/gps/{kind}/{device}", _json(body), "gps", device


def alert(camera: str, alert_id: str, now: float, **extra: Any) -> Good:
    body = {"alert_id": alert_id, "type": "占道经营", "state": "new", "start": now - 5, **CITY, **extra}
    return f"gridwall/video/{camera}", _json(body), "alert", alert_id


def event(case_id: str, action: str, event_id: str, ts: float, actor: str = "test", **case: Any) -> Good:
    body: dict[str, Any] = {"event_id": event_id, "action": action, "ts": ts, "actor": actor}
    if case:
        body["case"] = case
    return f"gridwall/case/{case_id}", _json(body), "case", event_id


def lifecycle(case_id: str, t0: float, *, actor: str = "test", event_prefix: str | None = None, **report: Any) -> list[Good]:
    """report -> accept -> file -> dispatch -> sign -> feedback -> check_pass -> close."""
    prefix = event_prefix or case_id
    fields = {"source": "supervisor", "category": "event", "small_code": "0102", "grid_code": GRID, **CITY, **report}
    steps = ["accept", "file", "dispatch", "sign", "feedback", "check_pass", "close"]
    out = [event(case_id, "report", f"{prefix}-report", t0, actor, **fields)]
    for i, action in enumerate(steps, start=1):
        extra = {"department": report.get("department", "环卫处")} if action == "dispatch" else {}
        out.append(event(case_id, action, f"{prefix}-{action}", t0 + 60 * i, actor, **extra))
    return out


def good_traffic(now: float) -> list[Good]:
    t0 = now - 3600
    edge_case = {
        "source": "来源" * (limits.SOURCE // 2), "small_code": "0" * limits.SMALL_CODE,
        "class_code": "0" * limits.CLASS_CODE, "department": "部" * limits.DEPARTMENT,
        "condition": "c" * limits.CONDITION, "title": "标" * limits.TITLE, "address": "址" * limits.ADDRESS,
        "description": "描" * limits.DESCRIPTION, "media_url": "http://m/" + "m" * (limits.URL - 9),
        "ticket": "t" * limits.TICKET,
    }  # fmt: skip
    edge_id = "K" * limits.CASE_ID
    traffic = [
        *lifecycle("PC1", t0),
        *lifecycle("PC2", t0 + 5, department="市容科"),
        # every case text at its bound, through a whole lifecycle: PostgreSQL takes them all
        *lifecycle(edge_id, t0 + 10, actor="人" * limits.ACTOR, event_prefix="E" * (limits.EVENT_ID - 11), **edge_case),
        fix("PG1", now), fix("PG2", now, kind="vehicle", subtype="sanitation"),
        fix("D" * limits.DEVICE_ID, now, name="名" * limits.NAME, department="部" * limits.DEPARTMENT,
            status="s" * limits.STATUS, subtype="s" * limits.SUBTYPE),
        alert("CAM1", "PA1", now), alert("CAM1", "PA2", now, severity="critical"),
        alert("C" * limits.CAMERA_ID, "A" * limits.ALERT_ID, now, type="类" * limits.ALERT_TYPE,
              snapshot_url="http://s/" + "s" * (limits.URL - 9)),
        ("frigate/reviews", _json({"type": "new", "after": {"id": "PR1", "camera": "CAM2", "severity": "alert",
                                                             "start_time": now - 5, "data": {"objects": ["person"]}}}),
         "alert", "PR1"),
        ("open311/requests", _json({"service_request_id": 901, "status": "closed", "requested_datetime": t0,
                                    "updated_datetime": t0 + 600, "lat": 30.27, "long": 120.16, "status_notes": "n" * limits.NOTE}),
         "case", "open311:901:report"),
    ]  # fmt: skip
    # the Open311 close is a second event of the same message
    traffic.append(("", b"", "case", f"open311:901:close:{int(t0 + 600)}"))
    return traffic


# --- poison --------------------------------------------------------------------------------------


def bad_traffic(now: float) -> list[Bad]:
    gps = "gridwall/gps/collector/BADG"
    ok_fix = {**CITY, "ts": now - 1}

    def g(n: int, reason: str, topic: str | None = None, raw: bytes | None = None, **over: Any) -> Bad:
        return topic or f"{gps}{n}", raw if raw is not None else _json({**ok_fix, **over}), "gps", reason

    ok_alert = {"alert_id": "BADA", "type": "占道经营", "state": "new", "start": now - 5, **CITY}

    def v(n: int, reason: str, topic: str | None = None, raw: bytes | None = None, **over: Any) -> Bad:
        body = {**ok_alert, "alert_id": f"BADA{n}", **over}
        return topic or "gridwall/video/BADCAM", raw if raw is not None else _json(body), "video", reason

    t0 = now - 3000

    def c(n: int, reason: str, topic: str | None = None, raw: bytes | None = None, case: Any = None, **over: Any) -> Bad:
        body = {"event_id": f"BADE{n}", "action": "report", "ts": t0, "actor": "test",
                "case": case if case is not None else {"category": "event", "grid_code": GRID, **CITY}, **over}  # fmt: skip
        return topic or f"gridwall/case/BADC{n}", raw if raw is not None else _json(body), "case", reason

    def case_with(n: int, reason: str, **fields: Any) -> Bad:
        return c(n, reason, case={"category": "event", "grid_code": GRID, **CITY, **fields})

    long_case = [case_with(100 + i, "too_long", **{key: "x" * (bound + 1)}) for i, (key, bound) in
                 enumerate(sorted(limits.CASE.items())) if key != "note"]  # fmt: skip
    return [
        # GPS: every text too long, NUL, not UTF-8, too deep, times and numbers that cannot be kept
        g(0, "too_long", topic="gridwall/gps/collector/" + "B" * (limits.DEVICE_ID + 1)),
        g(1, "too_long", name="名" * (limits.NAME + 1)),
        g(2, "too_long", department="部" * (limits.DEPARTMENT + 1)),
        g(3, "too_long", status="s" * (limits.STATUS + 1)),
        g(4, "too_long", subtype="s" * (limits.SUBTYPE + 1)),
        g(5, "bad_text", name="张\x00三"),
        g(6, "bad_text", department="\x00"),
        g(7, "invalid_json", raw=b'{"lat":30.27,"lon":120.16,"ts":%d,"name":"a\x00b"}' % (now - 1)),  # a raw NUL
        g(8, "invalid_json", raw=b'{"lat":30.27,"lon":120.16,"ts":%d,"name":"' % (now - 1) + "张三".encode("gbk") + b'"}'),
        g(9, "invalid_json", raw=b'{"lat":30.27,"lon":120.16,"ts":%d,"name":"\\ud800"}' % (now - 1)),
        g(10, "too_deep", raw=b'{"lat":30.27,"lon":120.16,"ts":%d,"x":%s}' % (now - 1, _deep(1100).encode())),
        g(11, "bad_time", ts=123),
        g(12, "bad_time", ts=915_148_800),  # 1999: a GPS week rollover
        g(13, "future_timestamp", ts=1e300),
        g(14, "coord_out_of_range", lat=1e308),
        g(15, "not_finite", raw=b'{"lat":30.27,"lon":1e999,"ts":%d}' % (now - 1)),
        g(16, "wrong_type", lat={"deg": 30.27}),
        g(17, "wrong_type", name=["张三"]),
        # video alerts
        v(0, "too_long", alert_id="a" * (limits.ALERT_ID + 1)),
        v(1, "too_long", topic="gridwall/video/" + "C" * (limits.CAMERA_ID + 1)),
        v(2, "too_long", type="类" * (limits.ALERT_TYPE + 1)),
        v(3, "too_long", snapshot_url="http://s/" + "s" * limits.URL),
        v(4, "bad_text", type="占道\x00经营"),
        v(5, "bad_text", alert_id="A\x00"),
        v(6, "bad_time", start=5),
        v(7, "future_timestamp", end=1e20),
        v(8, "wrong_type", raw=b'{"alert_id":%d,"type":"x","state":"new","start":%d}' % (2**70, now - 5)),  # > 64 bits
        v(9, "wrong_type", confidence={"value": 0.9}),
        v(10, "invalid_json", raw=b'{"alert_id":"BADA10","type":"\xff\xfe","state":"new","start":%d}' % (now - 5)),
        v(11, "too_deep", raw=b'{"alert_id":"BADA11","type":"x","state":"new","start":%d,"x":%s}'
          % (now - 5, _deep(1100).encode())),
        ("frigate/reviews", _json({"type": "new", "after": {"id": "BADR1", "camera": "CAM2", "severity": "s" * 17,
                                                            "start_time": now - 5, "data": {"objects": ["person"]}}}),
         "video", "too_long"),  # Frigate's severity comes straight from the wire: bounded all the same
        # case events: the 200-character actor, and every case field one over its bound
        c(0, "too_long", actor="x" * 200),
        c(1, "too_long", event_id="e" * (limits.EVENT_ID + 1)),
        c(2, "too_long", topic="gridwall/case/" + "K" * (limits.CASE_ID + 1)),
        *long_case,
        c(3, "bad_text", actor="a\x00"),
        case_with(4, "bad_text", title="标\x00题"),
        case_with(5, "bad_text", address="\x00"),
        case_with(6, "bad_time", deadline=1e300),  # overflows datetime.fromtimestamp at the write
        c(7, "bad_time", ts=100),
        c(8, "future_timestamp", ts=1e300),
        case_with(9, "wrong_type", title={"zh": {"text": "标题"}}),
        case_with(10, "wrong_type", urgent=[True]),
        c(11, "wrong_type", case=[1, 2]),
        c(12, "wrong_type", raw=b'{"event_id":%d,"action":"report","ts":%d}' % (2**70, t0)),
        c(13, "too_deep", raw=b'{"event_id":"BADE13","action":"report","ts":%d,"case":{"x":%s}}' % (t0, _deep(1100).encode())),
        c(14, "invalid_json", raw=b'{"event_id":"BADE14","action":"report","ts":%d,"actor":"' % t0
          + "张三".encode("gbk") + b'"}'),
        case_with(15, "coord_out_of_range", lat=1e308, lon=1e308),
        # ids with blanks around them: " BADC16" and "BADC16" would be two cases to the store and
        # one to the case book, whose mismatch once held the cases' locks for every worker
        c(16, "bad_text", topic="gridwall/case/ BADC16"),
        # (ids in a payload are stripped by the decoders; ids in a topic are taken as they are)
        g(18, "bad_text", topic="gridwall/gps/collector/BADG18 ", name="g18"),
        v(12, "bad_text", topic="gridwall/video/ BADCAM"),
        ("open311/requests", _json({"service_request_id": 902, "status": "closed", "requested_datetime": t0,
                                    "status_notes": "n" * (limits.NOTE + 1)}), "case", "too_long"),
    ]  # fmt: skip


def test_poison_is_refused_with_its_reason_and_good_traffic_at_the_bounds_is_stored(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    engine = db.engine_for(settings.resolved_database_url)
    now = time.time()
    goods, bads = good_traffic(now), bad_traffic(now)
    assert len({p for _t, p, _f, _r in bads}) == len(bads)  # each dead letter is found by its payload
    tail = [fix("TAIL1", now), alert("CAM1", "TAILA", now), event("TAILC", "report", "TAILC-report", now - 60,
            **{"source": "supervisor", "category": "event", "grid_code": GRID, **CITY})]  # fmt: skip

    expected: dict[str, dict[str, int]] = {}
    for _t, _p, feed, reason in bads:
        counts = expected.setdefault(feed, {})
        counts[reason] = counts.get(reason, 0) + 1
    want_events = {key for _t, _p, what, key in goods + tail if what == "case"}
    want_alerts = {key for _t, _p, what, key in goods + tail if what == "alert"}
    want_devices = {key for _t, _p, what, key in goods + tail if what == "gps"}

    with running_ingest(settings), publisher(settings) as pub:
        sendable = [g for g in goods if g[0]]
        for i in range(max(len(sendable), len(bads))):  # good, bad, good, bad, ...
            for topic, payload, *_ in (sendable[i : i + 1] + bads[i : i + 1]):
                pub.publish(topic, payload, qos=1)
        # after all the poison: good traffic still goes through, promptly
        for topic, payload, *_ in tail:
            pub.publish(topic, payload, qos=1)

        missing: list[Any] = []

        def stored() -> Any:
            with engine.connect() as conn:
                events = set(conn.execute(select(CaseEventRow.event_id)).scalars())
                alerts = set(conn.execute(select(AlertRow.alert_id)).scalars())
            devices = {d for d in want_devices if hot.r.hget(DEV, d) is not None}
            missing[:] = [want_events - events, want_alerts - alerts, want_devices - devices, hot.stats()]
            return (events, alerts) if not any(missing[:3]) else None

        try:
            events, alerts = eventually(stored, 60, "every good message stored, the tail too")
        except AssertionError as error:
            raise AssertionError(f"{error}; missing events, alerts, devices and the counters: {missing}") from None

        def refused() -> Any:
            stats = hot.stats()
            return stats if all(stats[f]["rejected_by_reason"] == expected[f] for f in expected) else None

        try:
            stats = eventually(refused, 30, "every poison refused with its reason")
        except AssertionError as error:
            got = {f: hot.stats()[f]["rejected_by_reason"] for f in expected}
            raise AssertionError(f"{error}; refused {got}, expected {expected}") from None

    assert events == want_events, "a bad case event was stored"  # exactly: nothing else got in
    assert alerts == want_alerts, "a bad alert was stored"
    assert not [d for d in hot.r.hkeys(DEV) if d.decode().startswith(("BAD", "BBBB"))]
    for feed, by_reason in stats.items():
        assert by_reason["rejected_by_reason"] == expected.get(feed, {}), feed  # no store_failed, no unsupported
    assert stats["case"]["accepted"] == len(want_events)
    assert stats["video"]["accepted"] == len(want_alerts)

    # each poison message is a dead letter under its own reason, kept whole for a replay
    letters = DeadLetterStore(engine).list(limit=len(bads) + 10)
    assert {bytes(d.payload): d.reason for d in letters} == {p: reason for _t, p, _f, reason in bads}

    # the values at the bound arrived intact, not cut to fit (SQLite would not cut; PostgreSQL refuses)
    with engine.connect() as conn:
        edge = conn.execute(select(CaseRow).where(CaseRow.case_id == "K" * limits.CASE_ID)).one()
        device = conn.execute(select(DeviceRow).where(DeviceRow.device_id == "D" * limits.DEVICE_ID)).one()
        actor = conn.execute(select(CaseEventRow.actor).where(CaseEventRow.case_id == edge.case_id)).scalars().first()
    assert edge.state == "closed" and edge.department == "部" * limits.DEPARTMENT
    assert edge.condition == "c" * limits.CONDITION and edge.title == "标" * limits.TITLE
    assert actor == "人" * limits.ACTOR
    assert device.name == "名" * limits.NAME
