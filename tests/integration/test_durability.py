"""What ingest does with a batch when something goes wrong, on real Redis and SQL (both stacks):
a crash before the commit leaves nothing that would make the redelivery a repeat; an id reused
by a different event is refused with both versions kept; an event whose predecessor never comes
is kept and its case marked incomplete; a message the database refuses is isolated and the rest
of its batch stored; a database that is down is waited for; a Redis flushed under a running
worker is rebuilt, counters included. docs/durability.md."""

from __future__ import annotations

import time

import orjson
import pytest
from helpers import case_event, lifecycle_to_dispatch, report
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, OperationalError

from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.hot import HotStore, connect
from dashboard.store.models import CaseEventRow
from dashboard.store.parked import ParkedEvents
from feeds.ingest import build_pipeline
from feeds.pipeline import Message


def msg(topic_body: tuple[str, bytes], qos: int = 1) -> Message:
    return Message(topic_body[0], topic_body[1], time.time(), qos)


def stored_ids(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(CaseEventRow.event_id)).scalars())


@pytest.fixture
def parts(settings):
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    hot = HotStore(connect(settings.resolved_redis_url))
    return engine, hot


def test_a_crash_before_the_commit_leaves_no_mark_behind(settings, parts):
    """kill -9 between the dedupe check and the SQL commit: the broker redelivers, and the copy
    must be applied, not taken for a duplicate (a mark set before the commit did exactly that)."""
    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot)
    batch = [msg(m) for m in lifecycle_to_dispatch("D1", time.time() - 3600)]
    real_write = pipeline.history.write

    def dies(**_kw):
        raise SystemExit("kill -9")  # not an Exception: no handler runs, as in a real crash

    pipeline.history.write = dies
    with pytest.raises(SystemExit):
        pipeline.handle(batch)
    pipeline.history.write = real_write
    assert hot.seen_marks(["ev:D1-report"]) == [None]
    result = pipeline.handle(batch)  # the redelivery
    assert result.accepted["case"] == 4 and not result.duplicates
    assert stored_ids(engine) == ["D1-accept", "D1-dispatch", "D1-file", "D1-report"]
    assert hot.seen_marks(["ev:D1-report"]) != [None]  # marked after the commit
    assert pipeline.handle(batch).duplicates["case"] == 4


def test_a_reused_event_id_is_a_conflicting_duplicate_with_both_versions_kept(settings, parts):
    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot)
    t0 = time.time() - 3600
    first = msg(report("D2", t0, event_id="E-shared"))
    assert pipeline.handle([first]).accepted["case"] == 1
    other = msg(report("D2b", t0 + 5, event_id="E-shared"))  # another case's report, same id
    result = pipeline.handle([other])
    assert [r.reason for r in result.refusals] == ["conflicting_duplicate"] and not result.duplicates
    assert pipeline.handle([first]).duplicates["case"] == 1  # the identical copy is a duplicate
    # Without the Redis marks, SQL still tells the two apart.
    hot.r.flushall()
    assert pipeline.handle([first]).duplicates["case"] == 1
    assert [r.reason for r in pipeline.handle([other]).refusals] == ["conflicting_duplicate"]
    # Within one batch: the first copy wins, the different one is refused.
    a, b = msg(report("D3", t0, event_id="E-twice")), msg(report("D3x", t0, event_id="E-twice"))
    result = pipeline.handle([a, b])
    assert result.accepted["case"] == 1 and [r.message for r in result.refusals] == [b]
    letters = DeadLetterStore(engine, 100).list(reason="conflicting_duplicate", limit=100)
    payloads = [orjson.loads(bytes(letter.payload)) for letter in letters]
    assert {p["case_id"] for p in payloads if p["event_id"] == "E-shared"} == {"D2", "D2b"}  # both versions
    assert stored_ids(engine).count("E-shared") == 1


