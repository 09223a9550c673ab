"""The soak: mixed traffic for minutes or hours through a real `gridwall ingest` and `gridwall
serve` on the production stack (mosquitto as deployed, Redis 7, PostgreSQL), walls polling
/wall/poll, and the resident memory of ingest, web and Redis sampled all along.

Shared by tests/integration/test_soak.py (CI-sized, asserts) and bench/bench_soak.py (hours,
prints JSON). The traffic, per second of the target rate: mostly QoS 0 GPS fixes from a few
thousand devices; a few QoS 1 video alerts (new, update, end) and QoS 1 case events (complete
lifecycles, report to close). Publishers are processes of their own (a fleet is not in the
server's process either), each paced in 10 ms steps; what they really sent is counted, never
assumed.

Memory is compared between the end of the warm-up and the end of the run. The warm-up has to
outlast what fills up by design: the dedupe and handled marks, the trails and the live deltas
(the newest DELTAS_KEPT, none older than DELTA_TTL_S, 120 s), and the dedupe marks, one per QoS 1
message for SEEN_TTL_S (15 min). A run long enough measures from the end of the marks' window
(bench/bench_soak.py does); a 5-minute CI run adds ~6,000 marks (<1 MB) and stays within bounds.
After that a steady stream should hold memory flat.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import statistics
import threading
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import servers
from helpers import GridwallProcess, descendants, eventually, grant, ingest_process, rss_bytes

from dashboard.config import load_settings
from dashboard.launcher import free_port
from dashboard.store.hot import DELTA_TTL_S, SEEN_TTL_S  # noqa: F401 - the windows that fill Redis

CAMERAS = [f"CAM{i:03d}" for i in range(1, 33)]  # the demo city's (assets/city/city.json)
ALERT_TYPES = ("占道经营", "暴露垃圾", "乱堆物料", "渣土车未密闭")
CASE_ACTIONS = ("report", "accept", "file", "dispatch", "sign", "feedback", "check_pass", "close")
VEHICLE_SUBTYPES = ("enforcement", "muck_truck", "sanitation")


@dataclass
class SoakPlan:
    duration_s: float = 300.0
    rate: float = 5000.0  # target messages a second, every kind together
    warmup_s: float = DELTA_TTL_S + 30.0
    devices: int = 3000
    alerts_per_s: float = 10.0  # QoS 1 alert messages a second (each alert: new, update, end)
    case_events_per_s: float = 10.0  # QoS 1 case events a second (complete lifecycles)
    walls: int = 4  # screens polling /wall/poll
    poll_s: float = 0.5  # as assets/gridwall-poll.js
    sample_s: float = 10.0
    publishers: int = 2  # processes


# --- the publishers (processes) ------------------------------------------------------------------


def _gps(dev: int, share: int, ts: float, step: int) -> tuple[str, bytes]:
    collector = dev % 3 == 0
    kind = "collector" if collector else "vehicle"
    device_id = f"{'C' if collector else 'V'}{share}{dev:05d}"
    # A slow walk around a ring inside the city, so positions change and trails move.
    phase = (step + dev * 7) % 360
    lat = 30.245 + (dev % 50) * 0.0011 + 0.0004 * ((phase % 90) / 90)
    lon = 120.12 + (dev // 50 % 60) * 0.0013 + 0.0004 * ((phase % 45) / 45)
    body: dict[str, Any] = {"id": device_id, "kind": kind, "lat": round(lat, 6), "lon": round(lon, 6), "ts": ts,
                            "speed": float(phase % 40), "heading": float(phase)}
    if not collector:
        body["subtype"] = VEHICLE_SUBTYPES[dev % 3]
    return f"gridwall/gps/{kind}/{device_id}", orjson.dumps(body)


class _QoS1Source:
    """Alerts and case lifecycles, each in its own order: new -> update -> end; report ... close."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.alerts: list[tuple[str, int]] = []  # (alert id, next state index)
        self.cases: list[tuple[str, float, int]] = []  # (case id, t0, next action index)
        self.n_alerts = self.n_cases = 0

    def alert(self, now: float) -> tuple[str, bytes]:
        if len(self.alerts) < 20:
            self.n_alerts += 1
            self.alerts.append((f"AL{self.tag}-{self.n_alerts}", 0))
        i = self.n_alerts % len(self.alerts)
        alert_id, state = self.alerts[i]
        cam = CAMERAS[int(alert_id.rsplit("-", 1)[1]) % len(CAMERAS)]
        body = {"alert_id": alert_id, "camera_id": cam, "type": ALERT_TYPES[state % len(ALERT_TYPES)],
                "state": ("new", "update", "end")[state], "start": now - 30, "confidence": 0.8 + 0.05 * state,
                "severity": "alert"}
        if state == 2:
            body["end"] = now
            self.alerts.pop(i)
        else:
            self.alerts[i] = (alert_id, state + 1)
        return f"gridwall/video/{cam}", orjson.dumps(body)

    def case_event(self, now: float) -> tuple[str, bytes]:
        if len(self.cases) < 20:
            self.n_cases += 1
            self.cases.append((f"SK{self.tag}-{self.n_cases}", now - 900, 0))
        i = self.n_cases % len(self.cases)
        case_id, t0, k = self.cases[i]
        action = CASE_ACTIONS[k]
        body: dict[str, Any] = {"event_id": f"{case_id}-{action}", "case_id": case_id, "action": action,
                                "ts": t0 + 60 * k, "actor": "soak"}
        if action == "report":
            body["case"] = {"source": "supervisor", "category": "event", "small_code": "0102",
                            "grid_code": "33990200100101", "lat": 30.27, "lon": 120.16, "urgent": False}
        elif action == "dispatch":
            body["case"] = {"department": "环卫处"}
        if k + 1 == len(CASE_ACTIONS):
            self.cases.pop(i)
        else:
            self.cases[i] = (case_id, t0, k + 1)
        return f"gridwall/case/{case_id}", orjson.dumps(body)


