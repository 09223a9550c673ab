"""The supervision's rules on constructed tracks (dashboard/casework/supervision.py): each
threshold crossed, stayed just under and just over; jitter at a zone's edge and a corridor's
(hysteresis: no flapping); a gap in fixes; fixes out of order; each alarm starts once and ends
once with its duration."""

from __future__ import annotations

import pytest

from dashboard.casework.supervision import (
    IDLE,
    OFFLINE,
    OUT_OF_AREA,
    OVERSPEED,
    ROUTE,
    STOP,
    ZONE,
    CollectorLimits,
    Facts,
    Limits,
    WatchState,
    at_task_place,
    in_hours,
    observe,
    observe_collector,
    said,
    silent,
)

LIM = Limits(speed_limit_kmh=60, overspeed_min_s=10, route_buffer_m=50, deviation_min_s=120,
             max_stop_outside_site_s=600, watch_stops=True, offline_after_s=300, edge_m=20, gap_s=300)
NONE = Facts()


def run(track, limits=LIM, state=None):
    """track: (ts, speed, facts) or (ts, speed, facts, lat, lon); the changes as (rule, key, phase, start, at)."""
    state = state or WatchState()
    out = []
    for item in track:
        ts, speed, facts = item[:3]
        lat, lon = item[3:5] if len(item) > 3 else (30.0, 120.0)
        out += [(c.rule, c.key, c.phase, c.start, c.at) for c in observe(state, ts, lat, lon, speed, facts, limits)]
    return out, state


# --- overspeed ------------------------------------------------------------------------------------

def test_overspeed_for_just_the_minimum_is_not_an_alarm_and_just_over_it_is():
    under, _ = run([(0, 70, NONE), (5, 70, NONE), (10, 70, NONE), (11, 50, NONE)])
    assert under == []  # over the limit for 10 s: not "longer than 10 s"
    over, state = run([(0, 70, NONE), (5, 70, NONE), (10.5, 70, NONE), (20, 50, NONE)])
    assert over == [(OVERSPEED, "", "start", 0, 10.5), (OVERSPEED, "", "end", 0, 20)]
    assert state.open == {} and state.pending == {}


def test_at_the_limit_is_not_over_it():
    assert run([(t, 60, NONE) for t in range(0, 60, 5)])[0] == []


def test_a_speed_that_hovers_at_the_limit_does_not_flap():
    # Over for long enough, then around the limit (59..61): one alarm, ended only well under it.
    track = [(t, 70, NONE) for t in range(0, 20, 5)] + [(20 + i * 5, 59 + (i % 3), NONE) for i in range(12)]
    track.append((100, 50, NONE))
    changes, _ = run(track)
    assert [c[2] for c in changes] == ["start", "end"] and changes[-1][4] == 100


def test_a_fix_without_a_speed_says_nothing_either_way():
    changes, state = run([(0, 70, NONE), (8, None, NONE), (12, 70, NONE)])
    assert changes == [(OVERSPEED, "", "start", 0, 12)]


def test_a_zone_may_lower_the_limit():
    slow = Facts(speed_limit_kmh=30)
    assert run([(0, 40, slow), (11, 40, slow)])[0] == [(OVERSPEED, "", "start", 0, 11)]
    assert run([(0, 40, NONE), (11, 40, NONE)])[0] == []


# --- gaps and order -------------------------------------------------------------------------------

def test_a_gap_restarts_a_pending_condition_but_not_a_raised_alarm():
    # Over at 0, then nothing for 400 s (> gap_s): at 400 the condition starts again.
    changes, _ = run([(0, 70, NONE), (5, 70, NONE), (405, 70, NONE), (410, 70, NONE), (416, 70, NONE)])
    assert changes == [(OVERSPEED, "", "start", 405, 416)]
    # Raised, then a gap: still the one alarm, ended by the first fix under the limit.
    changes, _ = run([(0, 70, NONE), (11, 70, NONE), (500, 70, NONE), (505, 40, NONE)])
    assert changes == [(OVERSPEED, "", "start", 0, 11), (OVERSPEED, "", "end", 0, 505)]


