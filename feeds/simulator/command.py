"""`gridwall simulate`: play the demo city over MQTT (see docs/simulator.md).

The lead wires ``add_arguments`` and ``run`` into the gridwall command; ``python -m
feeds.simulator`` runs the same thing standalone.

By default the city also misbehaves as the supervision is written to catch (a truck off its
route, a stop on the road, a speeder, a vehicle gone dark, collectors out of their grids or
still: feeds/simulator/misbehaviour.py, docs/supervision.md "The demo city"), from 2-8 minutes
after the start; ``--no-misbehave`` turns it off. The zones, routes and 责任网格 it plays against
are the city directory's (feeds/simulator/supervision_files.py); a fleet of another size than
theirs is told at start.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.casedata import city_rules
from dashboard.city.model import load_city
from dashboard.config import EMBEDDED_MQTT_PORT, embedded_mqtt_url
from feeds.mqtt import make_client
from feeds.simulator.clock import DAY_S
from feeds.simulator.misbehaviour import summary
from feeds.simulator.runner import STATE_FILE, Runner, load_state
from feeds.simulator.supervision_files import stale
from feeds.simulator.world import SimConfig, World

log = logging.getLogger("gridwall.simulator")
DEFAULT_MQTT_URL = embedded_mqtt_url(EMBEDDED_MQTT_PORT)
DEFAULT_CITY_DIR = Path(__file__).resolve().parents[2] / "assets" / "city"
DEFAULT_BACKFILL_DAYS = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = SimConfig()
    g = parser.add_argument_group("where")
    g.add_argument("--mqtt-url", help=f"broker URL (default: settings / GRIDWALL_MQTT_URL / {DEFAULT_MQTT_URL})")
    g.add_argument("--data-dir", type=Path, help="where the state file lives (default: settings data_dir, ./data)")
    g.add_argument("--city-dir", type=Path, help="generated city (default: assets/city)")
    g.add_argument("--client-id", default="gridwall-simulator", help="MQTT client id")
    g = parser.add_argument_group("what")
    g.add_argument("--seed", type=int, default=d.seed, help="everything follows from it (default %(default)s)")
    g.add_argument("--collectors", type=int, default=d.collectors, help="field collectors (default %(default)s)")
    g.add_argument("--vehicles", type=int, default=d.vehicles,
                   help="enforcement, sanitation and muck trucks, 3:4:3 (default %(default)s)")
    g.add_argument("--cameras", type=int, default=None, help="video cameras (default: all in city.json)")
    g.add_argument("--cases-per-day", type=float, default=d.cases_per_day, help="(default %(default)s)")
    g.add_argument("--alert-rate", type=float, default=d.alerts_per_camera_day,
                   help="video alerts per camera per day (default %(default)s)")
    g.add_argument("--speedup", type=float, default=d.speedup,
                   help="divide case lifecycle delays by this (GPS and alerts stay real time)")
    g.add_argument("--misbehave", action=argparse.BooleanOptionalAction, default=True,
                   help="play what the supervision catches: trucks off route or stopped on the road, a speeder, a "
                   "vehicle gone dark, collectors out of their grids or still (default: on)")
    g.add_argument("--misbehave-every", type=float, default=d.misbehave_every_s / 60, metavar="MIN",
                   help="minutes between rounds of misbehaviour after the first, 2-8 min in (default %(default)g)")
    g = parser.add_argument_group("when")
    g.add_argument("--backfill-days", type=float, default=None,
                   help=f"publish this many past days of case events first (default {DEFAULT_BACKFILL_DAYS:g} on "
                   "the first start, none when resuming; giving it forces a fresh backfill)")
    g.add_argument("--case-rate", type=float, default=1500.0,
                   help="max case events per second while catching up (default %(default)s)")
    g.add_argument("--collector-interval", type=float, default=d.collector_interval, help="seconds (default %(default)s)")
    g.add_argument("--vehicle-interval", type=float, default=d.vehicle_interval, help="seconds (default %(default)s)")
    g.add_argument("--parked-interval", type=float, default=d.parked_interval,
                   help="seconds between fixes of a parked vehicle (default %(default)s)")
    g.add_argument("--start-at", help="ISO time to start the simulated clock at (tests, demos out of hours); "
                   "the clock then runs in real time from there. Do not mix with a real-time wall.")
    g.add_argument("--duration", type=float, default=None, help="stop after this many seconds")


def config_from(args: argparse.Namespace) -> SimConfig:
    return SimConfig(
        seed=args.seed,
        collectors=max(0, args.collectors),
        vehicles=max(0, args.vehicles),
        cameras=args.cameras,
        cases_per_day=max(0.0, args.cases_per_day),
        speedup=args.speedup if args.speedup > 0 else 1.0,
        collector_interval=max(0.5, args.collector_interval),
        vehicle_interval=max(0.5, args.vehicle_interval),
        parked_interval=max(1.0, args.parked_interval),
        alerts_per_camera_day=max(0.0, args.alert_rate),
        backfill_days=DEFAULT_BACKFILL_DAYS if args.backfill_days is None else max(0.0, args.backfill_days),
        misbehave=bool(getattr(args, "misbehave", True)),
        misbehave_every_s=max(10.0, float(getattr(args, "misbehave_every", 60.0))) * 60,
    )


def run(args: argparse.Namespace, settings: Any = None) -> int:
    """Run until SIGTERM/SIGINT (or --duration); returns the exit code."""
    mqtt_url = args.mqtt_url or getattr(settings, "resolved_mqtt_url", None) or os.environ.get(
        "GRIDWALL_MQTT_URL", DEFAULT_MQTT_URL
    )
    data_dir = Path(args.data_dir or getattr(settings, "data_dir", None) or os.environ.get("GRIDWALL_DATA_DIR", "data"))
    city_dir = Path(args.city_dir or getattr(settings, "city_dir", None) or DEFAULT_CITY_DIR)
    cfg = config_from(args)
    # The city's own limits and calendar, loaded as its ingest workers load them, so the cases
    # planned late are the ones the wall counts late (the shipped ones when nothing is configured).
    rules, _policy = city_rules(settings.section("casework") if hasattr(settings, "section") else {})
    offset = 0.0
    if args.start_at:
        offset = _parse_time(args.start_at) - time.time()

    def clock() -> float:
        return time.time() + offset

    now = clock()
    state_path = data_dir / STATE_FILE
    state = load_state(state_path)
    cases_from = published_until = None
    if state is not None and args.backfill_days is None:
        if state.get("plan") != cfg.plan_digest():
            log.warning(
                "the simulator configuration changed since %s was written: starting a fresh "
                "backfill; case ids will repeat with other contents, so reset the wall's data "
                "directory for a clean picture", state_path,
            )
        else:
            cases_from = float(state["cases_from"])
            published_until = float(state["published_until"])
            # A very long pause: catch up at most the backfill window.
            cases_from = max(cases_from, now - cfg.backfill_days * DAY_S - DAY_S)
            published_until = max(published_until, cases_from)
    t0 = time.monotonic()
    city = load_city(city_dir)
    world = World(city, cfg, now, cases_from=cases_from, published_until=published_until, rules=rules)
    backlog = world.due_case_events(now)
    if world.misbehaviour is not None:
        _tell_misbehaviour(world, city_dir, now)
    log.info(
        "simulating %s: %d collectors, %d vehicles, %d cameras, ~%g cases/day; %s %d case events "
        "(ready in %.1f s) -> %s",
        city.name_zh, len(world.collectors), len(world.vehicles), len(world.cameras),
        cfg.cases_per_day, "resuming with" if cases_from is not None else "backfilling", backlog,
        time.monotonic() - t0, mqtt_url,
    )
    client = make_client(mqtt_url, args.client_id)
    stop = threading.Event()
    previous = _install_signals(stop)
    try:
        Runner(world, client, state_path, case_rate=args.case_rate, clock=clock).run(stop, args.duration)
    finally:
        _restore_signals(previous)
        try:
            client.disconnect()
        finally:
            client.loop_stop()
    log.info("simulator stopped")
    return 0


def _tell_misbehaviour(world: World, city_dir: Path, now: float) -> None:
    bad = world.misbehaviour
    assert bad is not None
    files = stale(city_dir, world)
    if files:
        log.warning(
            "%s in %s %s not made for this fleet (%d vehicles, %d collectors): the supervision will judge "
            "the simulated devices against other routes and grids; make them with `python -m "
            "feeds.simulator.supervision_files --city-dir %s --vehicles %d --collectors %d`",
            ", ".join(files), city_dir, "is" if len(files) == 1 else "are", len(world.vehicles),
            len(world.collectors), city_dir, len(world.vehicles), len(world.collectors),
        )
    bad.plan_until(now + 15 * 60)
    first = summary(bad.episodes, now)
    collectors = datetime.fromtimestamp(bad.next_collector_round, ZoneInfo(world.rules.calendar.timezone))
    log.info("misbehaviour planned (minutes after start): %s; the collectors' next round %s (on duty only: "
             "08:00-12:00, 14:00-18:00 on working days)",
             ", ".join(f"{e['kind']} {e['agent']} +{e['min']:g}" for e in first) or "none yet",
             collectors.strftime("%Y-%m-%d %H:%M"))


def _parse_time(text: str) -> float:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:  # local city time
        parsed = datetime.fromisoformat(text + "+08:00")
    return parsed.timestamp()


def _install_signals(stop: threading.Event) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, lambda *_: stop.set())
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m feeds.simulator", description=__doc__)
    add_arguments(parser)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())


def command(args: argparse.Namespace, settings: Any) -> int:
    """`gridwall simulate`, as dashboard/cli.py calls every feeds command."""
    return run(args, settings)
