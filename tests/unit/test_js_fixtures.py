"""The fixtures that hold the browser's JavaScript to the Python rules: every row of
tests/js/fixtures/*.json is what Python computes, so the node tests in tests/js (which check the
JS against the same rows) hold the JS to Python through them.

- lights.json: ``dashboard.casework.overdue.light_at`` (the overdue light from the boundaries
  the server sends) against assets/gridwall-live.js;
- gcj02.json: ``dashboard.geo.wgs84_to_gcj02`` and ``out_of_china`` against
  assets/gridwall-geometry.js.

After a deliberate change of the Python rule, rewrite them with
``.venv/bin/python tests/unit/test_js_fixtures.py --write`` and look at the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from dashboard import geo
from dashboard.casework.overdue import light_at

FIXTURES = Path(__file__).resolve().parents[1] / "js" / "fixtures"
T = 1795233600.0  # a due instant (the example in docs/architecture.md); the rows are placed around it

# (due, warn_at, suspended, now): the boundaries (exactly at warn_at, exactly at due), around
# them, suspended cases (grey, never red), and cases without a clock.
LIGHT_CASES: list[tuple[float | None, float | None, bool, float]] = [
    (T, T - 720, False, T - 3600),        # long before: green
    (T, T - 720, False, T - 720.001),     # just before warn_at: green
    (T, T - 720, False, T - 720),         # exactly at warn_at: yellow
    (T, T - 720, False, T - 1),           # between: yellow
    (T, T - 720, False, T),               # exactly at due: not red, still yellow
    (T, T - 720, False, T + 0.001),       # just past due: red
    (T, T - 720, False, T + 86400),       # long past: red
    (T, T, False, T),                     # warn_at = due, at due: yellow
    (T, None, False, T - 1),              # no warn instant: green until due ...
    (T, None, False, T),                  # ... also at due ...
    (T, None, False, T + 1),              # ... then red
    (T + 0.5, T - 0.25, False, T + 0.5),  # fractional boundaries, exactly at due
    (T, T - 720, True, T + 86400),        # suspended past due: grey, never red
    (T, T - 720, True, T - 3600),         # suspended before: grey
    (None, None, True, T),                # suspended without a clock: grey
    (None, None, False, T),               # no clock runs: no light
]

# WGS-84 points: cities across China, the corners of the box the formulas apply in (exactly on
# its edges, which are inside, and just past them), and places outside it.
GCJ_POINTS: list[tuple[float, float]] = [
    (30.2700, 120.1600), (30.237148, 120.110123), (30.302403, 120.20993),  # the demo city
    (39.9087, 116.3975), (22.5431, 114.0579), (43.8256, 87.6168), (31.2304, 121.4737),
    (45.8038, 126.5350), (18.2528, 109.5119), (29.6520, 91.1721),
    (0.8293, 72.004), (55.8271, 137.8347), (0.8292, 100.0), (55.8272, 100.0), (30.0, 72.0039), (30.0, 137.8348),
    (48.8566, 2.3522), (0.0, 0.0), (-33.8688, 151.2093),
]


def light_rows() -> list[dict[str, Any]]:
    rows = []
    for due, warn_at, suspended, now in LIGHT_CASES:
        light = light_at(due, warn_at, suspended, now)
        rows.append({"due": due, "warn_at": warn_at, "suspended": suspended, "now": now,
                     "light": None if light is None else light.value})
    return rows


def gcj_rows() -> list[dict[str, Any]]:
    rows = []
    for lat, lon in GCJ_POINTS:
        glat, glon = geo.wgs84_to_gcj02(lat, lon)
        rows.append({"lat": lat, "lon": lon, "gcj_lat": glat, "gcj_lon": glon, "out_of_china": geo.out_of_china(lat, lon)})
    return rows


def load(name: str) -> list[dict[str, Any]]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_every_light_row_is_pythons_light_at() -> None:
    rows = load("lights.json")
    assert len(rows) >= len(LIGHT_CASES)
    for row in rows:
        light = light_at(row["due"], row["warn_at"], row["suspended"], row["now"])
        assert (None if light is None else light.value) == row["light"], row


def test_the_light_rows_hold_the_boundaries() -> None:
    """Rows exactly at warn_at (yellow) and exactly at due (not red) are there, and every light."""
    rows = load("lights.json")
    at_warn = [r for r in rows if r["warn_at"] is not None and r["now"] == r["warn_at"] and not r["suspended"]]
    at_due = [r for r in rows if r["due"] is not None and r["now"] == r["due"] and not r["suspended"]]
    assert at_warn and all(r["light"] == "yellow" for r in at_warn)
    assert at_due and all(r["light"] != "red" for r in at_due)
    assert {r["light"] for r in rows} == {"green", "yellow", "red", "grey", None}


def test_every_gcj02_row_is_pythons_wgs84_to_gcj02() -> None:
    rows = load("gcj02.json")
    assert len(rows) >= len(GCJ_POINTS)
    for row in rows:
        assert geo.wgs84_to_gcj02(row["lat"], row["lon"]) == pytest.approx((row["gcj_lat"], row["gcj_lon"]), abs=1e-12), row
        assert geo.out_of_china(row["lat"], row["lon"]) is row["out_of_china"], row
    assert {r["out_of_china"] for r in rows} == {True, False}


def test_the_fixtures_are_up_to_date() -> None:
    """The committed rows are the ones this module would write (none forgotten, none stale)."""
    assert load("lights.json") == light_rows()
    assert load("gcj02.json") == gcj_rows()


def write() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, rows in (("lights.json", light_rows()), ("gcj02.json", gcj_rows())):
        text = "[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n"
        (FIXTURES / name).write_text(text, encoding="utf-8")


if __name__ == "__main__" and "--write" in sys.argv:
    write()
