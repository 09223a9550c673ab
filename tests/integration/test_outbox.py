"""The outbox (dashboard/store/outbox.py) and its sender (feeds/outbox.py) on the real stack
(both): a claim is exclusive until its lease runs out, a sender that dies after claiming loses
nothing, a message is marked sent only on its PUBACK, a failed send backs off, and a bad message
is refused whole before anything is queued."""

from __future__ import annotations

import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from helpers import eventually

from dashboard.store import db
from dashboard.store.outbox import Outbox
from feeds.mqtt import make_client
from feeds.outbox import LEASE_S, OutboxPublisher


@pytest.fixture
def outbox(settings):
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    yield Outbox(engine)
    engine.dispose()


def test_a_claim_is_exclusive_until_its_lease_runs_out(outbox: Outbox) -> None:
    now = time.time()
    ids = outbox.add([(f"gridwall/case/K{i}", b"{}") for i in range(10)], now)
    assert len(ids) == 10 and outbox.counts()["pending"] == 10
    first = outbox.claim(now, 4, lease_s=30)
    second = outbox.claim(now, 100, lease_s=30)
    assert [m.id for m in first] == ids[:4] and [m.id for m in second] == ids[4:], "oldest first, each row once"
    assert outbox.claim(now + 29, 100, lease_s=30) == [], "held while leased"
    again = outbox.claim(now + 31, 100, lease_s=30)
    assert [m.id for m in again] == ids and {m.attempts for m in again} == {2}


def test_claims_racing_from_threads_never_share_a_row(outbox: Outbox) -> None:
    now = time.time()
    outbox.add([(f"gridwall/case/R{i}", b"{}") for i in range(200)], now)
    got: list[list[int]] = []

    def take() -> None:
        mine: list[int] = []
        while batch := outbox.claim(now, 7, lease_s=60):
            mine += [m.id for m in batch]
        got.append(mine)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    taken = [i for mine in got for i in mine]
    assert len(taken) == len(set(taken)) == 200


def test_a_bad_message_is_refused_and_nothing_of_its_batch_queued(outbox: Outbox) -> None:
    now = time.time()
    for bad in [("gridwall/case/+", b"{}"), ("gridwall/#", b"{}"), ("", b"{}"), ("gridwall/case/K1", b"x" * 70_000)]:
        with pytest.raises(ValueError):
            outbox.add([("gridwall/case/OK", b"{}"), bad], now)
    assert outbox.counts()["pending"] == 0


def test_a_failed_send_backs_off_and_keeps_its_reason(outbox: Outbox) -> None:
    now = time.time()
    [id_] = outbox.add([("gridwall/case/K1", b"{}")], now)
    [m] = outbox.claim(now, 10, lease_s=30)
    outbox.failed(m.id, "not published: no connection", now)
    assert outbox.claim(now + 1, 10, lease_s=30) == [], "backing off (2 s after a first attempt)"
    assert outbox.counts() == {"pending": 1, "sent": 0, "retrying": 1}
    assert [m.id for m in outbox.claim(now + 2.5, 10, lease_s=30)] == [id_]


class Listener:
    def __init__(self, url: str, topic: str) -> None:
        self.got: list[tuple[str, bytes]] = []
        self.ready = threading.Event()
        self.client = make_client(url, f"obx-listen-{uuid.uuid4().hex[:8]}", subscriptions=[(topic, 1)],
                                  on_message=lambda _c, _u, m: self.got.append((m.topic, m.payload)),
                                  on_subscribed=self.ready.set)
        eventually(self.ready.is_set, 10, "the listener subscribed")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_a_sender_that_dies_after_claiming_loses_nothing(settings, outbox: Outbox) -> None:
    """One worker claims and dies before publishing; the next sends once the lease has run out,
    marks the messages sent on their PUBACKs, and a receiver has every one."""
    nonce = uuid.uuid4().hex[:8]
    listener = Listener(settings.resolved_mqtt_url, "gridwall/case/+")
    sender = make_client(settings.resolved_mqtt_url, f"obx-send-{nonce}")
    try:
        eventually(sender.is_connected, 10, "the sender connected")
        now = time.time()
        messages = [(f"gridwall/case/OBX{nonce}-{i}", f'{{"n":{i}}}'.encode()) for i in range(5)]
        outbox.add(messages, now)
        assert len(outbox.claim(now, 100, LEASE_S)) == 5  # the worker that dies
        publisher = OutboxPublisher(outbox)
        publisher.attach(sender)
        publisher.tick(now, sender, connected=True)
        assert publisher.inflight == {} and outbox.counts()["pending"] == 5, "leased to the dead one"
        publisher.tick(now + 1, sender, connected=False)
        assert publisher.inflight == {}, "nothing is claimed while the broker is away"
        later = now + LEASE_S + 1
        publisher.tick(later, sender, connected=True)
        assert len(publisher.inflight) == 5
        eventually(lambda: sorted(g for g in listener.got if nonce in g[0]) == sorted(messages), 10, "every message at the receiver")
        step = iter(range(1, 1000))
        eventually(lambda: publisher.tick(later + next(step), sender, True) or outbox.counts()["pending"] == 0, 10,
                   "marked sent on the PUBACKs")
        assert outbox.counts()["sent"] == 5 and publisher.sent == 5
    finally:
        sender.loop_stop()
        sender.disconnect()
        listener.close()


def test_a_publish_paho_cannot_queue_is_retried_later(outbox: Outbox) -> None:
    """A client never connected: paho refuses the publish at once (its queue full at 0), and the
    row goes back with a backoff, nothing lost."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"obx-none-{uuid.uuid4().hex[:6]}")
    client.max_queued_messages_set(1)
    client.publish("gridwall/case/FILL", b"{}", qos=1)  # takes the one place
    now = time.time()
    outbox.add([("gridwall/case/K9", b"{}")], now)
    publisher = OutboxPublisher(outbox)
    publisher.tick(now, client, connected=True)
    assert publisher.inflight == {}
    assert outbox.counts() == {"pending": 1, "sent": 0, "retrying": 1}
