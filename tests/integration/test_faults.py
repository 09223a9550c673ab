"""Fault injection on the production stack: an accepted QoS 1 case event reaches SQL exactly
once, whatever dies mid-stream.

Each scenario gets a private mosquitto (docs/deploy/mosquitto.conf: persistence on, its file in
the temp dir), a private Redis, a new PostgreSQL database and `gridwall ingest --worker-id w1`
as a real process. A paho MQTT 5 publisher that keeps its session sends complete case
lifecycles at a steady rate and keeps every PUBACK's reason code; one fault is injected
mid-stream, on its own thread, so the stream goes on through it. Once ingest is quiet:

- every event the broker acknowledged with a success code is in case_event exactly once;
- no PUBACK said 16 "no matching subscribers" (an accepted message nobody was there to get);
- the overdue counters in Redis (HotStore.case_counts) equal the open cases of the SQL
  projection and their lights by dashboard/casework/overdue.py;
- the ingest counters (HotStore.stats, what /healthz shows) are not set back by a lost Redis.

The rates and sizes are constants below; the whole file is sized for CI (about half a minute a
scenario when it passes).
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
import servers
from helpers import AckedPublisher, GridwallProcess, case_event, eventually, ingest_process, report
from sqlalchemy import func, select

from dashboard import casedata
from dashboard.casework import lifecycle
from dashboard.casework.overdue import Light, count_lights, disposal_light
from dashboard.config import Settings, load_settings
from dashboard.records import CaseEvent
from dashboard.store import db
from dashboard.store.case_states import open_cases
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.hot import HotStore, connect
from dashboard.store.keys import dedupe_key
from dashboard.store.models import CaseEventRow
from feeds.steps.dedupe import event_key

pytestmark = [pytest.mark.production, pytest.mark.faults]

PUBLISH_RATE = 150.0  # case events a second, steady
CLOSED_CASES = 130  # full lifecycles, report -> close: 8 events each
OPEN_CASES = 120  # report -> sign: 5 events each, left open for the counters (1,640 events in all)
CONCURRENT_CASES = 25  # cases in flight at once: their events interleave on the wire
FAULT_AT = 0.35  # the fault starts this far into the stream
RESTART_AFTER_S = 5.0  # a killed ingest worker is back this long after (systemd's RestartSec)
# A worker is killed while it stores a batch, the moment a crash costs most: BURST events go out
# at once, and the kill comes as soon as the burst is in flight (mid_batch: some marked seen in
# Redis but not in SQL, or some in SQL and the rest not), or after KILL_WAIT_S at the latest.
BURST = 200
KILL_WAIT_S = 1.0
SERVER_DOWN_S = 2.0  # a broker, Redis or PostgreSQL restart is down this long
ACK_WAIT_S = 30.0  # for the last PUBACKs after the stream
QUIET_S = 10.0  # nothing new in SQL for this long: ingest is done
SETTLE_MAX_S = 60.0  # and never wait longer than this after the stream

FAULTS = ("ingest_kill9", "broker_restart", "redis_flush", "redis_restart", "postgres_restart",
          "two_workers_one_killed")
KILLS = ("ingest_kill9", "two_workers_one_killed")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
DEPARTMENT = "环卫处"
CLOSED_ACTIONS = ("accept", "file", "dispatch", "sign", "feedback", "check_pass", "close")
OPEN_ACTIONS = ("accept", "file", "dispatch", "sign")
# How long ago the open cases were reported: long overdue, fresh, and (found by yellow_age)
# within the warning window now.
OPEN_AGES_S = (7 * 86400, 1800, None)


@pytest.fixture(scope="module")
def pg() -> Iterator[servers.Postgres]:
    missing = servers.production_missing()
    if missing:
        message = f"the fault tests need {', '.join(missing)} (make test installs them as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    # A cluster of our own: the postgres_restart scenario restarts it.
    cluster = servers.start_postgres()
    yield cluster
    cluster.stop()


@dataclass
class Rig:
    """One scenario's servers and workers."""

    root: Path
    pg: servers.Postgres
    broker: servers.Mosquitto
    redis: servers.RestartableRedis
    settings: Settings
    workers: dict[str, GridwallProcess] = field(default_factory=dict)

    @property
    def hot(self) -> HotStore:
        return HotStore(connect(self.settings.resolved_redis_url))

    def start_worker(self, worker_id: str) -> None:
        proc = self.workers.get(worker_id) or ingest_process(self.settings, worker_id, self.root)
        self.workers[worker_id] = proc
        mark = len(self.broker.log())
        proc.start()
        # Subscribed when the broker logs the worker's SUBSCRIBE to the case topics.
        eventually(lambda: self.broker.subscribed(worker_id, "gridwall/case/", mark) or not proc.running(), 60,
                   f"ingest {worker_id} subscribed")
        assert proc.running(), f"ingest {worker_id} exited:\n{proc.output()}"

    def outputs(self) -> str:
        return "\n".join(f"--- ingest {wid} (last lines)\n{p.output(2500)}" for wid, p in self.workers.items())


