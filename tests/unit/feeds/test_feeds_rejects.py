"""A corpus of bad messages through check_size -> decode -> validate, as ingest runs them:
each one is refused with the RIGHT reason, and good neighbours of each are taken."""

from __future__ import annotations

import pytest

from feeds.decoders import DecodeContext, DeviceInfo
from feeds.decoding import decode_and_validate
from feeds.rejects import Reason, Rejected
from feeds.validate import Bounds, check_size

NOW = 1716215400.0
GPS = "gridwall/gps/collector/C1"
GOOD_GPS = b'{"lat":31.2304,"lon":121.4737,"ts":1716215395}'

# (name, topic, payload, reason)
CORPUS: list[tuple[str, str, bytes, Reason]] = [
    ("truncated json", GPS, b'{"lat":31.2304,"lon":', Reason.INVALID_JSON),
    ("not utf-8", GPS, b'{"lat":\xff}', Reason.INVALID_JSON),
    ("empty payload", GPS, b"", Reason.INVALID_JSON),
    ("array not object", GPS, b"[31.2, 121.4]", Reason.WRONG_TYPE),
    ("missing lat", GPS, b'{"lon":121.4737,"ts":1716215395}', Reason.MISSING_FIELD),
    ("lat is a string", GPS, b'{"lat":"31.2","lon":121.4737,"ts":1716215395}', Reason.WRONG_TYPE),
    ("lat is a bool", GPS, b'{"lat":true,"lon":121.4737,"ts":1716215395}', Reason.WRONG_TYPE),
    ("NaN literal", GPS, b'{"lat":NaN,"lon":121.4737,"ts":1716215395}', Reason.NOT_FINITE),
    ("Infinity literal", GPS, b'{"lat":31.2,"lon":-Infinity,"ts":1716215395}', Reason.NOT_FINITE),
    ("overflow to inf", GPS, b'{"lat":31.2,"lon":1e999,"ts":1716215395}', Reason.NOT_FINITE),
    ("string nan (OwnTracks)", "owntracks/u/d", b'{"_type":"location","lat":"nan","lon":121.4,"tst":1716215395}',
     Reason.NOT_FINITE),
    ("string inf (OwnTracks)", "owntracks/u/d", b'{"_type":"location","lat":31.2,"lon":"inf","tst":1716215395}',
     Reason.NOT_FINITE),
    ("lat 91", GPS, b'{"lat":91,"lon":121.4737,"ts":1716215395}', Reason.COORD_OUT_OF_RANGE),
    ("lon -181", GPS, b'{"lat":31.2,"lon":-181,"ts":1716215395}', Reason.COORD_OUT_OF_RANGE),
    ("swapped lat/lon", GPS, b'{"lat":121.4737,"lon":31.2304,"ts":1716215395}', Reason.COORD_OUT_OF_RANGE),
    ("Beijing fix in Shanghai", GPS, b'{"lat":39.915,"lon":116.404,"ts":1716215395}', Reason.OUTSIDE_CITY),
    ("0,0 fix", GPS, b'{"lat":0,"lon":0,"ts":1716215395}', Reason.OUTSIDE_CITY),
    ("an hour ahead", GPS, b'{"lat":31.2,"lon":121.47,"ts":1716219000}', Reason.FUTURE_TIMESTAMP),
    ("local time sent as UTC", GPS, b'{"lat":31.2,"lon":121.47,"ts":"2024-05-20T22:29:55Z"}',
     Reason.FUTURE_TIMESTAMP),
    ("unknown topic", "gridwall/weather/today", GOOD_GPS, Reason.UNKNOWN_TOPIC),
    ("unknown device kind in topic", "gridwall/gps/truck/T1", GOOD_GPS, Reason.UNKNOWN_TOPIC),
    ("empty id level", "gridwall/gps/collector/", GOOD_GPS, Reason.UNKNOWN_TOPIC),
    ("unknown case action", "gridwall/case/K1", b'{"event_id":"e","action":"teleport","time":1716215000}',
     Reason.UNKNOWN_ACTION),
    ("unknown Open311 status", "open311/requests",
     b'{"service_request_id":1,"status":"pending","requested_datetime":"2024-05-20T13:00:00Z"}',
     Reason.UNKNOWN_ACTION),
    ("unknown OwnTracks type", "owntracks/u/d", b'{"_type":"teleport"}', Reason.UNSUPPORTED),
    ("alert in the future", "gridwall/video/cam1", b'{"alert_id":"a","type":"x","state":"new","start":1716229800}',
     Reason.FUTURE_TIMESTAMP),
    ("case off the map", "gridwall/case/K1",
     b'{"event_id":"e","action":"report","time":1716215000,"case":{"lat":95,"lon":121}}', Reason.COORD_OUT_OF_RANGE),
]  # fmt: skip


