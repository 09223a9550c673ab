"""The runner against a real embedded broker (amqtt in a thread, anonymous, a free port): GPS,
case and video messages reach a paho subscriber; stopping is prompt; a dead broker is survived."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sim_support import MONDAY_9, ROOT, city

from dashboard.config import embedded_mqtt_url
from feeds.broker import broker_config
from feeds.mqtt import make_client
from feeds.simulator.runner import Runner, load_state
from feeds.simulator.world import SimConfig, World


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def broker_url() -> Iterator[str]:
    from amqtt.broker import Broker

    port = _free_port()
    ready = threading.Event()
    box: dict[str, Any] = {}

    def serve() -> None:
        async def main() -> None:
            box["loop"], box["stop"] = asyncio.get_running_loop(), asyncio.Event()
            broker = Broker(broker_config("127.0.0.1", port))  # the demo's own broker settings
            await broker.start()
            ready.set()
            await box["stop"].wait()
            await broker.shutdown()

        try:
            asyncio.run(main())
        except Exception as err:  # surfaced by the wait below
            box["error"] = err
            ready.set()

    thread = threading.Thread(target=serve, name="amqtt-test-broker", daemon=True)
    thread.start()
    assert ready.wait(20) and "error" not in box, box.get("error")
    try:
        yield embedded_mqtt_url(port)
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(10)


class Inbox:
    def __init__(self, url: str) -> None:
        self.by_kind: dict[str, list[tuple[str, dict]]] = defaultdict(list)
        self.lock = threading.Lock()
        self.client = make_client(url, f"test-inbox-{os.getpid()}-{id(self)}",
                                  subscriptions=[("gridwall/#", 1)], on_message=self._on)

    def _on(self, _c: Any, _u: Any, msg: Any) -> None:
        with self.lock:
            self.by_kind[msg.topic.split("/")[1]].append((msg.topic, orjson.loads(msg.payload)))

    def wait(self, check: Any, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if check(self.by_kind):
                    return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def inbox(broker_url: str) -> Iterator[Inbox]:
    box = Inbox(broker_url)
    assert box.wait(lambda _: box.client.is_connected(), 10)
    time.sleep(0.3)  # the subscription goes out right after CONNACK
    try:
        yield box
    finally:
        box.close()


def _daytime_clock() -> Any:
    offset = MONDAY_9 + 3600 - time.time()  # Monday 10:00 in the city: everyone is out
    return lambda: time.time() + offset


def test_runner_publishes_gps_cases_and_video(broker_url: str, inbox: Inbox, tmp_path: Path) -> None:
    clock = _daytime_clock()
    cfg = SimConfig(collectors=20, vehicles=12, backfill_days=0.01, alerts_per_camera_day=6000)
    world = World(city(), cfg, clock())
    client = make_client(broker_url, f"sim-under-test-{os.getpid()}")
    try:
        stats = Runner(world, client, tmp_path / "state.json", clock=clock).run(threading.Event(), duration=3.0)
    finally:
        client.disconnect()
        client.loop_stop()
    assert stats.gps > 0 and stats.case > 0 and stats.video > 0
    assert inbox.wait(lambda k: k["gps"] and k["case"] and k["video"], 10), dict(inbox.by_kind)
    topic, fix = inbox.by_kind["gps"][0]
    assert topic == f"gridwall/gps/{fix['kind']}/{fix['id']}" and {"lat", "lon", "ts", "speed"} <= set(fix)
    topic, event = inbox.by_kind["case"][0]
    assert topic == f"gridwall/case/{event['case_id']}" and event["action"] == "report"
    topic, alert = inbox.by_kind["video"][0]
    assert topic == f"gridwall/video/{alert['camera_id']}" and alert["state"] == "new"
    state = load_state(tmp_path / "state.json")
    assert state is not None and state["published_until"] > state["cases_from"]


def test_runner_stops_promptly_in_the_middle_of_a_backfill(broker_url: str, tmp_path: Path) -> None:
    clock = _daytime_clock()
    world = World(city(), SimConfig(collectors=20, vehicles=10, backfill_days=3), clock())
    client = make_client(broker_url, f"sim-stop-{os.getpid()}")
    stop = threading.Event()
    runner = Runner(world, client, tmp_path / "state.json", clock=clock)
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    time.sleep(1.5)
    began = time.monotonic()
    stop.set()
    thread.join(5)
    client.disconnect()
    client.loop_stop()
    assert not thread.is_alive() and time.monotonic() - began < 2.0
    assert runner.stats.case > 0 and world.due_case_events(clock()) > 0  # stopped mid-backfill


def test_a_dead_broker_is_survived_and_nothing_is_lost(tmp_path: Path) -> None:
    clock = _daytime_clock()
    world = World(city(), SimConfig(collectors=10, vehicles=5, backfill_days=0.5), clock())
    due = world.due_case_events(world.start)
    client = make_client(f"mqtt://127.0.0.1:{_free_port()}?protocol=3.1.1", "sim-no-broker")
    try:
        stats = Runner(world, client, None, clock=clock).run(threading.Event(), duration=1.5, connect_wait_s=0.2)
    finally:
        client.loop_stop()
    assert stats.case == 0 and stats.dropped_gps > 0
    assert world.due_case_events(world.start) == due  # the case events wait for the broker


def test_sigterm_stops_the_command_within_two_seconds(broker_url: str, inbox: Inbox, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feeds.simulator", "--mqtt-url", broker_url, "--data-dir", str(tmp_path),
         "--backfill-days", "1", "--collectors", "20", "--vehicles", "10", "--client-id", "sim-sigterm",
         "--start-at", "2026-03-09T10:00"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        assert inbox.wait(lambda k: k["gps"] and k["case"], 30), "no messages from the simulator"
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=5)
        assert time.monotonic() - began < 2.0 and code == 0
        assert load_state(tmp_path / "simulator-state.json") is not None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
