"""Fuzz: whatever arrives on any topic, decoding raises nothing but Rejected, and whatever it
accepts is a well-formed record (finite numbers, serialisable)."""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.records import Alert, CaseEvent, DeviceAlarm, DeviceStatus, Position
from feeds.decode_cmd import record_to_dict
from feeds.decoders import DecodeContext
from feeds.decoding import decode_and_validate
from feeds.rejects import Rejected
from feeds.topics import TopicRouter
from feeds.validate import Bounds

CLIENTS = Path(__file__).resolve().parents[2] / "fixtures" / "clients"
CTX = DecodeContext(now=1716215400.0, frigate_base_url="http://frigate:5000")
CITY = Bounds(min_lat=30.67, min_lon=120.85, max_lat=31.88, max_lon=122.2)
ROUTER = TopicRouter()
# GRIDWALL_FUZZ_EXAMPLES=5000 for a longer run (nightly, or after touching a decoder).
FUZZ = settings(
    max_examples=int(os.environ.get("GRIDWALL_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TOPICS = [
    "gridwall/gps/collector/C1",
    "gridwall/gps/vehicle/V1",
    "gridwall/video/cam1",
    "gridwall/case/K1",
    "owntracks/alice/phone",
    "traccar/positions",
    "traccar/events",
    "frigate/events",
    "frigate/reviews",
    "open311/requests",
]

# Valid messages per topic, to mutate: fuzzing from a valid start reaches the field checks,
# which random bytes almost never do.
SEEDS: dict[str, dict[str, Any] | list[Any]] = {
    "gridwall/gps/collector/C1": {"id": "C1", "kind": "collector", "lat": 31.2, "lon": 121.4, "ts": 1716215395,
                                  "speed": 3.0, "heading": 90, "accuracy": 5, "battery": 50, "status": "patrol"},
    "gridwall/video/cam1": {"alert_id": "a", "type": "占道经营", "state": "new", "start": 1716215000, "end": None,
                            "lat": 31.2, "lon": 121.4, "confidence": 0.5, "snapshot_url": "http://x/y.jpg"},
    "gridwall/case/K1": {"event_id": "e", "action": "report", "time": 1716215000, "actor": "a",
                         "case": {"category": "暴露垃圾", "lat": 31.2, "lon": 121.4, "deadline": 1716300000}},
    "owntracks/alice/phone": orjson.loads((CLIENTS / "owntracks_location.json").read_bytes()),
    "traccar/positions": orjson.loads((CLIENTS / "traccar_position_forward.json").read_bytes()),
    "traccar/events": {**orjson.loads((CLIENTS / "traccar_position_forward.json").read_bytes()),
                       "event": {"type": "deviceOffline", "eventTime": "2024-05-20T14:31:00.000+00:00"}},
    "frigate/events": orjson.loads((CLIENTS / "frigate_event_update.json").read_bytes()),
    "frigate/reviews": orjson.loads((CLIENTS / "frigate_review_update.json").read_bytes()),
    "open311/requests": [{"service_request_id": 1, "status": "closed", "service_code": "006", "lat": 31.2,
                          "long": 121.4, "requested_datetime": "2024-05-20T13:00:00Z",
                          "updated_datetime": "2024-05-20T13:30:00Z", "expected_datetime": "2024-05-21T13:00:00Z"}],
}  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["nan", "inf", "-1", "006", "2024-05-20T22:29:55", "2024-05-20T22:29:55+08:00", "", " "]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def check(topic: str, payload: bytes) -> None:
    try:
        records = ROUTER.decode(topic, payload, CTX)
    except Rejected as exc:
        assert exc.detail
        return
    for record in records:
        assert isinstance(record, (Position, DeviceStatus, DeviceAlarm, Alert, CaseEvent))
        for value in record_to_dict(record).values():
            if isinstance(value, float):
                assert math.isfinite(value)
        orjson.dumps(record_to_dict(record))  # storable and publishable
    with contextlib.suppress(Rejected):  # validate may refuse; it must not crash
        decode_and_validate(topic, payload, CTX, CITY, router=ROUTER)


@FUZZ
@given(topic=st.sampled_from(TOPICS), payload=st.binary(max_size=300))
def test_arbitrary_bytes(topic: str, payload: bytes) -> None:
    check(topic, payload)


@FUZZ
@given(topic=st.sampled_from(TOPICS), value=json_values)
def test_arbitrary_json(topic: str, value: Any) -> None:
    check(topic, orjson.dumps(value))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, (*prefix, index))
    return out


def _replace(node: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy: Any = dict(node) if isinstance(node, dict) else list(node)
    if delete and not rest:
        del copy[head]
    else:
        copy[head] = _replace(node[head], rest, value, delete)
    return copy


@FUZZ
@given(data=st.data(), value=json_values, delete=st.booleans())
def test_one_field_of_a_valid_message_mutated(data: st.DataObject, value: Any, delete: bool) -> None:
    topic = data.draw(st.sampled_from(sorted(SEEDS)))
    seed = SEEDS[topic]
    path = data.draw(st.sampled_from(_paths(seed)))
    check(topic, orjson.dumps(_replace(seed, path, value, delete)))


@FUZZ
@given(topic=st.sampled_from(TOPICS), text=st.text(alphabet='{}[]:,"0123456789.eE+-NaInfity tru', max_size=60))
def test_json_like_garbage(topic: str, text: str) -> None:
    # Near-JSON: exercises the NaN/Infinity classification and Open311's lenient pre-pass.
    check(topic, text.encode())


def test_seeds_are_valid() -> None:
    # Guards the fuzz above: if a seed were already invalid, mutations would prove little.
    for topic, seed in SEEDS.items():
        assert ROUTER.decode(topic, orjson.dumps(seed), CTX), topic
