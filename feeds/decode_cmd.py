"""``gridwall decode <topic> <file> [--anywhere]``: what would ingest make of this payload?

Prints one JSON line per record (the record's fields plus ``"record"``: position, device_status,
alert or case_event) and returns 0, or prints ``rejected <code>: <sentence>`` and returns 1.
Nothing is stored or published. ``-`` reads the payload from standard input.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any, TextIO

import orjson

from dashboard.records import Record
from feeds.decoders import DecodeContext
from feeds.decoding import decode_and_validate
from feeds.rejects import Rejected
from feeds.topics import TopicRouter
from feeds.validate import Bounds

RECORD_NAMES = {
    "Position": "position",
    "DeviceStatus": "device_status",
    "DeviceAlarm": "device_alarm",
    "Alert": "alert",
    "CaseEvent": "case_event",
}


def record_to_dict(record: Record) -> dict[str, Any]:
    data = {"record": RECORD_NAMES[type(record).__name__]}
    data.update(dataclasses.asdict(record))
    return data


def run(
    topic: str,
    path: str,
    *,
    anywhere: bool,
    ctx: DecodeContext,
    bounds: Bounds | None = None,
    router: TopicRouter | None = None,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    try:
        payload = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        records = decode_and_validate(topic, payload, ctx, bounds, anywhere, router=router)
    except Rejected as exc:
        print(f"rejected {exc.reason.value}: {exc.detail}", file=out)
        return 1
    if not records:
        print("no records: a message type gridwall ignores on purpose (docs/mqtt.md)", file=sys.stderr)
    for record in records:
        print(orjson.dumps(record_to_dict(record)).decode(), file=out)
    return 0


# --- `gridwall decode`, as dashboard/cli.py wires feeds commands -------------------------------


def add_arguments(parser: Any) -> None:
    parser.add_argument("topic", help="the MQTT topic the payload would arrive on, e.g. owntracks/alice/phone")
    parser.add_argument("file", help="the payload file, or - for standard input")
    parser.add_argument("--anywhere", action="store_true", help="skip the city-bounds check (samples from other cities)")


def command(args: Any, settings: Any) -> int:
    """The same context, router and bounds as `gridwall ingest` builds from the configuration."""
    import time

    from feeds.citygeo import city_bounds

    section = settings.section("feeds")
    ctx = DecodeContext.from_config(section, now=time.time())
    return run(args.topic, args.file, anywhere=args.anywhere, ctx=ctx, bounds=city_bounds(settings),
               router=TopicRouter(section.get("topics")))