def test_an_event_whose_predecessor_never_comes_is_kept_and_its_case_marked(settings, parts):
    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot, case_park_s=0.2)
    t0 = time.time() - 3600
    accept = msg(case_event("D4", "accept", "D4-accept", t0 + 60))
    result = pipeline.handle([accept])
    assert [e.event_id for e, _m in result.parked] == ["D4-accept"] and not result.refusals
    time.sleep(0.3)
    result = pipeline.retry_parked(time.time() + 1)
    assert [e.event_id for e, _m, _d in result.incomplete] == ["D4-accept"] and not result.refusals
    parked = ParkedEvents(engine)
    assert list(parked.incomplete(time.time())) == ["D4"]
    # Hours later the missing report is imported: the waiting accept applies by itself.
    assert pipeline.handle([msg(report("D4", t0))]).accepted["case"] == 1
    result = pipeline.retry_parked(time.time())
    assert result.accepted["case"] == 1
    assert parked.count() == 0 and stored_ids(engine) == ["D4-accept", "D4-report"]


def test_a_message_the_database_refuses_is_isolated_and_the_rest_stored(settings, parts):
    from feeds.ingest import IngestWorker

    engine, hot = parts
    worker = IngestWorker(settings, "durability-poison")
    real_write = worker.pipeline.history.write

    def picky(**kw):  # a database that refuses one value validation let through
        if any(e.actor == "poison" for e in kw.get("events", ())):
            raise DataError("INSERT", {}, Exception("value too long for type character varying(128)"))
        return real_write(**kw)

    worker.pipeline.history.write = picky
    t0 = time.time() - 3600
    good = [msg(m) for c in ("D5", "D6", "D7") for m in lifecycle_to_dispatch(c, t0)]
    topic, body = report("D8", t0)
    bad = Message(topic, orjson.dumps({**orjson.loads(body), "actor": "poison"}), time.time(), 1)
    worker.process(good[:6] + [bad] + good[6:])
    assert len(stored_ids(engine)) == 12
    letters = DeadLetterStore(engine, 100).list(reason="store_failed")
    assert [bytes(letter.payload) for letter in letters] == [bad.payload]
    assert hot.stats()["case"]["rejected_by_reason"] == {"store_failed": 1}


def test_a_database_that_is_down_is_waited_for_not_dead_lettered(settings, parts):
    from feeds.ingest import IngestWorker

    engine, hot = parts
    worker = IngestWorker(settings, "durability-down")
    real_write = worker.pipeline.history.write
    failures = []

    def down_twice(**kw):
        if len(failures) < 2:
            failures.append(time.monotonic())
            raise OperationalError("INSERT", {}, Exception("connection refused"))
        return real_write(**kw)

    worker.pipeline.history.write = down_twice
    worker.process([msg(m) for m in lifecycle_to_dispatch("D9", time.time() - 3600)])
    assert len(failures) == 2 and failures[1] - failures[0] >= 0.9  # backed off
    assert len(stored_ids(engine)) == 4 and worker.retrying is None
    assert DeadLetterStore(engine, 100).list() == []


def test_a_redis_flushed_under_a_running_worker_is_rebuilt_with_its_counters(settings, parts):
    from feeds.ingest import IngestWorker

    engine, hot = parts
    worker = IngestWorker(settings, "durability-flush")
    now = time.time()
    worker.process([msg(m) for c in ("F1", "F2") for m in lifecycle_to_dispatch(c, now - 7 * 86400)])
    worker.process([msg(case_event("F3", "accept", "F3-accept", now - 60))])  # parked
    worker._tick(time.time())
    before, stats = hot.case_counts(time.time()), hot.stats()["case"]
    assert before["open"] == 2 and before["overdue"] == 2
    hot.r.flushall()
    worker._tick(time.time())  # the next tick notices, and rebuilds
    assert hot.case_counts(time.time()) == before
    assert hot.stats()["case"]["accepted"] == stats["accepted"] == 8
    assert ParkedEvents(engine).count() == 1  # the waiting event was never in Redis
    # and the screens are told to take the whole picture
    assert b'"reset":true' in (hot.deltas(0, hot.version()) or [b'"reset":true'])[0]


