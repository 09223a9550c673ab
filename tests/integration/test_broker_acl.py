"""Who may publish and who may read, on mosquitto as deployed (docs/deploy/mosquitto.conf with
its password file and docs/deploy/mosquitto.acl; docs/production.md §1): a device publishes its
own topics only and reads only the tasks sent to it; each service publishes its own topics only;
ingest publishes only the desk's outgoing topics (case events, tasks) and is the only account
that reads the feeds, through its shared subscriptions and its spool session (the case system
reads the case events back); a wrong password, an unknown account and no account at all are
refused.

A refusal is proved by what ingest's own subscriptions get: the refused message never arrives,
while a message sent after it on the same connection, which the ACL allows (the marker), does,
so "never" is not "not yet"."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import servers
from helpers import eventually
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from feeds.mqtt import parse_mqtt_url
from feeds.spool import spool_topics
from feeds.topics import DEFAULT_TOPICS, TopicRouter

pytestmark = pytest.mark.production

NOT_AUTHORIZED = 135  # MQTT 5 reason code: a refused PUBLISH (PUBACK), CONNECT or SUBSCRIBE
BAD_LOGIN = (134, 135)  # CONNACK: bad user name or password / not authorized (mosquitto 2 says 135)
DEVICES = ("C0012", "C0013", "V0031", "zhang")  # device accounts: ids, and an OwnTracks user
# One topic of every routed pattern, none of them C0012's own: what device C0012 may not publish.
OTHERS_TOPICS = (
    "gridwall/gps/collector/C0013", "gridwall/gps/vehicle/V0031", "gridwall/video/CAM01", "gridwall/case/K1",
    "owntracks/zhang/phone", "traccar/positions", "traccar/events", "frigate/events", "frigate/reviews",
    "open311/requests", "osmand/C0012",
)
OWN_FIX = "gridwall/gps/collector/C0012"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Mosquitto]:
    missing = [b for b in ("mosquitto", "mosquitto_passwd") if shutil.which(b) is None]
    if missing:
        pytest.skip(f"the broker ACL tests need {', '.join(missing)} (make test installs them as root)")
    b = servers.Mosquitto(tmp_path_factory.mktemp("acl") / "broker", devices=DEVICES)
    b.start()
    yield b
    b.stop()


class Probe:
    """An MQTT 5 client that keeps every reason code the broker answers with: CONNACK's, each
    SUBACK's and each PUBACK's, and every message it is sent."""

    def __init__(self, url: str, client_id: str | None = None, *, persistent: bool = False) -> None:
        broker = parse_mqtt_url(url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"acl-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        self.connack: int | None = None
        self.subacks: dict[int, list[int]] = {}
        self.pubacks: dict[int, int] = {}
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda _c, _u, mid, codes, _p: self.subacks.__setitem__(mid, [c.value for c in codes])
        self.client.on_publish = lambda _c, _u, mid, code, _p: self.pubacks.__setitem__(mid, code.value)
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600 if persistent else 0
        self.client.connect_async(broker.host, broker.port, keepalive=10, clean_start=not persistent, properties=props)
        self.client.loop_start()
        eventually(lambda: self.connack is not None, 10, f"CONNACK for {broker.username}")

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if self.connack is None:
            self.connack = reason.value

    def _on_message(self, _c: Any, _u: Any, m: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((m.topic, m.payload))

    def subscribe(self, subs: list[tuple[str, int]]) -> list[int]:
        _rc, mid = self.client.subscribe(subs)
        return eventually(lambda: self.subacks.get(mid), 10, "SUBACK")

    def publish(self, topic: str, payload: bytes, qos: int = 1) -> int | None:
        """The PUBACK's reason code (QoS 1), or None (QoS 0: the broker answers nothing)."""
        info = self.client.publish(topic, payload, qos=qos)
        if qos == 0:
            return None
        eventually(lambda: info.mid in self.pubacks, 10, f"PUBACK for {topic}")
        return self.pubacks[info.mid]

    def got(self, nonce: bytes) -> list[tuple[str, bytes]]:
        with self._lock:
            return [(t, p) for t, p in self.messages if nonce in p]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def as_ingest(broker: servers.Mosquitto) -> Probe:
    """Ingest's own subscriptions, shared under a group of this test's (TopicRouter, as
    feeds/ingest.py subscribes)."""
    probe = Probe(broker.url)
    assert probe.connack == 0, f"ingest's account refused: {probe.connack}"
    codes = probe.subscribe(TopicRouter().subscriptions(f"acl{uuid.uuid4().hex[:6]}"))
    assert all(code < 0x80 for code in codes), f"ingest's shared subscriptions refused: {codes}"
    return probe


def marker(probe: Probe, ingest: Probe, topic: str, nonce: bytes) -> None:
    """``probe`` publishes a message the ACL lets it publish; wait until ingest has it."""
    body = b"marker " + nonce
    assert probe.publish(topic, body) == 0
    eventually(lambda: (topic, body) in ingest.got(nonce), 10, "the marker at ingest")


