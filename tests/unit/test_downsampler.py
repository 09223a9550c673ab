from dashboard.records import Position
from feeds.steps.positions import Downsampler


def fix(ts: float, heading: float = 90.0, speed: float = 20.0) -> Position:
    return Position("V1", "vehicle", 30.27, 120.16, ts, heading=heading, speed=speed)


def test_keeps_one_fix_per_interval_a_turn_and_a_stop():
    d = Downsampler(interval_s=30, turn_deg=45)
    kept = [d.keep(f) for f in (fix(0), fix(10), fix(31), fix(35, heading=150), fix(40, heading=155),
                                 fix(45, heading=155, speed=0), fix(50, heading=155, speed=0))]
    assert kept == [True, False, True, True, False, True, False]


def test_an_older_fix_is_never_kept_after_a_newer_one():
    d = Downsampler(interval_s=30)
    assert d.keep(fix(100)) and not d.keep(fix(50)) and not d.keep(fix(100))