@pytest.fixture
def rig(pg: servers.Postgres, tmp_path: Path) -> Iterator[Rig]:
    broker = servers.Mosquitto(tmp_path / "broker")
    broker.start()
    redis_server = servers.RestartableRedis(tmp_path / "redis")
    redis_server.start()
    settings = load_settings(path=None, environ={}, mqtt_url=broker.url, redis_url=redis_server.url,
                             database_url=pg.new_database(), data_dir=tmp_path / "data",
                             share_group=f"g{uuid.uuid4().hex[:8]}")
    r = Rig(tmp_path, pg, broker, redis_server, settings)
    try:
        yield r
    finally:
        for proc in r.workers.values():
            proc.stop()
        broker.stop()
        redis_server.stop()
        if not servers.wait_for_port("127.0.0.1", pg.port, 0.2):
            servers.postgres_up(pg)  # a failed postgres_restart must not take the next scenario down


# --- the stream ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    event_id: str
    topic: str
    body: bytes


def case_events(cid: str, t0: float, actions: tuple[str, ...]) -> list[Event]:
    """One case's report and then ``actions``, a minute apart."""
    events = [Event(f"{cid}-report", *report(cid, t0))]
    for k, action in enumerate(actions, start=1):
        extra = {"department": DEPARTMENT} if action == "dispatch" else {}
        events.append(Event(f"{cid}-{action}", *case_event(cid, action, f"{cid}-{action}", t0 + 60 * k, **extra)))
    return events


def yellow_age(now: float, settings: Settings) -> float:
    """How long ago to report an open case so that its disposal light is yellow for the next
    few minutes (the working calendar decides, so it is searched, by the casework rules)."""
    rules, policy = casedata.city_rules(settings.section("casework"))
    for age in range(600, 14 * 86400, 300):
        state = lifecycle.replay([CaseEvent(**orjson.loads(e.body)) for e in case_events("Y", now - age, OPEN_ACTIONS)], rules)
        if all(disposal_light(state, now + dt, rules, policy) is Light.YELLOW for dt in range(0, 301, 30)):
            return float(age)
    return 3600.0  # no yellow to be had today: the counters are still compared


def lifecycles(now: float, settings: Settings) -> list[Event]:
    """Complete case lifecycles, a minute between steps, interleaved CONCURRENT_CASES at a time
    as a case system sends them; each case's own events stay in order."""
    # Open and closed cases mixed all through the stream, so a fault anywhere hits both kinds.
    kinds = [True] * CLOSED_CASES + [False] * OPEN_CASES
    random.Random(7).shuffle(kinds)
    cases: list[list[Event]] = []
    ages = [age if age is not None else yellow_age(now, settings) for age in OPEN_AGES_S]
    for i, closed in enumerate(kinds):
        cid = f"F{i:04d}"
        t0 = now - (3 * 86400 if closed else ages[i % len(ages)])
        cases.append(case_events(cid, t0, CLOSED_ACTIONS if closed else OPEN_ACTIONS))
    out: list[Event] = []
    for g in range(0, len(cases), CONCURRENT_CASES):
        group = [list(c) for c in cases[g:g + CONCURRENT_CASES]]
        while any(group):
            for c in group:
                if c:
                    out.append(c.pop(0))
    return out


# --- the faults ----------------------------------------------------------------------------------


