"""The ingest intake (feeds/intake.py): GPS shed oldest-first when ingest falls behind, QoS 1
never shed (its producer waits), QoS 1 taken first, the lag of the oldest message measured."""

from __future__ import annotations

import threading
import time

from feeds.intake import Intake
from feeds.steps.batch import Message


def m(n: int, qos: int = 0, received: float | None = None) -> Message:
    return Message(f"t/{n}", str(n).encode(), time.time() if received is None else received, qos)


def test_a_full_gps_lane_drops_its_oldest_and_counts_it():
    intake = Intake(qos0_max=3)
    for n in range(5):
        intake.put(m(n))
    assert intake.shed == 2
    assert [x.topic for x in intake.take(10, 0.01)] == ["t/2", "t/3", "t/4"]


def test_a_full_qos1_lane_makes_the_producer_wait_and_loses_nothing():
    intake = Intake(qos1_max=2)
    intake.put(m(0, 1))
    intake.put(m(1, 1))
    done = threading.Event()

    def third() -> None:
        intake.put(m(2, 1))  # blocks: paho stops reading, the broker holds the message
        done.set()

    threading.Thread(target=third, daemon=True).start()
    assert not done.wait(0.3)
    assert [x.topic for x in intake.take(1, 0.01)] == ["t/0"]
    assert done.wait(2)
    assert [x.topic for x in intake.take(10, 0.01)] == ["t/1", "t/2"] and intake.shed == 0


def test_qos1_is_taken_before_gps_and_the_lag_is_the_oldest_wait():
    intake = Intake()
    now = time.time()
    intake.put(m(0, 0, now - 7))
    intake.put(m(1, 1, now - 2))
    assert 6.9 < intake.lag_s(now) < 7.1
    assert [x.qos for x in intake.take(10, 0.01)] == [1, 0]
    assert intake.lag_s(now) == 0.0 and intake.take(10, 0.01) == []


def test_spool_copies_wait_their_grace():
    intake = Intake()
    now = time.time()
    intake.put(m(0, 1, now - 10))
    intake.put(m(1, 1, now))
    assert [x.topic for x in intake.take_older(10, now - 5)] == ["t/0"]
    assert intake.take_older(10, now - 5) == [] and intake.depth() == 1
