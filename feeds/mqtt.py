"""One way to make a paho-mqtt 2 client from a GRIDWALL_MQTT_URL.

URL form: ``mqtt://[user:pass@]host[:port][?protocol=5|3.1.1]`` (``mqtts://`` for TLS).
The embedded amqtt broker speaks only MQTT 3.1.1, so the launcher passes ``protocol=3.1.1``;
an external broker (mosquitto, EMQX) defaults to MQTT 5, which shared subscriptions need.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    protocol: int = mqtt.MQTTv5

    @property
    def v5(self) -> bool:
        return self.protocol == mqtt.MQTTv5


def parse_mqtt_url(url: str) -> BrokerUrl:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp"):
        raise ValueError(f"not an MQTT URL (mqtt:// or mqtts://): {url!r}")
    tls = parts.scheme == "mqtts"
    query = parse_qs(parts.query)
    proto_name = (query.get("protocol") or ["5"])[0]
    protocol = {"5": mqtt.MQTTv5, "3.1.1": mqtt.MQTTv311, "4": mqtt.MQTTv311}.get(proto_name)
    if protocol is None:
        raise ValueError(f"protocol must be 5 or 3.1.1, not {proto_name!r}")
    return BrokerUrl(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (8883 if tls else 1883),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        protocol=protocol,
    )


Subscriptions = list[tuple[str, int]]


def make_client(
    url: str,
    client_id: str,
    *,
    persistent: bool = False,
    manual_ack: bool = False,
    subscriptions: Subscriptions | Callable[[], Subscriptions] = (),
    on_message: Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None] | None = None,
    on_state: Callable[[bool], None] | None = None,
    on_subscribed: Callable[[], None] | None = None,
    session_expiry_s: int = 3600,
    max_queued: int = 10_000,
    reconnect_max_s: int = 30,
) -> mqtt.Client:
    """Create, configure and start (connect_async + loop_start) a client.

    persistent: keep the broker session across reconnects and restarts (fixed client_id, clean
    session off / v5 session expiry), so QoS 1 case events and alerts sent while the worker was
    down are delivered when it comes back.
    manual_ack: QoS 1 messages are acknowledged by ``client.ack(mid, qos)`` once stored, not when
    on_message returns, so a crash before storing means a redelivery, not a loss.
    subscriptions: renewed in on_connect, because a broker that lost our session forgets them.
    on_state: called with True/False on connect/disconnect, for /healthz.
    on_subscribed: called when the broker has acknowledged the subscriptions (SUBACK).
    """
    broker = parse_mqtt_url(url)
    kwargs: dict[str, Any] = {"client_id": client_id, "protocol": broker.protocol, "manual_ack": manual_ack}
    if not broker.v5:
        kwargs["clean_session"] = not persistent
    client = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=reconnect_max_s)
    # paho's outgoing queue is unbounded by default; a simulator publishing into a dead broker
    # must not eat the machine's memory.
    client.max_queued_messages_set(max_queued)
    client.max_inflight_messages_set(1000)

    def _on_connect(c: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            return
        subs = subscriptions() if callable(subscriptions) else list(subscriptions)
        if subs:
            c.subscribe(subs)
        # Latency: Nagle's algorithm holds small packets back by up to 40 ms (docs/production.md §1).
        sock = c.socket()
        if sock is not None and hasattr(sock, "setsockopt"):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if on_state:
            on_state(True)

    def _on_disconnect(_c: mqtt.Client, _u: Any, _flags: Any, _reason: Any, _props: Any) -> None:
        if on_state:
            on_state(False)

    def _on_subscribe(_c: mqtt.Client, _u: Any, _mid: int, _codes: Any, _props: Any) -> None:
        if on_subscribed:
            on_subscribed()

    client.on_connect = _on_connect
    client.on_subscribe = _on_subscribe
    client.on_disconnect = _on_disconnect
    if on_message is not None:
        client.on_message = on_message

    connect_kwargs: dict[str, Any] = {"keepalive": 30}
    if broker.v5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry_s if persistent else 0
        connect_kwargs["properties"] = props
        connect_kwargs["clean_start"] = (
            False if persistent else mqtt.MQTT_CLEAN_START_FIRST_ONLY
        )
    client.connect_async(broker.host, broker.port, **connect_kwargs)
    client.loop_start()
    return client
