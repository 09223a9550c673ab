"""The validate step refuses what SQL cannot store (feeds/validate.py, bounds from
dashboard/limits.py): every bounded text at its bound is taken and one character more refused,
with a sentence naming the field, its length and its bound; NUL and lone surrogates anywhere;
a case payload too deep, too large, with a non-finite float or an integer beyond 64 bits; a
time outside 2000..2100. Records are built directly (any decoder's records pass through here),
then a few native payloads end to end through decode_and_validate."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
import pytest

from dashboard import limits
from dashboard.records import Alert, CaseEvent, DeviceStatus, Position, Record
from feeds.decoders import DecodeContext
from feeds.decoding import decode_and_validate
from feeds.rejects import Reason, Rejected
from feeds.validate import Bounds, validate

NOW = 1_795_230_000.0  # 2026-11-20
CITY = Bounds(min_lat=30.0, min_lon=119.9, max_lat=30.5, max_lon=120.5)

GOOD: dict[str, Record] = {
    "Position": Position("C1", "collector", 30.27, 120.16, NOW - 1, subtype="sanitation", status="patrol",
                         name="张三", department="环卫所"),
    "DeviceStatus": DeviceStatus("C1", True, NOW - 1, kind="collector"),
    "Alert": Alert("A1", "cam07", "占道经营", "new", NOW - 5, 30.26, 120.16, snapshot_url="http://nvr/a.jpg"),
    "CaseEvent": CaseEvent("E1", "K1", "report", NOW - 60, "collector:C1",
                           {"source": "supervisor", "category": "event", "small_code": "0102", "lat": 30.27,
                            "lon": 120.16, "urgent": False, "deadline": NOW + 86400}),
}  # fmt: skip
BOUNDED = {"Position": limits.POSITION, "DeviceStatus": limits.DEVICE_STATUS, "Alert": limits.ALERT,
           "CaseEvent": limits.CASE_EVENT}  # fmt: skip
FIELDS = [(kind, name, bound) for kind, bounded in BOUNDED.items() for name, bound in bounded.items()]


def check(record: Record) -> None:
    validate(record, now=NOW, bounds=CITY)


def refusal(record: Record) -> Rejected:
    with pytest.raises(Rejected) as exc:
        check(record)
    return exc.value


def with_case(**case: Any) -> CaseEvent:
    event = GOOD["CaseEvent"]
    assert isinstance(event, CaseEvent)
    return replace(event, case={**event.case, **case})


def test_the_good_records_pass():
    for record in GOOD.values():
        check(record)


# --- texts of the records ------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "name", "bound"), FIELDS, ids=[f"{k}.{n}" for k, n, _ in FIELDS])
def test_every_bounded_text_at_its_bound_passes_and_one_more_is_refused(kind, name, bound):
    # Chinese characters: the bound counts characters, as PostgreSQL's varchar does, not bytes.
    check(replace(GOOD[kind], **{name: "城" * bound}))
    error = refusal(replace(GOOD[kind], **{name: "城" * (bound + 1)}))
    assert error.reason is Reason.TOO_LONG
    assert f"'{name}' is {bound + 1} characters long, over its bound of {bound}" in error.detail


@pytest.mark.parametrize(("kind", "name", "bound"), FIELDS, ids=[f"{k}.{n}" for k, n, _ in FIELDS])
def test_a_nul_in_any_text_is_refused(kind, name, bound):
    error = refusal(replace(GOOD[kind], **{name: "ab\x00c"}))
    assert error.reason is Reason.BAD_TEXT
    assert f"'{name}' holds a NUL character" in error.detail and "position 2" in error.detail


def test_a_lone_surrogate_is_refused():
    # orjson never makes one, but a record from elsewhere (a CSV read with surrogateescape) may
    error = refusal(replace(GOOD["Position"], name="张\udcff"))
    assert error.reason is Reason.BAD_TEXT and "'name'" in error.detail and "surrogate" in error.detail


def test_the_issues_actor_of_200_characters():
    error = refusal(replace(GOOD["CaseEvent"], actor="x" * 200))
    assert error.reason is Reason.TOO_LONG
    assert error.detail.startswith("'actor' is 200 characters long, over its bound of 128")


# --- the case payload ------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "bound"), sorted(limits.CASE.items()))
def test_every_case_text_at_its_bound_passes_and_one_more_is_refused(name, bound):
    check(with_case(**{name: "x" * bound}))
    error = refusal(with_case(**{name: "x" * (bound + 1)}))
    assert error.reason is Reason.TOO_LONG
    assert f"'case.{name}' is {bound + 1} characters long, over its bound of {bound}" in error.detail


def test_other_case_texts_and_keys_are_bounded():
    check(with_case(channel="x" * limits.CASE_OTHER_TEXT, **{"k" * limits.CASE_KEY: 1}))
    assert refusal(with_case(channel="x" * (limits.CASE_OTHER_TEXT + 1))).reason is Reason.TOO_LONG
    error = refusal(with_case(**{"k" * (limits.CASE_KEY + 1): 1}))
    assert error.reason is Reason.TOO_LONG and "a key of case" in error.detail
    nested = refusal(with_case(extra={"inner": "x" * (limits.CASE_OTHER_TEXT + 1)}))
    assert nested.reason is Reason.TOO_LONG and "'case.extra.inner'" in nested.detail


def test_nul_anywhere_in_the_case_payload_is_refused():
    assert refusal(with_case(title="a\x00")).reason is Reason.BAD_TEXT
    deep = refusal(with_case(extra={"list": ["ok", "b\x00d"]}))
    assert deep.reason is Reason.BAD_TEXT and "'case.extra.list[1]'" in deep.detail
    assert refusal(with_case(**{"ke\x00y": 1})).reason is Reason.BAD_TEXT
    assert refusal(with_case(extra={"ke\x00y": 1})).reason is Reason.BAD_TEXT


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for i in range(levels):
        value = {"k": value} if i % 2 else [value]
    return value


def test_case_payload_depth():
    check(with_case(extra=_nested(limits.CASE_DEPTH - 1)))  # the payload itself is the first level
    error = refusal(with_case(extra=_nested(limits.CASE_DEPTH)))
    assert error.reason is Reason.TOO_DEEP
    assert f"{limits.CASE_DEPTH + 1} deep, over the case payload's bound of {limits.CASE_DEPTH}" in error.detail


def test_case_payload_size():
    # many short texts, each within its bound, together over the payload's bound
    fields = {f"f{i}": "x" * 200 for i in range(limits.CASE_BYTES // 200)}
    error = refusal(with_case(**fields))
    assert error.reason is Reason.TOO_LARGE and f"over its bound of {limits.CASE_BYTES}" in error.detail
    check(with_case(**dict(list(fields.items())[: limits.CASE_BYTES // 220])))


def test_case_payload_numbers():
    check(with_case(a=limits.INT_MAX, b=limits.INT_MIN, c=1.5e300, d=None, e=True))
    for big in (limits.INT_MAX + 1, limits.INT_MIN - 1, 10**30):
        error = refusal(with_case(extra=[1, big]))
        assert error.reason is Reason.BAD_NUMBER and "'case.extra[1]'" in error.detail, big
    for bad in (float("nan"), float("inf"), -float("inf")):
        assert refusal(with_case(extra={"x": bad})).reason is Reason.NOT_FINITE
    assert refusal(with_case(extra={1, 2})).reason is Reason.WRONG_TYPE  # a set is no JSON
    assert refusal(with_case(extra={1: "a"})).reason is Reason.WRONG_TYPE  # nor an int key


# --- times -------------------------------------------------------------------------------------------

BEFORE_2000 = limits.TIME_MIN - 1


@pytest.mark.parametrize(
    "record",
    [
        replace(GOOD["Position"], ts=BEFORE_2000),
        replace(GOOD["DeviceStatus"], ts=BEFORE_2000),
        replace(GOOD["Alert"], start=BEFORE_2000),
        replace(GOOD["Alert"], end=BEFORE_2000),
        replace(GOOD["CaseEvent"], ts=BEFORE_2000),
        replace(GOOD["Position"], ts=0.0),
        with_case(deadline=limits.TIME_MAX + 1),
        with_case(deadline=1e300),  # far enough to overflow datetime.fromtimestamp
        with_case(deadline=BEFORE_2000),
    ],
    ids=["fix", "status", "alert start", "alert end", "case event", "1970", "deadline 2100",
         "deadline 1e300", "deadline 1999"],  # fmt: skip
)
def test_times_outside_2000_to_2100_are_refused(record):
    error = refusal(record)
    assert error.reason is Reason.BAD_TIME and "outside 2000..2100" in error.detail


def test_time_bounds_themselves_pass_and_the_future_is_still_future():
    check(replace(GOOD["Position"], ts=limits.TIME_MIN))
    check(with_case(deadline=limits.TIME_MAX))
    assert refusal(replace(GOOD["Position"], ts=1e300)).reason is Reason.FUTURE_TIMESTAMP


# --- through the native decoder -----------------------------------------------------------------------


def run(topic: str, body: dict[str, Any] | bytes) -> list[Record]:
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    return decode_and_validate(topic, payload, DecodeContext(now=NOW), CITY)


def reason_of(topic: str, body: dict[str, Any] | bytes) -> Rejected:
    with pytest.raises(Rejected) as exc:
        run(topic, body)
    return exc.value


CASE = {"event_id": "E1", "action": "report", "ts": NOW - 60, "actor": "a",
        "case": {"category": "event", "lat": 30.27, "lon": 120.16}}  # fmt: skip


def test_native_messages_meet_the_bounds():
    assert run("gridwall/case/K1", CASE)
    assert reason_of("gridwall/case/K1", {**CASE, "actor": "x" * 200}).reason is Reason.TOO_LONG
    assert reason_of("gridwall/case/" + "K" * 65, CASE).reason is Reason.TOO_LONG  # the topic's case id
    nul = reason_of("gridwall/case/K1", b'{"event_id":"E1","action":"report","ts":%d,"actor":"a\\u0000b"}' % (NOW - 60))
    assert nul.reason is Reason.BAD_TEXT and "'actor'" in nul.detail
    title = reason_of("gridwall/case/K1", {**CASE, "case": {**CASE["case"], "title": "t" * 257}})
    assert title.reason is Reason.TOO_LONG and "'case.title' is 257 characters long" in title.detail
    deadline_ms = reason_of("gridwall/case/K1", {**CASE, "case": {**CASE["case"], "deadline": 9e15}})
    assert deadline_ms.reason is Reason.BAD_TIME  # milliseconds of the year 287,000
    fix = {"lat": 30.27, "lon": 120.16, "ts": NOW - 1}
    assert reason_of("gridwall/gps/collector/C1", {**fix, "ts": 315_964_800}).reason is Reason.BAD_TIME  # 1980
    assert reason_of("gridwall/gps/collector/C1", {**fix, "name": "名" * 129}).reason is Reason.TOO_LONG
    alert = {"alert_id": "A1", "type": "占道经营", "state": "new", "start": NOW - 5}
    assert reason_of("gridwall/video/cam07", {**alert, "type": "t" * 65}).reason is Reason.TOO_LONG


def test_a_payload_nested_past_the_parser_is_too_deep():
    body = b'{"lat":30.27,"lon":120.16,"ts":%d,"x":%s%s}' % (NOW - 1, b"[" * 1100, b"]" * 1100)
    assert reason_of("gridwall/gps/collector/C1", body).reason is Reason.TOO_DEEP
    shallow = b'{"lat":30.27,"lon":120.16,"ts":%d,"x":%s%s}' % (NOW - 1, b"[" * 100, b"]" * 100)
    assert run("gridwall/gps/collector/C1", shallow)  # an ignored field may nest; it is never stored


def test_open311_notes_are_bounded():
    request = {"service_request_id": 7, "status": "closed", "requested_datetime": NOW - 3600,
               "updated_datetime": NOW - 60, "lat": 30.27, "long": 120.16}  # fmt: skip
    assert len(run("open311/requests", {**request, "status_notes": "n" * limits.NOTE})) == 2
    error = reason_of("open311/requests", {**request, "status_notes": "n" * (limits.NOTE + 1)})
    assert error.reason is Reason.TOO_LONG and "'case.note'" in error.detail
