"""The ingest worker's intake: what paho's network thread hands over, waiting for the worker
thread to take it in batches.

Two lanes, because the two kinds of message may be treated differently when ingest falls behind:
- QoS 0 (GPS) may be shed: the lane is bounded and drops its OLDEST message when full (a newer
  fix of the same device is worth more than an old one), counted as ``shed``;
- QoS 1 (case events, alerts) never is: when its lane is full, ``put`` blocks paho's thread, so
  paho stops reading the socket and the broker holds the messages for us (back-pressure) rather
  than our memory, and nothing is acknowledged until it is stored.
``lag_s`` (the age of the oldest message waiting) is what /healthz shows as how far behind ingest is.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from feeds.steps.batch import Message

QOS0_MAX = 50_000
QOS1_MAX = 20_000


class Intake:
    def __init__(self, qos0_max: int = QOS0_MAX, qos1_max: int = QOS1_MAX) -> None:
        self.qos0_max = qos0_max
        self.qos1_max = qos1_max
        self._q0: deque[Message] = deque()
        self._q1: deque[Message] = deque()
        self._cond = threading.Condition()
        self.shed = 0  # QoS 0 messages dropped, oldest first, because the lane was full
        self.closed = False

    def put(self, msg: Message) -> None:
        with self._cond:
            if msg.qos == 0:
                if len(self._q0) >= self.qos0_max:
                    self._q0.popleft()
                    self.shed += 1
                self._q0.append(msg)
            else:
                while len(self._q1) >= self.qos1_max and not self.closed:
                    self._cond.wait(0.1)
                self._q1.append(msg)
            self._cond.notify_all()

    def take(self, max_n: int, wait_s: float) -> list[Message]:
        """Up to ``max_n`` messages: waits up to ``wait_s`` for the first, then up to ``wait_s``
        more for the batch to fill (a batch is what makes thousands a second possible)."""
        with self._cond:
            if not self._wait_for(1, wait_s):
                return []
            self._wait_for(max_n, wait_s)
            out: list[Message] = []
            for lane in (self._q1, self._q0):  # QoS 1 first: it must never starve behind GPS
                while lane and len(out) < max_n:
                    out.append(lane.popleft())
            self._cond.notify_all()  # room in the QoS 1 lane: wake a blocked put
            return out

    def take_older(self, max_n: int, received_by: float) -> list[Message]:
        """Up to ``max_n`` messages received by ``received_by`` (epoch s), without waiting: the
        spool's copies wait a grace period, so that the live copy of the same message is stored
        first and the spool's is recognised as handled."""
        with self._cond:
            out: list[Message] = []
            for lane in (self._q1, self._q0):
                while lane and len(out) < max_n and lane[0].received <= received_by:
                    out.append(lane.popleft())
            if out:
                self._cond.notify_all()
            return out

    def _wait_for(self, n: int, wait_s: float) -> bool:
        deadline = time.monotonic() + wait_s
        while len(self._q0) + len(self._q1) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._cond.wait(left)
        return bool(self._q0 or self._q1)

    def depth(self) -> int:
        return len(self._q0) + len(self._q1)

    def empty(self) -> bool:
        return self.depth() == 0

    def lag_s(self, now: float) -> float:
        """How long the oldest waiting message has waited (0 when none waits)."""
        with self._cond:
            oldest = [q[0].received for q in (self._q0, self._q1) if q]
        return max(now - min(oldest), 0.0) if oldest else 0.0

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
