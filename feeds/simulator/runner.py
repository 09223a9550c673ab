"""The thin, impure part: real time, MQTT publishing, pacing, and a small state file.

Every tick (0.1 s) the runner asks the world for what is due and publishes it: GPS at QoS 0
(only while connected: a stale position is worth nothing), video alerts and case events at
QoS 1. Case events go through a token bucket (``case_rate`` msg/s) so a 30-day backfill does not
swamp the embedded amqtt broker, and they stay in the world's queue while the broker is down,
so nothing is lost. The state file records up to when case events were published; a restart
continues from there instead of backfilling again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt

from feeds.simulator.world import Message, World

log = logging.getLogger("gridwall.simulator")
STATE_VERSION = 1
STATE_FILE = "simulator-state.json"


@dataclass(slots=True)
class Stats:
    gps: int = 0
    video: int = 0
    case: int = 0
    dropped_gps: int = 0  # QoS 0 fixes not sent while the broker was unreachable
    started: float = field(default_factory=time.monotonic)


def load_state(path: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as err:
        log.warning("ignoring unreadable simulator state %s: %s", path, err)
        return None
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return None
    return data


def save_state(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps({"version": STATE_VERSION, **data}, option=orjson.OPT_INDENT_2))
    os.replace(tmp, path)


class Runner:
    """Publishes a World over one paho client until ``stop`` is set (or ``duration`` ends)."""

    def __init__(
        self,
        world: World,
        client: mqtt.Client,
        state_path: Path | None,
        *,
        case_rate: float = 1500.0,
        clock: Callable[[], float] = time.time,
        tick_s: float = 0.1,
        state_every_s: float = 10.0,
        log_every_s: float = 10.0,
        pending_max: int = 10_000,
    ) -> None:
        self.world, self.client, self.state_path = world, client, state_path
        self.case_rate = max(1.0, case_rate)
        self.clock, self.tick_s = clock, tick_s
        self.state_every_s, self.log_every_s = state_every_s, log_every_s
        self.stats = Stats()
        # QoS 1 alerts wait here while disconnected (bounded: the oldest go first).
        self._pending: deque[Message] = deque(maxlen=pending_max)
        self._tokens = 0.0

    def run(self, stop: threading.Event, duration: float | None = None, connect_wait_s: float = 3.0) -> Stats:
        began = time.monotonic()
        # Give the first CONNACK a moment, so the opening fixes of every agent are not dropped;
        # with the broker down we go on anyway (case events wait, fixes are skipped).
        while not self.client.is_connected() and time.monotonic() - began < connect_wait_s:
            if stop.wait(0.05):
                break
        last_tick = began
        next_state = began + self.state_every_s
        next_log = began + self.log_every_s
        try:
            while not stop.is_set():
                mono = time.monotonic()
                if duration is not None and mono - began >= duration:
                    break
                self._tokens = min(self.case_rate * 0.5, self._tokens + self.case_rate * (mono - last_tick))
                last_tick = mono
                self.tick(self.clock())
                if mono >= next_state:
                    self.save()
                    next_state = mono + self.state_every_s
                if mono >= next_log:
                    self._log(mono - (next_log - self.log_every_s))
                    next_log = mono + self.log_every_s
                stop.wait(max(0.0, self.tick_s - (time.monotonic() - mono)))
        finally:
            self.save()
        return self.stats

    def tick(self, now: float) -> None:
        connected = self.client.is_connected()
        for msg in self.world.advance(now):
            if msg.qos == 0:
                if connected:
                    self._publish(msg)
                    self.stats.gps += 1
                else:
                    self.stats.dropped_gps += 1
            else:
                self._pending.append(msg)
        if not connected:
            return
        while self._pending:
            if not self._publish(self._pending[0]):
                return
            self._pending.popleft()
            self.stats.video += 1
        budget = int(self._tokens)
        if budget <= 0:
            return
        batch = self.world.pop_case_events(now, budget)
        for k, msg in enumerate(batch):
            if not self._publish(msg):
                self.world.push_back(batch[k:])  # paho's queue is full: try again next tick
                break
            self.stats.case += 1
            self._tokens -= 1

    def save(self) -> None:
        if self.state_path is None:
            return
        try:
            save_state(
                self.state_path,
                {
                    "plan": self.world.cfg.plan_digest(),
                    "seed": self.world.cfg.seed,
                    "cases_from": self.world.cases_from,
                    "published_until": self.world.published_until,
                    "saved_at": self.clock(),
                },
            )
        except OSError as err:  # a full disk must not stop the wall's data
            log.warning("could not save simulator state to %s: %s", self.state_path, err)

    def _publish(self, msg: Message) -> bool:
        """False only when paho refused to take the message (its bounded queue is full). A QoS 1
        message sent just as the connection dropped (NO_CONN) stays queued in paho and goes
        out after the reconnect; a QoS 0 one is simply lost, as a GPS fix may be."""
        info = self.client.publish(msg.topic, orjson.dumps(msg.payload), qos=msg.qos)
        return info.rc != mqtt.MQTT_ERR_QUEUE_SIZE

    def _log(self, window_s: float) -> None:
        s = self.stats
        backlog = self.world.due_case_events(self.clock())
        log.info(
            "published gps=%d video=%d case=%d (case backlog %d, dropped gps %d, connected=%s)",
            s.gps, s.video, s.case, backlog, s.dropped_gps, self.client.is_connected(),
        )
