"""The broker's spool session: a subscription the broker keeps for gridwall whatever restarts.

Why: the ingest workers share the load through MQTT 5 shared subscriptions ($share/<group>/...).
mosquitto 2.0 does not restore shared subscriptions from its persistence file, so after a broker
restart nobody is subscribed until a worker reconnects, and every QoS 1 message published in
that window is dropped (the publisher's PUBACK says 16, "no matching subscribers"). A worker
that never comes back also leaves its share of the queue in a session nobody drains.

What: one more persistent session, ``gridwall-spool-<group>``, with PLAIN subscriptions to the
QoS 1 topics (case events, alerts). A plain subscription of a persistent session is restored
from the broker's persistence, so from the first start of a deployment on there is always a
subscriber, and the broker queues a copy of every QoS 1 message for it while it is offline. Every
SPOOL_EVERY_S one worker (a lock in Redis) connects as that session, takes the queue, and
disconnects once it is idle and everything it took is stored. The copies go through the
pipeline as any message; those the live subscriptions already brought are repeats and are
dropped (not counted as duplicates); the others are what a fault would have lost, counted as
``recovered``. docs/durability.md has the broker settings this needs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

from dashboard.store.hot import REDIS_DOWN, HotStore
from feeds.mqtt import make_client
from feeds.steps.batch import Message
from feeds.topics import TopicRouter

log = logging.getLogger("gridwall.spool")

SPOOL_EVERY_S = 20.0
# A spool copy waits this long after it came before it is handled, so that the live copy of the
# same message (on its way through a worker at the same moment) is stored first and the spool's
# is skipped as handled rather than raced.
SPOOL_GRACE_S = 5.0
# How long the live path remembers a QoS 1 message it took: longer than a drain can take.
HANDLED_TTL_S = int(3 * SPOOL_EVERY_S + SPOOL_GRACE_S + 120)
IDLE_S = 1.0  # a drain ends once nothing came for this long and all it took is stored
DRAIN_MAX_S = 120.0  # ... or after this long (the next drain goes on)
SESSION_EXPIRY_S = 30 * 24 * 3600  # kept across a long outage of every worker


def spool_topics(router: TopicRouter) -> list[tuple[str, int]]:
    """The plain subscriptions of the spool: every route taken at QoS 1 or 2."""
    return [(pattern, qos) for pattern, qos in router.subscriptions(None) if qos > 0]


class Spool:
    def __init__(self, url: str, group: str, router: TopicRouter, hot: HotStore, owner: str,
                 deliver: Callable[[Message], None], every_s: float = SPOOL_EVERY_S) -> None:
        self.url = url
        self.client_id = f"gridwall-spool-{group}"
        self.topics = spool_topics(router)
        self.hot = hot
        self.owner = owner
        self.deliver = deliver  # hands a message to the worker (blocks when the worker is full)
        self.every_s = every_s
        self.client: mqtt.Client | None = None
        self._pending = 0  # taken, not yet stored and acknowledged
        self._mids: set[int] = set()  # this drain's: an ack for an older drain's message is not sent
        self._last = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.drains = 0
        self.taken = 0
        self.thread = threading.Thread(target=self._loop, name="gridwall-spool", daemon=True)

    def start(self) -> None:
        if self.topics:
            self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    # --- the drain thread ----------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.hot.take_lock("spool", self.owner, self.every_s + DRAIN_MAX_S):
                    try:
                        self.drain()
                    finally:
                        self.hot.release_lock("spool", self.owner)
            except REDIS_DOWN:
                log.warning("spool: Redis is down; next drain in %.0f s", self.every_s)
            except Exception:
                log.exception("spool drain failed")
            self._stop.wait(self.every_s)

    def drain(self) -> None:
        subscribed = threading.Event()
        with self._lock:
            self._last = time.monotonic()
            self._pending = 0
            self._mids = set()
        client = make_client(self.url, self.client_id, persistent=True, manual_ack=True,
                             subscriptions=self.topics, on_message=self._on_message,
                             on_subscribed=subscribed.set, session_expiry_s=SESSION_EXPIRY_S)
        self.client = client
        try:
            if not subscribed.wait(10.0):
                log.warning("spool: the broker did not take the spool subscriptions in 10 s")
                return
            start = time.monotonic()
            while not self._stop.is_set() and time.monotonic() - start < DRAIN_MAX_S:
                with self._lock:
                    idle = self._pending == 0 and time.monotonic() - self._last >= IDLE_S
                if idle:
                    break
                time.sleep(0.1)
            self.drains += 1
        finally:
            self.client = None
            client.disconnect()
            client.loop_stop()

    def _on_message(self, _c: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._pending += 1
            self._mids.add(m.mid)
            self._last = time.monotonic()
        self.taken += 1
        self.deliver(Message(m.topic, m.payload, time.time(), m.qos, m.mid))

    # --- the worker thread -----------------------------------------------------------------------
    def ack(self, msgs: list[Message]) -> None:
        """These spool messages are stored (or dead-lettered): the broker may forget them. A drain
        that ended before this comes is no loss: the broker sends them again at the next one."""
        with self._lock:
            client = self.client
            mine = [m for m in msgs if m.mid in self._mids]
            self._mids.difference_update(m.mid for m in mine)
            self._pending = max(self._pending - len(mine), 0)
            self._last = time.monotonic()
        for m in mine:
            if client is not None and m.qos > 0:
                client.ack(m.mid, m.qos)