def mid_batch(rig: Rig, event_ids: list[str]) -> str:
    """Wait, up to KILL_WAIT_S, for the burst to be in flight: some of its events marked seen in
    Redis but not yet in SQL (a worker that marks before its commit), or some of them in SQL and
    the rest not (taken from the broker, not yet stored and acknowledged). Says what it found."""
    engine = db.engine_for(rig.settings.resolved_database_url)
    client = rig.hot.r
    deadline = time.monotonic() + KILL_WAIT_S
    while time.monotonic() < deadline:
        # Redis first, then SQL: a mark set after the commit can then never look unstored.
        pipe = client.pipeline(transaction=False)
        for eid in event_ids:
            pipe.exists(dedupe_key(event_key(eid)))
        marked = {eid for eid, n in zip(event_ids, pipe.execute(), strict=True) if n}
        with engine.connect() as conn:
            stored = set(conn.scalars(select(CaseEventRow.event_id).where(CaseEventRow.event_id.in_(event_ids))))
        if marked - stored:
            return f"mid-batch: {len(marked - stored)} events marked seen, not yet in SQL"
        if 0 < len(stored) < len(event_ids):
            return f"mid-burst: {len(stored)} of its {len(event_ids)} events in SQL"
        time.sleep(0.002)
    return f"no batch caught in flight within {KILL_WAIT_S} s"


def inject(rig: Rig, fault: str, burst_ids: list[str], notes: list[str]) -> None:
    """The fault, as it happens in production; runs on its own thread while the stream goes on."""
    if fault in ("ingest_kill9", "two_workers_one_killed"):
        victim = "w1" if fault == "ingest_kill9" else "w2"
        notes.append(f"{victim} killed {mid_batch(rig, burst_ids)}")
        rig.workers[victim].kill9()
        time.sleep(RESTART_AFTER_S)
        rig.start_worker(victim)  # the same worker id: its broker session is waiting for it
    elif fault == "broker_restart":
        rig.broker.restart(SERVER_DOWN_S)  # SIGTERM: mosquitto saves its persistence file
    elif fault == "redis_flush":
        rig.hot.r.flushall()
    elif fault == "redis_restart":
        rig.redis.restart(SERVER_DOWN_S)  # no persistence: it comes back empty
    elif fault == "postgres_restart":
        servers.postgres_restart(rig.pg, SERVER_DOWN_S)
    else:
        raise AssertionError(f"unknown fault {fault!r}")


# --- what SQL and Redis hold ---------------------------------------------------------------------


def stored_counts(rig: Rig) -> dict[str, int]:
    """event_id -> rows in case_event."""
    engine = db.engine_for(rig.settings.resolved_database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(CaseEventRow.event_id, func.count()).group_by(CaseEventRow.event_id))
        return {eid: int(n) for eid, n in rows}


def counters_from_sql(rig: Rig, now: float) -> dict[str, int]:
    """The overdue counters recomputed: the open cases of the SQL projection, their disposal
    lights by the casework rules."""
    rules, policy = casedata.city_rules(rig.settings.section("casework"))
    engine = db.engine_for(rig.settings.resolved_database_url)
    with engine.connect() as conn:
        states = [c.state for c in open_cases(conn)]
    lights = count_lights(states, now, rules, policy, dimensions=())["all"]["all"]
    return {"open": len(states), "overdue": lights[Light.RED], "warn": lights[Light.YELLOW]}


def wait_until_quiet(rig: Rig, accepted: set[str]) -> dict[str, int]:
    """Until every accepted event is stored and the counters agree, or nothing new has come
    into SQL for QUIET_S (the events still missing are then lost, not late)."""
    deadline = time.monotonic() + SETTLE_MAX_S
    last, since = -1, time.monotonic()
    while True:
        stored = stored_counts(rig)
        if accepted <= stored.keys():
            now = time.time()
            try:
                if rig.hot.case_counts(now) == counters_from_sql(rig, now):
                    return stored
            except Exception:  # Redis still away: keep waiting
                pass
        total = sum(stored.values())
        if total != last:
            last, since = total, time.monotonic()
        if time.monotonic() - since > QUIET_S or time.monotonic() > deadline:
            return stored
        time.sleep(0.5)