def test_fixes_out_of_order_change_nothing():
    changes, state = run([(0, 70, NONE), (20, 50, NONE), (11, 70, NONE), (15, 70, NONE)])
    assert changes == [] and state.ts == 20
    changes, state = run([(0, 70, NONE), (5, 70, NONE), (5, 70, NONE), (11, 70, NONE)])
    assert changes == [(OVERSPEED, "", "start", 0, 11)]  # a repeat of a time is not a new fix


# --- forbidden zones ------------------------------------------------------------------------------

def test_entering_a_forbidden_zone_is_an_alarm_at_once_and_leaving_ends_it():
    inside = Facts(forbidden=frozenset({"old-town"}))
    changes, _ = run([(0, 30, NONE), (10, 30, inside), (20, 30, inside), (70, 30, NONE)])
    assert changes == [(ZONE, "old-town", "start", 10, 10), (ZONE, "old-town", "end", 10, 70)]


def test_jitter_at_a_zone_edge_does_not_flap():
    inside = Facts(forbidden=frozenset({"Z"}))
    edge = Facts(forbidden_near=frozenset({"Z"}))  # just outside, within edge_m
    track = [(0, 20, inside)] + [(10 * i, 20, edge if i % 2 else inside) for i in range(1, 20)] + [(300, 20, NONE)]
    changes, _ = run(track)
    assert changes == [(ZONE, "Z", "start", 0, 0), (ZONE, "Z", "end", 0, 300)]
    # Near the edge without having been in: no alarm.
    assert run([(0, 20, edge), (10, 20, edge)])[0] == []


def test_two_zones_are_two_alarms():
    both = Facts(forbidden=frozenset({"A", "B"}))
    changes, _ = run([(0, 20, both), (10, 20, Facts(forbidden=frozenset({"B"}))), (20, 20, NONE)])
    assert changes == [(ZONE, "A", "start", 0, 0), (ZONE, "B", "start", 0, 0), (ZONE, "A", "end", 0, 10),
                       (ZONE, "B", "end", 0, 20)]


# --- route deviation ------------------------------------------------------------------------------

def off(m: float) -> Facts:
    return Facts(route_m={"R1": m})  # metres outside the corridor (negative: inside it)


def test_off_the_corridor_for_longer_than_the_minimum():
    assert run([(0, 30, off(10)), (60, 30, off(10)), (120, 30, off(10)), (121, 30, off(-40))])[0] == []
    changes, _ = run([(0, 30, off(10)), (60, 30, off(10)), (121, 30, off(10)), (200, 30, off(-30))])
    assert changes == [(ROUTE, "", "start", 0, 121), (ROUTE, "", "end", 0, 200)]


def test_jitter_at_the_corridor_edge_does_not_flap():
    track = [(t, 30, off(5)) for t in range(0, 130, 10)]
    track += [(130 + 10 * i, 30, off(-5 if i % 2 else 3)) for i in range(10)]  # in and out by metres
    track.append((300, 30, off(-25)))
    changes, _ = run(track)
    assert [c[2] for c in changes] == ["start", "end"] and changes[-1][4] == 300


def test_the_nearest_of_two_assigned_routes_counts():
    both = Facts(route_m={"R1": 400, "R2": -10})
    assert run([(t, 30, both) for t in range(0, 300, 30)])[0] == []


# --- stops outside the sites ----------------------------------------------------------------------

def test_a_stop_outside_the_sites_for_longer_than_the_minimum():
    lat, lon = 30.25, 120.15
    # Stopped from 0, creeping a few metres (GPS drift): 600 s is not longer than 600 s.
    track = [(t, 0.5, NONE, lat + (t % 3) * 0.00001, lon) for t in range(0, 601, 30)]
    assert run(track)[0] == []
    track.append((630, 0.0, NONE, lat, lon))
    track.append((700, 25.0, NONE, lat + 0.001, lon))
    changes, _ = run(track)
    assert changes == [(STOP, "", "start", 0, 630), (STOP, "", "end", 0, 700)]


