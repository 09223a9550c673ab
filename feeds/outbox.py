"""The ingest worker's sender of the outbox (dashboard/store/outbox.py): what the desk's actions
queued, published over the worker's own MQTT connection at QoS 1.

Never blocks the worker thread: a claimed message is handed to paho (which sends it from its
network thread) and its MQTTMessageInfo kept; a later tick marks it sent once the broker's PUBACK
came. A PUBACK that refuses it (an MQTT 5 reason code >= 0x80, e.g. the ACL's 135 "not
authorized") or a publish paho could not queue puts it back with a backoff, its reason kept in
``last_error``. One that gets no answer within the lease is simply left: the lease runs out and
the next claim sends it again. A message may so be sent twice, never lost; its receivers dedupe
by its id (docs/mqtt.md "Outgoing").
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as mqtt

from dashboard.store.outbox import SENT_KEEP_S, Outbox

log = logging.getLogger("gridwall.outbox")

INTERVAL_S = 0.2  # how often the table is looked at: the wall shows an action within a second
BATCH = 200
LEASE_S = 30.0  # no PUBACK in this long: sent again by whoever claims next
INFLIGHT_MAX = 1000  # paho's max_inflight (feeds/mqtt.py): no more claimed than can be in flight
PRUNE_S = 3600.0


class OutboxPublisher:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.inflight: dict[int, tuple[int, mqtt.MQTTMessageInfo, float]] = {}  # mid -> (row, info, sent)
        self._refused: dict[int, str] = {}  # mid -> the PUBACK's reason, from paho's thread
        self._lock = threading.Lock()
        self._next = 0.0
        self._next_prune = 0.0
        self.sent = 0

    def attach(self, client: mqtt.Client) -> None:
        client.on_publish = self._on_publish

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        # paho calls this before it sets the message info published, so tick sees the refusal.
        if getattr(reason, "is_failure", False):
            with self._lock:
                self._refused[mid] = str(reason)

    def tick(self, now: float, client: mqtt.Client | None, connected: bool) -> None:
        if now < self._next:
            return
        self._next = now + INTERVAL_S
        try:
            self._settle(now)
            if client is not None and connected and len(self.inflight) < INFLIGHT_MAX:
                self._send(now, client)
            if now >= self._next_prune:
                self._next_prune = now + PRUNE_S
                self.outbox.prune(now - SENT_KEEP_S)
        except Exception as exc:  # the database away: the rows wait in SQL, nothing is lost
            log.warning("the outbox could not be sent now: %r", exc)

    def _settle(self, now: float) -> None:
        done: list[int] = []
        for mid, (row, info, at) in list(self.inflight.items()):
            if info.is_published():
                del self.inflight[mid]
                with self._lock:
                    reason = self._refused.pop(mid, None)
                if reason is None:
                    done.append(row)
                else:
                    log.warning("the broker refused outbox message %d: %s", row, reason)
                    self.outbox.failed(row, f"refused by the broker: {reason}", now)
            elif now - at > LEASE_S:
                del self.inflight[mid]  # its lease has run out: claimed and sent again
        self.outbox.mark_sent(done, now)
        self.sent += len(done)

    def _send(self, now: float, client: mqtt.Client) -> None:
        for m in self.outbox.claim(now, min(BATCH, INFLIGHT_MAX - len(self.inflight)), LEASE_S):
            info = client.publish(m.topic, m.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self.outbox.failed(m.id, f"not published: {mqtt.error_string(info.rc)}", now)
            else:
                self.inflight[info.mid] = (m.id, info, now)
