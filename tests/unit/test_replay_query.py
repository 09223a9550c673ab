"""How a replay is asked for (dashboard/screens/replay.py): the times a request may give, the
window's checks in their order, and the page's first windows. Pure: no server."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.screens.replay import ReplayError, ReplayQuery, parse_time, window_defaults

TZ = "Asia/Shanghai"
ZONE = ZoneInfo(TZ)
NOW = datetime(2026, 11, 20, 8, 0, tzinfo=ZONE).timestamp()
LIMITS = {"max_window_s": 24 * 3600.0, "retention_s": 30 * 86400.0, "future_skew_s": 300.0}


def query(**args: str) -> ReplayQuery:
    return ReplayQuery.from_args(args, NOW, TZ, **LIMITS)


def refused(**args: str) -> str:
    with pytest.raises(ReplayError) as exc:
        query(**args)
    assert exc.value.detail
    return exc.value.reason


def test_times_are_the_citys_local_time_an_offset_or_epoch_seconds() -> None:
    nine = datetime(2026, 11, 19, 21, 0, tzinfo=ZONE).timestamp()
    assert parse_time("from", "2026-11-19T21:00", TZ) == nine
    assert parse_time("from", "2026-11-19T21:00:00", TZ) == nine
    assert parse_time("from", "2026-11-19T13:00:00+00:00", TZ) == nine
    assert parse_time("from", "2026-11-19T13:00:00Z", TZ) == nine
    assert parse_time("from", str(nine), TZ) == nine
    for bad in ("", "yesterday", "nan", "inf", "2026-13-40T25:00", "x" * 41):
        with pytest.raises(ReplayError) as exc:
            parse_time("from", bad, TZ)
        assert exc.value.reason == "bad_time"


def test_a_choice_and_its_window() -> None:
    q = query(kind="vehicle", subtype="muck_truck", **{"from": "2026-11-19T21:00", "to": "2026-11-20T06:00"})
    assert (q.kind, q.subtype, q.end - q.start) == ("vehicle", "muck_truck", 9 * 3600)
    assert q.args() == {"from": q.start, "to": q.end, "kind": "vehicle", "subtype": "muck_truck"}
    assert query(subtype="sanitation", **{"from": "2026-11-20T07:00", "to": "2026-11-20T08:00"}).kind == "vehicle"
    named = query(devices=" M001,M002 ,M001", stop_min="10", **{"from": "2026-11-20T07:00", "to": "2026-11-20T08:00"})
    assert named.devices == ("M001", "M002") and named.stop_min_s == 600
    # An end a little ahead of the server's clock (a browser's clock runs fast) is cut to now.
    ahead = query(kind="collector", **{"from": "2026-11-20T07:00", "to": "2026-11-20T08:04"})
    assert ahead.end == NOW


def test_the_refusals() -> None:
    window = {"from": "2026-11-20T07:00", "to": "2026-11-20T08:00"}
    assert refused(**window) == "bad_query"
    assert refused(kind="boat", **window) == "bad_query"
    assert refused(kind="vehicle", evil="1", **window) == "bad_query"
    assert refused(kind="collector", subtype="muck_truck", **window) == "bad_query"
    assert refused(devices="M001", department="HWC", **window) == "bad_query"
    assert refused(devices=",".join(f"M{i}" for i in range(201)), **window) == "bad_query"
    assert refused(kind="vehicle", stop_min="241", **window) == "bad_query"
    assert refused(kind="vehicle", stop_min="five", **window) == "bad_query"
    assert refused(kind="vehicle", department="\x00", **window) == "bad_query"
    assert refused(kind="vehicle", **{"from": "2026-11-20T07:00"}) == "bad_time"
    assert refused(kind="vehicle", **{"from": "2026-11-20T08:00", "to": "2026-11-20T07:00"}) == "window_reversed"
    assert refused(kind="vehicle", **{"from": "2026-11-20T07:00", "to": "2026-11-20T07:00"}) == "window_empty"
    assert refused(kind="vehicle", **{"from": "2026-11-20T09:00", "to": "2026-11-20T10:00"}) == "window_in_future"
    assert refused(kind="vehicle", **{"from": "2026-11-20T07:00", "to": "2026-11-20T08:06"}) == "window_in_future"
    assert refused(kind="vehicle", **{"from": "2026-11-19T07:00", "to": "2026-11-20T07:30"}) == "window_too_long"
    assert refused(kind="vehicle", **{"from": "2026-10-20T07:00", "to": "2026-10-20T08:00"}) == "before_retention"


@pytest.mark.parametrize(("now", "night"), [
    ((2026, 11, 20, 8, 0), ("2026-11-19T21:00", "2026-11-20T06:00")),
    ((2026, 11, 20, 6, 0), ("2026-11-19T21:00", "2026-11-20T06:00")),
    ((2026, 11, 20, 2, 30), ("2026-11-18T21:00", "2026-11-19T06:00")),   # the night not over yet: the one before
    ((2026, 11, 20, 23, 0), ("2026-11-19T21:00", "2026-11-20T06:00")),
    ((2026, 12, 1, 7, 0), ("2026-11-30T21:00", "2026-12-01T06:00")),     # across a month
])
def test_last_night_is_the_last_whole_night(now: tuple[int, ...], night: tuple[str, str]) -> None:
    d = window_defaults(datetime(*now, tzinfo=ZONE).timestamp(), TZ)
    assert (d["night_from"], d["night_to"]) == night
    assert d["to"] == datetime(*now, tzinfo=ZONE).strftime("%Y-%m-%dT%H:%M")