def publisher_main(url: str, share: int, plan: dict[str, Any], start_at: float, stop_at: float, out: Any) -> None:
    """One publisher process: its share of the GPS rate, and (share 0) all the QoS 1 traffic.
    Each kind has a client of its own, so each client's PUBACK counts are that kind's (paho's
    message ids wrap at 65,535, so they cannot tell the kinds apart over a long run)."""
    from helpers import AckedPublisher

    p = SoakPlan(**plan)
    tag = f"{share}-{uuid.uuid4().hex[:6]}"
    gps = AckedPublisher(url, f"soak-gps-{tag}")
    alerts = AckedPublisher(url, f"soak-alerts-{tag}") if share == 0 and p.alerts_per_s > 0 else None
    cases = AckedPublisher(url, f"soak-cases-{tag}") if share == 0 and p.case_events_per_s > 0 else None
    gps_rate = max(p.rate - p.alerts_per_s - p.case_events_per_s, 0.0) / p.publishers
    devices = max(p.devices // p.publishers, 1)
    source = _QoS1Source(str(share))
    sent = {"gps": 0, "alert": 0, "case": 0}
    while time.time() < start_at:
        time.sleep(0.01)
    t0 = time.time()
    while True:
        now = time.time()
        if now >= stop_at:
            break
        elapsed = now - t0
        # Due by now; a publisher that falls more than a second behind does not try to catch up
        # (its shortfall shows in what it reports as sent).
        due_gps = min(int(elapsed * gps_rate), sent["gps"] + int(gps_rate))
        while sent["gps"] < due_gps:
            n = sent["gps"]
            gps.publish(None, *_gps(n % devices, share, now, n // devices), qos=0)
            sent["gps"] += 1
        if alerts is not None:
            while sent["alert"] < int(elapsed * p.alerts_per_s):
                alerts.publish(None, *source.alert(now), qos=1)
                sent["alert"] += 1
        if cases is not None:
            while sent["case"] < int(elapsed * p.case_events_per_s):
                cases.publish(None, *source.case_event(now), qos=1)
                sent["case"] += 1
        time.sleep(max(0.0, 0.01 - (time.time() - now)))
    elapsed = time.time() - t0
    report: dict[str, Any] = {"share": share, "elapsed_s": elapsed, "sent": sent, "puback_codes": {}, "unacked": 0,
                              "case_events_accepted": 0}
    for kind, client in (("alert", alerts), ("case", cases)):
        if client is None:
            continue
        with contextlib.suppress(AssertionError):
            eventually(lambda c=client, k=kind: c.acked >= sent[k], 30, "PUBACKs")
        for code, n in client.code_counts.items():
            report["puback_codes"][code] = report["puback_codes"].get(code, 0) + n
        report["unacked"] += sent[kind] - client.acked
        if kind == "case":
            report["case_events_accepted"] = sum(n for code, n in client.code_counts.items() if code < 0x80)
    for client in (gps, alerts, cases):
        if client is not None:
            client.close()
    out.put(report)


# --- the walls (threads) -------------------------------------------------------------------------


class Wall(threading.Thread):
    """A screen's poll loop as assets/gridwall-poll.js runs it: one request at a time, every
    poll_s, asking for what changed since the versions it has."""

    def __init__(self, base_url: str, poll_s: float, stop: threading.Event, token: str) -> None:
        super().__init__(daemon=True)
        self.base_url, self.poll_s, self.stop = base_url, poll_s, stop
        self.headers = {"Authorization": f"Bearer {token}"}  # each wall its own token, as deployed
        self.ok = self.failed = self.full = self.bytes = 0
        self.errors: list[str] = []

    def run(self) -> None:
        live: int | None = None
        board: int | None = None
        while not self.stop.is_set():
            started = time.monotonic()
            url = f"{self.base_url}/wall/poll?v={'' if live is None else live}&b={'' if board is None else board}"
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=self.headers), timeout=10) as resp:
                    raw = resp.read()
                msg = orjson.loads(raw)
                if msg.get("live"):
                    live = msg["live"]["v"]
                    self.full += "full" in msg["live"]
                if msg.get("b") is not None:
                    board = msg["b"]
                self.ok += 1
                self.bytes += len(raw)
            except Exception as exc:  # a slow or failed poll: the browser keeps polling, so do we
                self.failed += 1
                if len(self.errors) < 5:
                    self.errors.append(repr(exc)[:200])
                live = None
            self.stop.wait(max(self.poll_s - (time.monotonic() - started), 0))


# --- the run -------------------------------------------------------------------------------------


@dataclass
class Sample:
    t: float  # seconds since the traffic started
    ingest: int  # RSS bytes
    web: int  # gunicorn master and its workers
    redis: int
    redis_used_memory: int


@dataclass
class SoakResult:
    plan: SoakPlan
    elapsed_s: float = 0.0
    sent: dict[str, int] = field(default_factory=dict)
    achieved_rate: float = 0.0
    puback_codes: dict[int, int] = field(default_factory=dict)
    unacked: int = 0
    case_events_accepted: int = 0
    case_events_in_sql: int = 0
    gps_accepted: int = 0
    polls: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    baseline: dict[str, int] = field(default_factory=dict)
    end: dict[str, int] = field(default_factory=dict)
    growth: dict[str, float] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        mib = {k: f"{self.baseline.get(k, 0) / 2**20:.1f} -> {self.end.get(k, 0) / 2**20:.1f} MiB" for k in self.baseline}
        return (f"soak {self.elapsed_s:.0f} s at a target of {self.plan.rate:.0f} msg/s: publishers achieved "
                f"{self.achieved_rate:.0f} msg/s ({self.sent}); ingest accepted {self.gps_accepted} GPS fixes; "
                f"case events PUBACKed {self.case_events_accepted}, in SQL {self.case_events_in_sql}; "
                f"PUBACK codes {self.puback_codes}, unacked {self.unacked}; polls {self.polls}; "
                f"RSS after warm-up -> end {mib}, growth {self.growth}")

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("logs")
        out["samples"] = [
            {"t": round(s.t, 1), "ingest_mib": round(s.ingest / 2**20, 2), "web_mib": round(s.web / 2**20, 2),
             "redis_mib": round(s.redis / 2**20, 2), "redis_used_memory_mib": round(s.redis_used_memory / 2**20, 2)}
            for s in self.samples
        ]
        return out


def _median(values: list[int]) -> int:
    return int(statistics.median(values)) if values else 0


def run_soak(plan: SoakPlan, root: Path, progress: Any = None) -> SoakResult:
    """Start the stack, run the traffic for plan.duration_s, sample memory every plan.sample_s,
    stop everything. ``progress(sample)`` is called with each sample."""
    import redis as redis_client
    from sqlalchemy import func, select

    from dashboard.store import db
    from dashboard.store.hot import HotStore, connect
    from dashboard.store.models import CaseEventRow

    result = SoakResult(plan)
    root.mkdir(parents=True, exist_ok=True)
    broker = servers.Mosquitto(root / "broker")
    broker.start()
    redis_server = servers.RestartableRedis(root / "redis")
    redis_server.start()
    pg = servers.start_postgres()
    procs: list[GridwallProcess] = []
    stop_walls = threading.Event()
    walls: list[Wall] = []
    try:
        settings = load_settings(path=None, environ={}, mqtt_url=broker.url, redis_url=redis_server.url,
                                 database_url=pg.new_database(), data_dir=root / "data", port=free_port(),
                                 share_group=f"soak{uuid.uuid4().hex[:6]}")
        ingest = ingest_process(settings, "soak1", root)
        mark = len(broker.log())
        ingest.start()
        procs.append(ingest)
        eventually(lambda: broker.subscribed("soak1", "gridwall/case/", mark) or not ingest.running(), 60,
                   "ingest subscribed")
        assert ingest.running(), ingest.output()
        web = GridwallProcess(settings, ["serve"], root / "web.log")
        web.start()
        procs.append(web)
        base_url = f"http://127.0.0.1:{settings.port}"

        def healthy() -> bool:
            assert web.running(), web.output()
            try:
                with urllib.request.urlopen(base_url + "/healthz", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False

        eventually(healthy, 90, "gridwall serve healthy")
        hot = HotStore(connect(settings.resolved_redis_url))
        rclient = redis_client.Redis.from_url(redis_server.url)

        walls = [Wall(base_url, plan.poll_s, stop_walls, grant(settings.resolved_database_url, "wall", f"soak wall {i}", token=""))
                 for i in range(plan.walls)]
        for w in walls:
            w.start()

        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        start_at = time.time() + 3.0  # every publisher connected and waiting
        stop_at = start_at + plan.duration_s
        # The publishers log in as the tests' gateway (tests/servers.py); ingest's account only reads.
        pubs = [ctx.Process(target=publisher_main, args=(broker.publish_url, i, asdict(plan), start_at, stop_at, out),
                            daemon=True)
                for i in range(plan.publishers)]
        for p in pubs:
            p.start()
        while time.time() < start_at:
            time.sleep(0.05)

        def web_pids() -> list[int]:
            return [web.pid, *descendants(web.pid)]

        next_sample = start_at
        while time.time() < stop_at:
            now = time.time()
            if now >= next_sample:
                sample = Sample(now - start_at, rss_bytes([ingest.pid]), rss_bytes(web_pids()),
                                rss_bytes([redis_server.pid or 0]), int(rclient.info("memory")["used_memory"]))
                result.samples.append(sample)
                if progress:
                    progress(sample)
                for name, proc in (("ingest", ingest), ("web", web)):
                    assert proc.running(), f"{name} died mid-soak:\n{proc.output()}"
                dead = [p.exitcode for p in pubs if not p.is_alive()]
                assert not dead, f"publisher processes died mid-soak: exit codes {dead}"
                next_sample += plan.sample_s
            time.sleep(min(0.2, max(stop_at - time.time(), 0)))
        # The end sample: the traffic has just stopped; nothing has been let go of yet.
        result.samples.append(Sample(time.time() - start_at, rss_bytes([ingest.pid]), rss_bytes(web_pids()),
                                     rss_bytes([redis_server.pid or 0]), int(rclient.info("memory")["used_memory"])))

        reports = []
        deadline = time.monotonic() + 120
        while len(reports) < len(pubs):
            try:
                reports.append(out.get(timeout=1))
            except queue.Empty:
                dead = [p.exitcode for p in pubs if not p.is_alive() and p.exitcode != 0]
                assert not dead and time.monotonic() < deadline, f"publishers did not report (exit codes {dead})"
        for p in pubs:
            p.join(30)
        result.elapsed_s = max(r["elapsed_s"] for r in reports)
        result.sent = {k: sum(r["sent"][k] for r in reports) for k in ("gps", "alert", "case")}
        result.achieved_rate = sum(result.sent.values()) / max(result.elapsed_s, 1e-9)
        for r in reports:
            for code, n in r["puback_codes"].items():
                result.puback_codes[int(code)] = result.puback_codes.get(int(code), 0) + n
        result.unacked = sum(r["unacked"] for r in reports)
        result.case_events_accepted = sum(r["case_events_accepted"] for r in reports)

        engine = db.engine_for(settings.resolved_database_url)

        def in_sql() -> int:
            with engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(CaseEventRow)).scalar_one())

        with contextlib.suppress(AssertionError):
            eventually(lambda: in_sql() >= result.case_events_accepted, 60, "case events in SQL")
        result.case_events_in_sql = in_sql()
        result.gps_accepted = hot.stats()["gps"]["accepted"]
        stop_walls.set()
        for w in walls:
            w.join(15)
        result.polls = {"walls": len(walls), "ok": sum(w.ok for w in walls), "failed": sum(w.failed for w in walls),
                        "full_pictures": sum(w.full for w in walls), "mib": round(sum(w.bytes for w in walls) / 2**20, 1),
                        "errors": [e for w in walls for e in w.errors][:5]}

        warm = [s for s in result.samples if plan.warmup_s <= s.t <= plan.warmup_s + 3 * plan.sample_s]
        last = result.samples[-3:]
        for name in ("ingest", "web", "redis"):
            result.baseline[name] = _median([getattr(s, name) for s in warm])
            result.end[name] = _median([getattr(s, name) for s in last])
            result.growth[name] = round(result.end[name] / result.baseline[name], 3) if result.baseline[name] else 0.0
        result.logs = {"ingest": ingest.output(3000), "web": web.output(3000)}
        return result
    finally:
        stop_walls.set()
        for proc in reversed(procs):
            proc.stop()
        broker.stop()
        redis_server.stop()
        pg.stop()