# --- the scenarios -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_every_accepted_case_event_reaches_sql_exactly_once(rig: Rig, fault: str) -> None:
    rig.start_worker("w1")
    if fault == "two_workers_one_killed":
        rig.start_worker("w2")
    stream = lifecycles(time.time(), rig.settings)
    # The case system's own account (docs/deploy/mosquitto.acl): it may publish case events only.
    pub = AckedPublisher(rig.broker.url_as("case-system"), f"fault-pub-{uuid.uuid4().hex[:6]}")
    fault_errors: list[BaseException] = []
    fault_index = int(len(stream) * FAULT_AT)
    burst = range(fault_index, fault_index + BURST) if fault in KILLS else range(0)
    notes: list[str] = []

    def fault_run() -> None:
        try:
            inject(rig, fault, [stream[i].event_id for i in burst], notes)
        except BaseException as exc:  # the test reports it; a thread would swallow it
            fault_errors.append(exc)

    fault_thread = threading.Thread(target=fault_run, name=f"fault-{fault}", daemon=True)
    try:
        t0 = time.monotonic()
        for i, ev in enumerate(stream):
            delay = t0 + i / PUBLISH_RATE - time.monotonic()
            if delay > 0 and i not in burst:
                time.sleep(delay)
            if i == fault_index:
                fault_thread.start()
            pub.publish(ev.event_id, ev.topic, ev.body, qos=1)
        published_s = time.monotonic() - t0
        fault_thread.join(120)
        ack_deadline = time.monotonic() + ACK_WAIT_S
        while pub.keyed()[1] and time.monotonic() < ack_deadline:
            time.sleep(0.2)
        codes, unacked = pub.keyed()
    finally:
        pub.close()
    assert not fault_errors, f"injecting {fault} failed: {fault_errors[0]!r}\n{rig.outputs()}"

    accepted = {eid for eid, code in codes.items() if code < 0x80}
    stored = wait_until_quiet(rig, accepted)
    now = time.time()
    hot = rig.hot
    redis_counts = hot.case_counts(now)
    sql_counts = counters_from_sql(rig, now)
    stats = hot.stats()["case"]

    lost = sorted(accepted - stored.keys())
    duplicated = {eid: n for eid, n in stored.items() if n > 1}
    no_subscribers = sorted(eid for eid, code in codes.items() if code == 16)
    refused = {eid: code for eid, code in codes.items() if code >= 0x80}
    stored_events = sum(stored.values())
    problems = []
    if lost:
        by_action = Counter(eid.rsplit("-", 1)[1] for eid in lost)
        problems.append(f"{len(lost)} accepted events not in SQL (by action {dict(by_action)}): {lost[:25]}")
    if duplicated:
        problems.append(f"{len(duplicated)} events stored more than once: {dict(list(duplicated.items())[:10])}")
    if no_subscribers:
        problems.append(f"{len(no_subscribers)} PUBACKs said 16 (no matching subscribers): {no_subscribers[:25]}")
    if unacked:
        problems.append(f"{len(unacked)} messages never PUBACKed: {unacked[:10]}")
    if refused:
        problems.append(f"{len(refused)} messages refused by the broker: {dict(list(refused.items())[:10])}")
    if redis_counts != sql_counts:
        problems.append(f"Redis counters {redis_counts} != recomputed from SQL {sql_counts}")
    if stats["accepted"] < stored_events:
        problems.append(f"ingest counters behind SQL: case accepted {stats['accepted']} < {stored_events} events in SQL "
                        "(set back by a lost Redis, or counts lost to a crash between a batch's commit and its count)")
    dead = Counter(d.reason for d in DeadLetterStore(db.engine_for(rig.settings.resolved_database_url)).list(limit=1000))
    summary = (f"fault {fault}: {len(stream)} events published in {published_s:.1f} s, {len(codes)} PUBACKed "
               f"(codes {dict(Counter(codes.values()))}), {len(accepted)} accepted, {len(stored)} distinct in SQL; "
               f"dead letters by reason {dict(dead)}; case stats {stats}; {'; '.join(notes)}")
    assert not problems, "\n".join([summary, *problems, rig.outputs()])
    # Not vacuous: the stream went through and the counters had something to count.
    assert len(accepted) == len(stream) and sql_counts["open"] >= OPEN_CASES and sql_counts["overdue"] > 0, summary
