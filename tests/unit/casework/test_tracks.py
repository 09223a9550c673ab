"""A device's track in a window (dashboard/casework/tracks.py): stops with their duration and
place, distance and moving time; the edge cases: no fix, one fix, gaps, a stop at either end of
the window, GPS scatter while parked. Pure: the fixes are built here."""

from __future__ import annotations

import math
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.casework.tracks import (
    GAP_S,
    MOVING_MIN_KMH,
    MOVING_MIN_MPS,
    STOP_MIN_S,
    STOP_RADIUS_M,
    Fix,
    stops,
    track,
)
from dashboard.geo import haversine_m
from feeds.steps.positions import Downsampler

T0 = 1_795_230_000.0
LAT, LON = 30.27, 120.16
M_LAT = 1 / 111_195.0  # degrees of latitude per metre (the haversine's sphere)


def north(m: float) -> float:
    return LAT + m * M_LAT


def drive(t0: float, start_m: float, metres: float, speed_mps: float, every_s: float = 10.0) -> list[Fix]:
    """Fixes every ``every_s`` of a device going north at ``speed_mps`` from ``start_m``."""
    n = int(round(metres / speed_mps / every_s))
    return [(t0 + k * every_s, north(start_m + k * every_s * speed_mps), LON) for k in range(1, n + 1)]


def park(t0: float, at_m: float, seconds: float, every_s: float = 10.0, scatter_m: float = 0.0,
         seed: int = 1) -> list[Fix]:
    rng = random.Random(seed)
    n = int(seconds // every_s)
    return [(t0 + k * every_s, north(at_m + rng.gauss(0, scatter_m)), LON + rng.gauss(0, scatter_m) * M_LAT / math.cos(math.radians(LAT)))
            for k in range(n + 1)]


def test_no_fix_and_one_fix_did_nothing() -> None:
    for fixes in ([], [(T0, LAT, LON)]):
        t = track(fixes)
        assert (t.distance_m, t.moving_s, t.stops, t.gaps) == (0.0, 0.0, (), 0)


def test_a_drive_is_its_distance_and_its_time() -> None:
    fixes = [(T0, LAT, LON), *drive(T0, 0, 3000, 10.0)]  # 3 km at 36 km/h, a fix every 10 s
    t = track(fixes)
    assert math.isclose(t.distance_m, 3000, rel_tol=1e-3)
    assert t.moving_s == 300.0 and t.stops == () and t.gaps == 0


def test_a_stop_has_its_duration_its_place_and_adds_no_distance() -> None:
    # 1 km, 12 minutes parked with 4 m of GPS scatter, 1 km more.
    a = [(T0, LAT, LON), *drive(T0, 0, 1000, 10.0)]
    parked = park(a[-1][0] + 10, 1000, 720, scatter_m=4.0)
    b = drive(parked[-1][0], 1000, 1000, 10.0)
    t = track(a + parked + b)
    assert len(t.stops) == 1
    s = t.stops[0]
    # The stop starts at the last fix of the approach or the first parked one (the last drive fix
    # is at the parking place too), and ends at the last parked fix.
    assert a[-1][0] <= s.start <= parked[0][0] and s.end == parked[-1][0]
    assert 720 <= s.duration_s <= 740
    assert haversine_m(s.lat, s.lon, north(1000), LON) < 5
    assert not s.open_start and not s.open_end
    # The scatter while parked (12 minutes of 4-m jumps) adds nothing: 2 km, not 2 km + 72 jumps.
    assert math.isclose(t.distance_m, 2000, rel_tol=0.01), t.distance_m
    assert math.isclose(t.moving_s, 200, abs_tol=10), t.moving_s


def test_a_stop_shorter_than_the_minimum_is_not_listed_but_waiting_is_not_moving() -> None:
    a = [(T0, LAT, LON), *drive(T0, 0, 500, 10.0)]
    wait = park(a[-1][0] + 10, 500, 240, scatter_m=2.5)  # 4 minutes at a light, a vehicle's GPS scatter
    b = drive(wait[-1][0], 500, 500, 10.0)
    fixes = a + wait + b
    # The speeds the device reported: 36 km/h driving, 0 waiting.
    speeds = [0.0] + [36.0] * (len(a) - 1) + [0.0] * len(wait) + [36.0] * len(b)
    t = track(fixes, speeds)
    assert t.stops == ()
    # Moving: the two drives (5 and 4 steps of 10 s) and the steps into and out of the wait
    # (a reported speed at one end), not the scatter in it.
    assert t.moving_s == 50 + 10 + 10 + 40, t.moving_s
    assert math.isclose(t.distance_m, 1000, rel_tol=0.02), t.distance_m
    # With a 3-minute minimum it is a stop.
    assert len(track(fixes, speeds, stop_min_s=180).stops) == 1
    # Without reported speeds the step's own speed decides: scatter at 10-s fixes passes for
    # moving now and then (2.5 m of scatter makes 3.5-m steps, 0.35 m/s on average), so a
    # device that reports its speed is counted better.
    assert 90 <= track(fixes).moving_s <= 110 + 0.5 * 240


def test_moving_means_what_the_history_downsampler_means() -> None:
    """The history keeps a fix where a device starts or stops (feeds/steps/positions.py):
    by the same speed that moves it here."""
    assert Downsampler().stop_kmh == MOVING_MIN_KMH


def test_stops_at_the_windows_start_and_end_are_marked_open() -> None:
    first = park(T0, 0, 600)
    mid = drive(first[-1][0], 0, 1000, 10.0)
    last = park(mid[-1][0] + 10, 1000, 400)
    t = track(first + mid + last)
    assert [(s.open_start, s.open_end) for s in t.stops] == [(True, False), (False, True)]
    assert t.stops[0].start == T0 and t.stops[1].end == last[-1][0]
    # Parked the whole window: one stop, open at both ends.
    whole = track(park(T0, 0, 3600, scatter_m=3.0))
    assert len(whole.stops) == 1 and whole.stops[0].open_start and whole.stops[0].open_end
    assert whole.distance_m == 0.0 and whole.moving_s == 0.0


def test_a_gap_counts_its_straight_line_but_not_its_time() -> None:
    a = [(T0, LAT, LON), *drive(T0, 0, 1000, 10.0)]
    # The tracker was off for 20 minutes; it reappears 3 km further north.
    b = [(a[-1][0] + 1200 + k * 10, north(4000 + k * 100), LON) for k in range(0, 11)]
    t = track(a + b)
    assert t.gaps == 1
    assert math.isclose(t.distance_m, 1000 + 3000 + 1000, rel_tol=1e-3)
    assert t.moving_s == 100 + 100
    # A gap at the same place is part of a stop (a parked vehicle whose tracker sleeps).
    p = [(T0, LAT, LON), (T0 + 30, LAT, LON), (T0 + 7200, north(5), LON), (T0 + 7230, LAT, LON)]
    s = track(p)
    assert len(s.stops) == 1 and s.stops[0].duration_s == 7230 and s.gaps == 0 and s.distance_m == 0


def test_a_walking_collector_at_30_s_fixes_moves_and_does_not_stop() -> None:
    # 1.2 m/s, the history's 30-s resolution: 36 m between fixes, inside the stop radius for a
    # couple of fixes only; it must not look like a stop.
    fixes = [(T0, LAT, LON), *drive(T0, 0, 1800, 1.2, every_s=30.0)]
    t = track(fixes)
    assert t.stops == ()
    assert math.isclose(t.distance_m, 1800, rel_tol=0.01) and math.isclose(t.moving_s, 1500, abs_tol=30)


def test_the_defaults_are_the_documented_ones() -> None:
    assert (STOP_MIN_S, STOP_RADIUS_M, GAP_S, MOVING_MIN_MPS) == (300.0, 50.0, 300.0, 0.5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 400), st.floats(-300, 300), st.floats(-300, 300)), min_size=0, max_size=80),
       st.sampled_from([60.0, 300.0]))