def test_the_reconcile_puts_back_a_case_whose_redis_write_was_lost(settings, parts):
    from feeds.rebuild import reconcile_cases

    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot)
    pipeline.handle([msg(m) for m in lifecycle_to_dispatch("R1", time.time() - 3600)])
    hot.put_cases([{"case_id": "R1", "open": False}])  # as if the Redis write had failed
    hot.put_cases([{"case_id": "GHOST", "open": True, "state": "dispatched"}])  # never in SQL
    assert reconcile_cases(hot, engine, pipeline.cases)["fixed"] == 2  # type: ignore[arg-type]
    assert [d["case_id"] for d in hot.open_cases()] == ["R1"]
    assert reconcile_cases(hot, engine, pipeline.cases)["fixed"] == 0  # type: ignore[arg-type]


def test_counters_are_kept_in_sql_too(settings, parts):
    from dashboard.store.feed_counters import FeedCounters

    engine, hot = parts
    pipeline = build_pipeline(settings, engine, hot)
    pipeline.handle([msg(m) for m in lifecycle_to_dispatch("C1", time.time() - 3600)])
    pipeline.handle([Message("gridwall/case/C2", b"{not json", time.time(), 1)])
    counters = FeedCounters(engine).read()["case"]
    assert counters["accepted"] == 4 and counters["rejected:invalid_json"] == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CaseEventRow)).scalar_one() == 4



def test_healthz_says_when_ingest_is_behind_and_which_cases_are_incomplete(settings, parts):
    from dashboard.health import health
    from dashboard.store.hot import write_broker_state
    from dashboard.store.parked import Parked

    engine, hot = parts
    now = time.time()
    write_broker_state(hot, "w1", True, now, {"queue": 1200, "lag_s": 12.5, "shed": 40, "retrying": None, "recovered": 3})
    ParkedEvents(engine).park([Parked("H1-close", "H1", {}, "gridwall/case/H1", b"{}", now - 3600, "early")], now + 60)
    body, status = health(hot, settings.resolved_database_url, now)
    assert status == 200 and body["status"] == "behind"  # behind is not down: no 503
    assert body["ingest"] | {"retrying": {}} == {"lag_s": 12.5, "behind": True, "queue": 1200, "shed": 40,
                                                  "recovered": 3, "retrying": {}, "cases_incomplete": 1}
    write_broker_state(hot, "w1", True, now, {"lag_s": 0.1})
    assert health(hot, settings.resolved_database_url, now)[0]["status"] == "ok"


def test_a_fault_of_ours_is_not_taken_for_a_stream_of_poison(settings, parts):
    """A bug or a broken schema fails every message: after POISON_STREAK_MAX dead letters in a
    row with nothing stored, the worker stops refusing and waits, as for a database that is down."""
    import threading

    from feeds.ingest import POISON_STREAK_MAX, IngestWorker

    engine, hot = parts
    worker = IngestWorker(settings, "durability-bug")
    real_write = worker.pipeline.history.write

    def bug(**_kw):
        raise TypeError("a bug in our own code")

    worker.pipeline.history.write = bug
    batch = [msg(m) for c in range(8) for m in lifecycle_to_dispatch(f"B{c}", time.time() - 3600)]
    thread = threading.Thread(target=worker.process, args=(batch,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while worker.retrying is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.retrying is not None and "TypeError" in worker.retrying
    assert len(DeadLetterStore(engine).list(limit=100)) == POISON_STREAK_MAX
    worker.pipeline.history.write = real_write  # the fix is deployed
    thread.join(20)
    assert not thread.is_alive() and worker.retrying is None
    assert len(stored_ids(engine)) > 32 - POISON_STREAK_MAX - 4  # the rest stored (a case missing its report waits)
