"""Delivery guarantees on real brokers: redelivery applied once, reordering never moves a device
back, QoS 1 messages survive a worker restart, two workers split a shared subscription with
every message processed once, and Redis is rebuilt from SQL when it comes back empty."""

from __future__ import annotations

import time

import orjson
import pytest
from helpers import case_event, eventually, gps, lifecycle_to_dispatch, publisher, report, running_ingest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from dashboard.store import db
from dashboard.store.deadletters import DeadLetter, DeadLetterStore
from dashboard.store.hot import CASE, DEV, HotStore, connect
from dashboard.store.models import CaseEventRow, CaseRow


def sql_count(settings, model, *where) -> int:
    with db.engine_for(settings.resolved_database_url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def dead_letters(settings) -> list[DeadLetter]:
    return DeadLetterStore(db.engine_for(settings.resolved_database_url)).list(limit=50)


def test_redelivered_case_event_and_alert_are_applied_once(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    t0 = time.time() - 3600
    with running_ingest(settings), publisher(settings) as pub:
        for topic, body in lifecycle_to_dispatch("K1", t0):
            pub.publish(topic, body, qos=1)
        topic, body = lifecycle_to_dispatch("K1", t0)[1]  # the accept, delivered again
        pub.publish(topic, body, qos=1)
        alert = orjson.dumps({"alert_id": "A1", "camera_id": "CAM01", "lat": 30.27, "lon": 120.16, "type": "暴露垃圾",
                              "confidence": 0.9, "start": time.time() - 5, "state": "new"})
        pub.publish("gridwall/video/CAM01", alert, qos=1)
        pub.publish("gridwall/video/CAM01", alert, qos=1)
        eventually(lambda: hot.stats()["case"]["duplicates"] >= 1 and hot.stats()["video"]["duplicates"] >= 1, 10, "duplicates counted")
        eventually(lambda: sql_count(settings, CaseEventRow) == 4, 10, "four distinct events stored")
        assert hot.stats()["case"]["rejected"] == 0  # a repeat is not an illegal transition
        assert len(hot.active_alerts()) == 1
        doc = orjson.loads(hot.r.hget(CASE, "K1"))
        assert doc["state"] == "dispatched" and doc["due"] is not None


def test_an_older_fix_never_overwrites_a_newer_one(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    now = time.time()
    with running_ingest(settings), publisher(settings) as pub:
        pub.publish(*gps("V9", 30.28, 120.17, ts=now, kind="vehicle", subtype="enforcement"), qos=1)
        eventually(lambda: hot.r.hget(DEV, "V9"), 10, "newer fix stored")
        pub.publish(*gps("V9", 30.25, 120.12, ts=now - 30, kind="vehicle", subtype="enforcement"), qos=1)
        pub.publish(*gps("V8", 30.25, 120.12, kind="vehicle", subtype="enforcement"), qos=1)  # a marker that the batch ran
        eventually(lambda: hot.r.hget(DEV, "V8"), 10, "later message processed")
        assert orjson.loads(hot.r.hget(DEV, "V9"))["lat"] == 30.28


def test_illegal_transition_is_a_dead_letter_and_the_case_goes_on(stack, tmp_path):
    # An event newer than the case's state waits (parked) in case its predecessor is on the way;
    # a short wait keeps the test quick.
    settings = stack.settings(tmp_path, case_park_s=1.0)
    hot = HotStore(connect(settings.resolved_redis_url))
    t0 = time.time() - 600
    with running_ingest(settings), publisher(settings) as pub:
        pub.publish(*report("K2", t0), qos=1)
        pub.publish(*case_event("K2", "close", "K2-close-too-early", t0 + 10), qos=1)
        pub.publish(*case_event("K2", "accept", "K2-accept", t0 + 20), qos=1)
        pub.publish(*case_event("K2", "teleport", "K2-x", t0 + 30), qos=1)
        eventually(lambda: sql_count(settings, CaseEventRow) == 2, 10, "the legal events stored")
        stats = eventually(lambda: (s := hot.stats()["case"])["rejected"] >= 2 and s, 15, "rejects counted")
        assert stats["rejected_by_reason"] == {"illegal_transition": 1, "unknown_action": 1}
        reasons = {d.reason: d.detail for d in dead_letters(settings)}
        assert "close" in reasons["illegal_transition"] or "结案" in reasons["illegal_transition"]
        assert orjson.loads(hot.r.hget(CASE, "K2"))["state"] == "accepted"


def test_events_arriving_before_their_predecessor_wait_for_it(settings):
    """Shared subscriptions can deliver a case's dispatch before its filing: it is parked and
    applied once the filing is in, not refused."""
    hot = HotStore(connect(settings.resolved_redis_url))
    t0 = time.time() - 600
    events = lifecycle_to_dispatch("K5", t0)
    with running_ingest(settings), publisher(settings) as pub:
        for topic, body in reversed(events):  # dispatch, file, accept, report: each one early
            pub.publish(topic, body, qos=1)
            time.sleep(0.2)  # separate batches, as separate workers would see them
        eventually(lambda: sql_count(settings, CaseEventRow, CaseEventRow.case_id == "K5") == 4, 15, "all four applied")
    assert orjson.loads(hot.r.hget(CASE, "K5"))["state"] == "dispatched"
    assert hot.stats()["case"]["rejected"] == 0, dead_letters(settings)


def test_qos1_events_survive_a_worker_restart(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    t0 = time.time() - 600
    wid = f"persist-{time.time_ns()}"
    with running_ingest(settings, worker_id=wid):
        pass  # first start: the broker now holds a persistent session for this worker id
    with publisher(settings) as pub:
        for topic, body in lifecycle_to_dispatch("K3", t0):
            pub.publish(topic, body, qos=1).wait_for_publish(5)
    with running_ingest(settings, worker_id=wid):
        eventually(lambda: sql_count(settings, CaseEventRow, CaseEventRow.case_id == "K3") == 4, 15,
                   "events published while the worker was down")
    assert orjson.loads(hot.r.hget(CASE, "K3"))["state"] == "dispatched"


def test_hot_state_is_rebuilt_from_sql_after_redis_is_lost(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    now = time.time()
    with running_ingest(settings), publisher(settings) as pub:
        for topic, body in lifecycle_to_dispatch("K4", now - 7 * 86400):  # long overdue by now
            pub.publish(topic, body, qos=1)
        pub.publish(*gps("C77", 30.27, 120.16, ts=now), qos=1)
        pub.publish("gridwall/video/CAM02", orjson.dumps({"alert_id": "A7", "camera_id": "CAM02", "lat": 30.27, "lon": 120.16,
                                                          "type": "占道经营", "start": now - 30, "state": "new"}), qos=1)
        eventually(lambda: sql_count(settings, CaseRow) == 1 and hot.r.hget(DEV, "C77") and hot.active_alerts(), 10, "stored")
    before = hot.case_counts(time.time())
    assert before["overdue"] == 1
    hot.r.flushall()
    assert hot.is_empty()
    with running_ingest(settings):
        assert hot.case_counts(time.time()) == before
        assert orjson.loads(hot.r.hget(DEV, "C77"))["lat"] == 30.27
        assert [a["alert_id"] for a in hot.active_alerts()] == ["A7"]


def test_two_workers_share_the_load_each_message_once(stack, settings):
    if stack.kind != "production":
        pytest.skip("amqtt speaks MQTT 3.1.1 only: no shared subscriptions (the embedded stack runs one worker)")
    hot = HotStore(connect(settings.resolved_redis_url))
    now = time.time()
    n_dev, n_fix, n_cases = 50, 20, 40
    with running_ingest(settings, "w1") as w1, running_ingest(settings, "w2") as w2, publisher(settings) as pub:
        for k in range(n_fix):
            for d in range(n_dev):
                pub.publish(*gps(f"S{d}", 30.26 + k * 1e-4, 120.15, ts=now - n_fix + k), qos=1)
        for c in range(n_cases):
            for topic, body in lifecycle_to_dispatch(f"SC{c}", now - 3600):
                pub.publish(topic, body, qos=1)
        total = n_dev * n_fix + n_cases * 4
        eventually(lambda: w1.processed + w2.processed >= total, 30, "all messages processed")
        time.sleep(0.5)
        assert w1.processed + w2.processed == total  # nothing processed twice
        assert w1.processed > total * 0.2 and w2.processed > total * 0.2, (w1.processed, w2.processed)
        # A case event that reached its worker before its predecessor was stored by the other
        # one is parked and retried every PARK_RETRY_S: processed, but not yet in SQL.
        eventually(lambda: sql_count(settings, CaseEventRow) == n_cases * 4, 30, "parked case events settled")
    stats = hot.stats()
    assert stats["gps"]["accepted"] == n_dev * n_fix
    assert sql_count(settings, CaseEventRow) == n_cases * 4
    # Shared subscriptions reorder a device's fixes across workers; the newest still wins.
    for d in range(n_dev):
        assert orjson.loads(hot.r.hget(DEV, f"S{d}"))["ts"] == pytest.approx(now - 1)
    # A case's events can be split between workers too; a refused one would show here.
    assert stats["case"]["rejected"] == 0, dead_letters(settings)


def test_a_case_busy_on_another_worker_waits_its_turn(settings):
    from dashboard.records import CaseEvent
    from feeds.steps.cases import CaseBook

    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    hot = HotStore(connect(settings.resolved_redis_url))
    a, b = CaseBook(engine, settings, hot), CaseBook(engine, settings, hot)
    event = CaseEvent("K6-report", "K6", "report", time.time() - 60, case={"source": "supervisor", "category": "event"})
    assert hot.lock_cases(["K6"], a.token) == {"K6"}
    out = b([event])
    assert out.applied == [] and [e for e, _ in out.early] == [event] and out.locked == set()
    hot.unlock_cases(["K6"], b.token)  # not b's lock: it stays a's
    assert b([event]).applied == []
    hot.unlock_cases(["K6"], a.token)
    out = b([event])
    assert out.applied == [event] and out.locked == {"K6"}


def test_dedupe_reads_marks_and_sets_none(settings):
    """Marks are set after the SQL commit (feeds/steps/store.py), never by the dedupe check: a
    batch that dies before its commit leaves nothing that would make its redelivery a repeat."""
    from dashboard.records import CaseEvent
    from feeds.steps.dedupe import mark_of, split_repeats

    hot = HotStore(connect(settings.resolved_redis_url))
    old = CaseEvent("E-old", "K7", "report", time.time())
    new = CaseEvent("E-new", "K7", "accept", time.time())
    hot.mark_seen({"ev:E-old": mark_of(old)})  # stored by an earlier batch
    fresh, repeats, conflicts = split_repeats(hot, [old, new, new])
    assert fresh == [new] and repeats == [(old, 0), (new, 1)] and conflicts == []
    assert hot.seen_marks(["ev:E-new"]) == [None]  # the check set nothing
    other = CaseEvent("E-new", "K7", "close", time.time())  # the same id, another event
    assert split_repeats(hot, [new, other])[2] == [(other, new)]


def test_parked_events_survive_a_failed_retry(settings):
    from dashboard.store.parked import Parked, ParkedEvents
    from feeds.ingest import IngestWorker

    worker = IngestWorker(settings, "parked-fail")
    event = {"event_id": "P1", "case_id": "K8", "action": "accept", "ts": time.time() - 10, "actor": None,
             "case": {}, "source": "native"}
    parked = ParkedEvents(worker.engine)
    parked.park([Parked("P1", "K8", event, "gridwall/case/K8", orjson.dumps(event), time.time(), "early")], 0.0)

    def broken(*_a, **_k):
        raise OperationalError("INSERT", {}, Exception("database is down"))

    worker.pipeline.history.write = broken  # the SQL write fails while the event is retried
    with pytest.raises(OperationalError):
        worker.pipeline.retry_parked(time.time())
    assert [p.event_id for p in parked.get(["P1"])] == ["P1"]  # still waiting, in SQL