def test_stops_never_overlap_lie_inside_the_window_and_totals_are_bounded(steps, stop_min) -> None:
    """Any track: stops in order and apart, each inside the fixes' time span and at least the
    minimum long; the moving time never more than the span, the distance never more than the sum
    of every step."""
    t, fixes = T0, []
    for dt, dy, dx in steps:
        t += dt
        y = (fixes[-1][1] if fixes else LAT) + dy * M_LAT
        x = (fixes[-1][2] if fixes else LON) + dx * M_LAT
        fixes.append((t, y, x))
    found = stops(fixes, stop_min)
    for a, b in zip(found, found[1:], strict=False):
        # Apart: no fix in two stops. Two fixes may share a time (a device sends a second place
        # in the same second), so one stop may end at the instant the next starts.
        assert a.end <= b.start and (a.end < b.start or a.fixes + b.fixes <= len(fixes))
    for s in found:
        assert s.duration_s >= stop_min and fixes[0][0] <= s.start and s.end <= fixes[-1][0]
    tr = track(fixes, stop_min_s=stop_min)
    span = fixes[-1][0] - fixes[0][0] if fixes else 0.0
    total = sum(haversine_m(a[1], a[2], b[1], b[2]) for a, b in zip(fixes, fixes[1:], strict=False))
    assert 0 <= tr.moving_s <= span + 1e-6
    assert 0 <= tr.distance_m <= total + 1e-6