def test_a_stop_at_a_site_is_the_job():
    site = Facts(at_site=True)
    assert run([(t, 0.0, site) for t in range(0, 3600, 60)])[0] == []


def test_stops_are_only_watched_where_the_type_says():
    track = [(t, 0.0, NONE) for t in range(0, 3600, 60)]
    assert run(track, Limits(watch_stops=False))[0] == []


def test_moving_on_and_stopping_again_starts_a_new_stop():
    a, b = (30.25, 120.15), (30.26, 120.15)  # a kilometre apart
    track = [(t, 0.0, NONE, *a) for t in range(0, 500, 50)] + [(t, 0.0, NONE, *b) for t in range(500, 1200, 50)]
    changes, _ = run(track)
    assert changes == [(STOP, "", "start", 500, 1150)]


# --- off the air, and the platforms' own alarms ---------------------------------------------------

def test_silent_on_duty_is_an_alarm_from_the_last_fix_and_the_next_fix_ends_it():
    _, state = run([(0, 30, NONE), (30, 30, NONE)])
    assert silent(state, 330, True, 300) == []  # 300 s: not longer than
    assert [(c.rule, c.phase, c.start) for c in silent(state, 331, True, 300)] == [(OFFLINE, "start", 30)]
    assert silent(state, 400, True, 300) == []  # raised once
    changes, _ = run([(900, 30, NONE)], state=state)
    assert changes == [(OFFLINE, "", "end", 30, 900)]


def test_silent_off_duty_is_not_an_alarm():
    _, state = run([(0, 0, NONE)])
    assert silent(state, 5000, False, 300) == [] and state.open == {}


def test_a_platform_alarm_starts_once_and_ends_once():
    state = WatchState()
    assert [c.phase for c in said(state, ZONE, "7", "start", 10, 30.0, 120.0)] == ["start"]
    assert said(state, ZONE, "7", "start", 12, 30.0, 120.0) == []  # told twice
    ended = said(state, ZONE, "7", "end", 70, 30.0, 120.0)
    assert [(c.phase, c.start, c.duration_s) for c in ended] == [("end", 10, 60)]
    assert said(state, ZONE, "7", "end", 80, None, None) == []  # an end without a start
    assert [c.phase for c in said(state, "device_alarm", "sos", "once", 90, None, None)] == ["once"]


def test_the_state_survives_its_json():
    _, state = run([(0, 70, NONE), (11, 70, NONE), (20, 70, Facts(forbidden=frozenset({"Z"})))])
    again = WatchState.from_json(state.to_json())
    assert again == state
    assert WatchState.from_json(WatchState().to_json()) == WatchState()


def test_hours_past_midnight():
    night = ((22 * 60, 6 * 60),)
    assert in_hours(night, 23 * 60) and in_hours(night, 5 * 60 + 59) and not in_hours(night, 6 * 60)
    assert in_hours(((7 * 60, 22 * 60),), 7 * 60) and not in_hours(((7 * 60, 22 * 60),), 22 * 60)


def test_every_rule_has_its_words_and_its_severity():
    from dashboard.casework.supervision import RULE_SEVERITY, RULE_TYPES, RULES
    from dashboard.i18n import TEXT

    assert set(RULE_TYPES) == set(RULES) == set(RULE_SEVERITY)
    for rule, zh in RULE_TYPES.items():
        entry = TEXT[f"alert_type_{zh}"]
        assert entry["zh"] == zh and entry["en"] and entry["en"] != zh, rule


# --- collectors -----------------------------------------------------------------------------------

CL = CollectorLimits(out_of_area_s=600, idle_s=1200, idle_radius_m=30, offline_after_s=300, gap_s=300)


def walk(track, state=None):
    """track: (ts, on_duty, in_area, metres north of a start); the changes and the day's adds."""
    state = state or WatchState()
    out, secs, metres = [], 0.0, 0.0
    for ts, on, area, north in track:
        changes, duty = observe_collector(state, ts, 30.25 + north / 111_195.0, 120.15, on, area, CL)
        out += [(c.rule, c.phase, c.start, c.at) for c in changes]
        secs += duty.in_area_s
        metres += duty.metres
    return out, secs, metres, state