def test_a_device_publishes_its_own_topics_and_ingest_takes_them(broker: servers.Mosquitto) -> None:
    ingest = as_ingest(broker)
    nonce = uuid.uuid4().hex.encode()
    own = [("C0012", OWN_FIX), ("V0031", "gridwall/gps/vehicle/V0031"), ("zhang", "owntracks/zhang/phone")]
    try:
        for user, topic in own:
            device = Probe(broker.url_as(user))
            try:
                assert device.connack == 0, f"{user} refused: {device.connack}"
                # 0: accepted and delivered; 16 would say nobody subscribed (ingest's shared
                # subscription not taken), >= 128 refused.
                assert device.publish(topic, b"qos1 " + nonce) == 0, topic
                device.publish(topic, b"qos0 " + nonce, qos=0)
            finally:
                device.close()
        want = {(topic, kind + b" " + nonce) for _user, topic in own for kind in (b"qos1", b"qos0")}
        eventually(lambda: set(ingest.got(nonce)) == want, 10, "every own-topic fix at ingest")
    finally:
        ingest.close()


def test_a_device_cannot_publish_another_devices_topics(broker: servers.Mosquitto) -> None:
    # Every routed pattern is tried: a new wire format's topic is added here.
    assert {TopicRouter().route_for(t).pattern for t in OTHERS_TOPICS} == set(DEFAULT_TOPICS)
    ingest = as_ingest(broker)
    device = Probe(broker.url_as("C0012"))
    nonce = uuid.uuid4().hex.encode()
    try:
        codes = {topic: device.publish(topic, b"forged " + nonce) for topic in OTHERS_TOPICS}
        assert codes == dict.fromkeys(OTHERS_TOPICS, NOT_AUTHORIZED)
        for topic in OTHERS_TOPICS:  # QoS 0: no answer; the broker drops it
            device.publish(topic, b"forged0 " + nonce, qos=0)
        marker(device, ingest, OWN_FIX, nonce)
        assert ingest.got(nonce) == [(OWN_FIX, b"marker " + nonce)], "a forged message reached ingest"
    finally:
        device.close()
        ingest.close()


def test_a_device_reads_nothing(broker: servers.Mosquitto) -> None:
    """mosquitto 2.0 answers a SUBSCRIBE with the QoS asked for and checks read access when it
    delivers (a later version may refuse the SUBSCRIBE instead): either way nothing arrives."""
    ingest = as_ingest(broker)
    device = Probe(broker.url_as("C0012"))
    gateway = Probe(broker.publish_url)
    nonce = uuid.uuid4().hex.encode()
    try:
        asked = [("#", 1), ("gridwall/#", 1), (OWN_FIX, 1), ("gridwall/gps/+/+", 0), ("$share/x/gridwall/gps/+/+", 1),
                 ("$share/x/gridwall/case/+", 1), ("$SYS/#", 0)]
        subacks = device.subscribe(asked)
        for topic in OTHERS_TOPICS:
            assert gateway.publish(topic, b"for ingest " + nonce) == 0, topic
        marker(device, ingest, OWN_FIX, nonce)  # its own fix too
        assert len(ingest.got(nonce)) == len(OTHERS_TOPICS) + 1
        time.sleep(0.5)  # the device's copies, had it any, would be on their way with ingest's
        assert device.got(nonce) == [], f"the device read feeds (SUBACK codes {subacks})"
        assert device.messages == [], f"the device read something (SUBACK codes {subacks})"
    finally:
        gateway.close()
        device.close()
        ingest.close()


def _login(broker: servers.Mosquitto, userinfo: str) -> int | None:
    probe = Probe(f"mqtt://{userinfo}127.0.0.1:{broker.port}?protocol=5")
    try:
        return probe.connack
    finally:
        probe.close()


@pytest.mark.parametrize("userinfo", ["C0012:wrong@", f"C0013:{servers.password_of('C0012')}@",
                                      f"nobody:{servers.password_of('C0012')}@", "ingest@", ""],
                         ids=["wrong_password", "another_devices_password", "unknown_account", "no_password",
                              "anonymous"])
def test_a_login_without_the_accounts_password_is_refused(broker: servers.Mosquitto, userinfo: str) -> None:
    assert _login(broker, f"C0012:{servers.password_of('C0012')}@") == 0  # the right one is taken
    assert _login(broker, userinfo) in BAD_LOGIN


# What each service account may publish, and some of what it may not (docs/deploy/mosquitto.acl).
SERVICES = {
    "video-platform": (["gridwall/video/CAM01"], ["gridwall/case/K1", OWN_FIX, "frigate/events"]),
    "case-system": (["gridwall/case/K1"], ["gridwall/video/CAM01", "open311/requests", OWN_FIX]),
    "traccar": (["traccar/positions", "traccar/events"], ["gridwall/gps/vehicle/V0031", "frigate/events"]),
    "frigate": (["frigate/events", "frigate/reviews"], ["gridwall/video/CAM01", "traccar/events"]),
    "open311": (["open311/requests"], ["gridwall/case/K1"]),
    "osmand-bridge": (["osmand/C0012"], [OWN_FIX, "owntracks/zhang/phone"]),
    # It reads; it publishes only the desk's outbox (the task topic is tested with the handheld).
    "ingest": (["gridwall/case/K1"], [t for t in OTHERS_TOPICS if t != "gridwall/case/K1"]),
    "monitor": ([], list(OTHERS_TOPICS)),
}


