"""The embedded MQTT broker (amqtt, MQTT 3.1.1 only) for `gridwall demo` and the tests.

Production uses mosquitto or EMQX instead; this exists so that one command runs everything on
one machine. It runs in its own process (``python -m feeds.broker --port N``) so its asyncio
loop does not share a GIL with ingest or the web server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import time

from amqtt.broker import Broker

log = logging.getLogger("gridwall.broker")


def broker_config(host: str, port: int) -> dict[str, object]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 1000}},
        # Loopback only, so no passwords; but a client must give a user name, because amqtt keeps
        # no offline QoS 1 messages for anonymous sessions, and ingest's persistent session must
        # get the case events sent while it was restarting.
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": False}},
    }


async def serve(host: str, port: int, stop: asyncio.Event) -> None:
    broker = Broker(broker_config(host, port))
    await broker.start()
    log.info("embedded MQTT broker on %s:%d", host, port)
    try:
        await stop.wait()
    finally:
        await broker.shutdown()


def wait_for_port(host: str, port: int, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="embedded MQTT 3.1.1 broker (amqtt)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # amqtt logs every connection at INFO; a 24/7 wall does not need that in its log.
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(args.host, args.port, stop)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