def test_out_of_area_for_longer_than_the_minimum_on_duty_only():
    out = [(t, True, False, t) for t in range(0, 601, 60)]  # moving, outside, 600 s: not longer
    assert walk(out)[0] == []
    changes = walk(out + [(630, True, False, 700), (700, True, True, 800)])[0]
    assert changes == [(OUT_OF_AREA, "start", 0, 630), (OUT_OF_AREA, "end", 0, 700)]
    assert walk([(t, False, False, t) for t in range(0, 3600, 60)])[0] == []  # off duty: its own time
    assert walk([(t, True, None, t) for t in range(0, 3600, 60)])[0] == []  # no area assigned: not judged


def test_idle_on_duty_counts_from_when_duty_began():
    still = [(t, True, True, (t % 2) * 5) for t in range(0, 1201, 60)]  # GPS wander of 5 m
    assert walk(still)[0] == []  # 1,200 s: not longer
    changes = walk(still + [(1260, True, True, 0), (1300, True, True, 500)])[0]
    assert changes == [(IDLE, "start", 0, 1260), (IDLE, "end", 0, 1300)]
    # Lunch at one spot: off duty from 12:00 to 14:00 does not count; 14:00 starts the clock.
    lunch = [(0, True, True, 0), (600, False, True, 0), (7200, False, True, 0), (7260, True, True, 0)]
    lunch += [(7260 + k * 60, True, True, 0) for k in range(1, 21)]  # 20 min on duty after lunch
    assert walk(lunch)[0] == []


def test_still_at_a_task_s_place_is_work_and_idleness_counts_from_when_the_place_stopped_counting():
    """The idle rule's "not at a task's place": still at the place of a 核实 task is the work; when
    the task's place stops counting the clock starts then, not when the collector stopped."""
    state = WatchState()
    place = [(30.25, 120.15, 0.0)]  # sent at 0, at the collector's own spot
    limits = CollectorLimits(idle_s=1200, idle_radius_m=30, task_radius_m=50, task_place_s=1800, gap_s=300)
    out = []
    for ts in range(0, 3601, 60):
        at = at_task_place(place, ts, 30.25, 120.15, limits)
        assert at == (ts < 1800)
        changes, _ = observe_collector(state, ts, 30.25, 120.15, True, True, limits, at)
        out += [(c.rule, c.phase, c.start, c.at) for c in changes]
    # At the place until 1,800 s; idle from then, longer than 1,200 s at 3,060 s.
    assert out == [(IDLE, "start", 1800, 3060)]
    # 60 m away is not the task's place; a place sent in the future (clock skew) does not count.
    assert not at_task_place(place, 60, 30.25 + 60 / 111_195.0, 120.15, limits)
    assert not at_task_place([(30.25, 120.15, 500.0)], 60, 30.25, 120.15, limits)
    # An idle alarm that is open ends when a task is sent to where the collector stands.
    state = WatchState()
    for ts in range(0, 1400, 60):
        observe_collector(state, ts, 30.25, 120.15, True, True, limits, False)
    assert IDLE in {k.split("|")[0] for k in state.open}
    changes, _ = observe_collector(state, 1440, 30.25, 120.15, True, True, limits, True)
    assert [(c.rule, c.phase) for c in changes] == [(IDLE, "end")]


def test_the_day_counts_time_in_area_on_duty_and_distance():
    track = [(0, True, True, 0), (60, True, True, 60), (120, True, False, 120), (180, True, True, 180),
             (240, False, True, 240), (300, True, True, 300), (700, True, True, 700)]
    _, secs, metres, _ = walk(track)
    # 0-60 and 60-120 in area (as the fix that began each stretch), 120-180 outside, 180-240 in,
    # 240-300 off duty, 300-700 a gap over 300 s: nothing counted across it.
    assert secs == 180
    assert metres == pytest.approx(300, abs=1)  # 0->300 m, then no distance across the gap