@pytest.mark.parametrize("account", SERVICES)
def test_a_service_publishes_its_own_topics_only(broker: servers.Mosquitto, account: str) -> None:
    allowed, refused = SERVICES[account]
    ingest = as_ingest(broker)
    service = Probe(broker.url_as(account))
    nonce = uuid.uuid4().hex.encode()
    try:
        assert service.connack == 0
        codes = {topic: service.publish(topic, b"x " + nonce) for topic in allowed + refused}
        assert codes == {**dict.fromkeys(allowed, 0), **dict.fromkeys(refused, NOT_AUTHORIZED)}
        device = Probe(broker.url_as("C0012"))
        try:
            marker(device, ingest, OWN_FIX, nonce)  # after the service's, on the broker's one thread
        finally:
            device.close()
        assert sorted(t for t, p in ingest.got(nonce) if p.startswith(b"x ")) == sorted(allowed)
    finally:
        service.close()
        ingest.close()


def test_the_spool_session_keeps_what_comes_while_it_is_away(broker: servers.Mosquitto) -> None:
    """The spool's persistent session (feeds/spool.py) logs in as ingest: the broker queues the
    QoS 1 messages sent while it is offline and hands them over when it is back."""
    client_id = f"gridwall-spool-acl{uuid.uuid4().hex[:6]}"
    spool = Probe(broker.url, client_id, persistent=True)
    assert all(code < 0x80 for code in spool.subscribe(spool_topics(TopicRouter())))
    spool.close()
    nonce = uuid.uuid4().hex.encode()
    cases = Probe(broker.url_as("case-system"))
    try:
        assert cases.publish("gridwall/case/K7", b"while away " + nonce) == 0  # 16 would be: no subscriber
    finally:
        cases.close()
    spool = Probe(broker.url, client_id, persistent=True)
    try:
        eventually(lambda: spool.got(nonce) == [("gridwall/case/K7", b"while away " + nonce)], 10, "the queued event")
    finally:
        spool.close()
        Probe(broker.url, client_id).close()  # a clean start ends the session


def _acl_rules(text: str) -> list[tuple[str | None, str, str, str]]:
    """(user or None for a pattern line, kind, access, topic) of each rule of an ACL file."""
    rules, user = [], None
    for raw in text.splitlines():
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "user":
            user = words[1]
        elif words[0] in ("topic", "pattern"):
            access, topic = (words[1], words[2]) if len(words) == 3 else ("readwrite", words[1])
            rules.append((user if words[0] == "topic" else None, words[0], access, topic))
    return rules


def test_the_deployed_acl_lets_ingest_alone_read_every_routed_topic() -> None:
    rules = _acl_rules(servers.DEPLOYED_MOSQUITTO_ACL.read_text())
    ingest_reads = {topic for user, _kind, access, topic in rules if user == "ingest" and access == "read"}
    assert ingest_reads == set(DEFAULT_TOPICS), "the ACL's ingest block and feeds/topics.py's defaults differ"
    readers = {(user, topic) for user, _kind, access, topic in rules
               if user != "ingest" and access in ("read", "readwrite") and not topic.startswith("$SYS/")}
    # The desk's outgoing messages: the case system reads case events, a handheld its own tasks.
    assert readers == {("case-system", "gridwall/case/+"), ("video-platform", "gridwall/alert/+"),
                       (None, "gridwall/task/%u")}, readers
    ingest_writes = {topic for user, _kind, access, topic in rules if user == "ingest" and access != "read"}
    assert ingest_writes == {"gridwall/case/+", "gridwall/alert/+", "gridwall/task/+"}, "the outbox's topics only"


def test_a_handheld_reads_its_own_tasks_only(broker: servers.Mosquitto) -> None:
    ingest = as_ingest(broker)
    device = Probe(broker.url_as("C0012"))
    nonce = uuid.uuid4().hex.encode()
    try:
        assert all(code < 0x80 for code in device.subscribe([("gridwall/task/C0012", 1), ("gridwall/task/C0013", 1)]))
        assert ingest.publish("gridwall/task/C0013", b"not yours " + nonce) in (0, 16)
        assert ingest.publish("gridwall/task/C0012", b"yours " + nonce) == 0
        eventually(lambda: device.got(nonce) != [], 10, "the handheld's own task")
        time.sleep(0.3)
        assert device.got(nonce) == [("gridwall/task/C0012", b"yours " + nonce)]
    finally:
        device.close()
        ingest.close()