@pytest.mark.parametrize(("name", "topic", "payload", "reason"), CORPUS, ids=[c[0] for c in CORPUS])
def test_bad_message_is_refused_with_the_right_reason(name, topic, payload, reason, city):
    with pytest.raises(Rejected) as exc:
        decode_and_validate(topic, payload, DecodeContext(now=NOW), city, anywhere=False)
    assert exc.value.reason is reason, exc.value.detail
    assert exc.value.detail  # always a sentence for the operator


def test_every_reason_a_feed_can_raise_is_in_the_corpus_or_below():
    covered = {c[3] for c in CORPUS} | {Reason.OVERSIZED, Reason.UNKNOWN_DEVICE} | {
        # storability, tested in tests/unit/test_validate_storable.py and test_poison_corpus.py
        Reason.TOO_LONG, Reason.BAD_TEXT, Reason.TOO_DEEP, Reason.TOO_LARGE, Reason.BAD_TIME, Reason.BAD_NUMBER}
    # Raised after decoding, by what knows more than one message, and tested there
    # (tests/integration/test_durability.py, test_unknown_senders.py): ILLEGAL_TRANSITION by the
    # case projection, which knows the case's state; CONFLICTING_DUPLICATE by dedupe, which
    # knows what was stored; STORE_FAILED by the worker, when the database refuses one.
    later = {Reason.ILLEGAL_TRANSITION, Reason.CONFLICTING_DUPLICATE, Reason.STORE_FAILED}
    assert covered == set(Reason) - later


def test_good_gps_is_taken(city):
    (pos,) = decode_and_validate(GPS, GOOD_GPS, DecodeContext(now=NOW), city)
    assert (pos.lat, pos.lon) == (31.2304, 121.4737)


def test_outside_city_is_taken_with_anywhere(city):
    payload = b'{"lat":39.915,"lon":116.404,"ts":1716215395}'
    (pos,) = decode_and_validate(GPS, payload, DecodeContext(now=NOW), city, anywhere=True)
    assert pos.lat == 39.915


def test_city_margin_is_in_kilometres():
    box = Bounds(min_lat=31.0, min_lon=121.0, max_lat=31.5, max_lon=121.5, margin_km=10)
    assert box.contains(31.5 + 9.5 / 111.32, 121.2)  # 9.5 km north: inside the margin
    assert not box.contains(31.5 + 10.5 / 111.32, 121.2)  # 10.5 km north: outside
    assert Bounds.from_config({"bbox": [121.0, 31.0, 121.5, 31.5], "margin_km": 10}) == box


def test_future_skew_is_configurable(city):
    payload = b'{"lat":31.2,"lon":121.47,"ts":1716215600}'  # 200 s ahead
    assert decode_and_validate(GPS, payload, DecodeContext(now=NOW), city)  # default skew 300 s
    with pytest.raises(Rejected) as exc:
        decode_and_validate(GPS, payload, DecodeContext(now=NOW), city, future_skew_s=60)
    assert exc.value.reason is Reason.FUTURE_TIMESTAMP


def test_oversized_payload_is_refused_before_decoding(city):
    padding = b" " * 70_000
    payload = GOOD_GPS[:-1] + padding + b"}"  # valid JSON, just too big
    with pytest.raises(Rejected) as exc:
        decode_and_validate(GPS, payload, DecodeContext(now=NOW), city)
    assert exc.value.reason is Reason.OVERSIZED
    check_size(b"x" * 65_536)  # the limit itself is allowed
    with pytest.raises(Rejected):
        check_size(b"x" * 101, limit=100)


def test_unknown_device_refused_only_in_strict_mode(city):
    strict = DecodeContext(now=NOW, strict_devices=True, devices={"C2": DeviceInfo(kind="collector")})
    with pytest.raises(Rejected) as exc:
        decode_and_validate(GPS, GOOD_GPS, strict, city)
    assert exc.value.reason is Reason.UNKNOWN_DEVICE
    assert "C1" in exc.value.detail
    assert decode_and_validate("gridwall/gps/collector/C2", GOOD_GPS, strict, city)
    assert decode_and_validate(GPS, GOOD_GPS, DecodeContext(now=NOW), city)  # default: accepted


def test_strict_mode_applies_to_clients_and_cameras(city):
    strict = DecodeContext(now=NOW, strict_devices=True)
    cases = [
        ("owntracks/u/d", b'{"_type":"location","lat":31.2,"lon":121.4,"tst":1716215395}'),
        ("gridwall/video/cam1", b'{"alert_id":"a","type":"x","state":"new","start":1716215000}'),
    ]
    for topic, payload in cases:
        with pytest.raises(Rejected) as exc:
            decode_and_validate(topic, payload, strict, city)
        assert exc.value.reason is Reason.UNKNOWN_DEVICE
