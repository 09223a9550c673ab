"""The desk's replay (docs/desk.md "Replay"): what the page at /desk/replay is given for a choice
of devices and a window, and how a request names them.

- ``ReplayQuery.from_args``: the request's arguments, checked (a refusal has a reason and a
  sentence: ``ReplayError``), the window in UTC epoch seconds.
- ``replay_model``: per device its fixes as compact arrays ``[t, lat, lon]`` (``t``: seconds
  after the window's start, to the millisecond; lat/lon as stored, WGS-84), its stops with their
  place, its distance and moving time (dashboard/casework/tracks.py), and a summary.
- ``choices``: what there is to choose from (types, departments' vehicles, collector teams).
- ``window_defaults``: the page's first window (the last hour) and "last night" (21:00-06:00),
  in the city's time zone.

No SQL and no Redis here: the rows come from dashboard/store/replay.py. Personal data is masked
by the caller's ``Masking`` (a collector is a person: its name; device ids become aliases for a
masked role), on the server. A district-limited principal gets only the fixes inside its
districts (by the unit grid each falls in, the rule the live map applies to a device's last
fix): a device that drives out leaves a gap, one that never came in is not listed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from dashboard import limits
from dashboard.access.masking import Masking
from dashboard.access.scope import Scope
from dashboard.casework.gridcode import region_code
from dashboard.casework.tracks import GAP_S, Stop, track
from dashboard.screens.names import Names
from dashboard.store.replay import Device, Fixes

KINDS: Final = ("vehicle", "collector")
ARGS: Final = ("devices", "kind", "subtype", "department", "from", "to", "stop_min", "lang")
DEVICES_NAMED_MAX: Final = 200  # ids in one ``devices=`` list
STOP_MIN_RANGE: Final = (1, 240)  # minutes a request may ask a stop to last
NIGHT: Final = (21, 6)  # "last night": 21:00 to 06:00, the muck trucks' permit window
GridOf = Callable[[float, float], str | None]  # (lat, lon) -> the unit grid's code


class ReplayError(Exception):
    def __init__(self, reason: str, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.status = reason, detail, status


def _text(name: str, value: str, most: int) -> str:
    if not value or len(value) > most or not value.isprintable():
        raise ReplayError("bad_query", f"{name}: 1 to {most} printable characters")
    return value


def parse_time(name: str, value: str, tz: str) -> float:
    """A time as a request gives it: epoch seconds, or ISO 8601 ("2026-10-14T21:00", with or
    without seconds; without an offset it is the city's local time, as the page's fields are)."""
    value = value.strip()
    if not value or len(value) > 40:
        raise ReplayError("bad_time", f"{name}: a time, e.g. 2026-10-14T21:00")
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise ReplayError("bad_time", f"{name}: a time, e.g. 2026-10-14T21:00")
        return number
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ReplayError("bad_time", f"{name}: {value[:40]!r} is not a time (e.g. 2026-10-14T21:00)") from exc
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(tz))
    return at.timestamp()


def _local(ts: float, tz: str) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class ReplayQuery:
    start: float  # UTC epoch s
    end: float
    devices: tuple[str, ...] | None = None
    kind: str | None = None
    subtype: str | None = None
    department: str | None = None
    stop_min_s: float | None = None  # None: the configured replay_stop_min_s

    @classmethod
    def from_args(cls, args: Mapping[str, str], now: float, tz: str, *, max_window_s: float, retention_s: float,
                  future_skew_s: float) -> ReplayQuery:
        """The request's arguments, checked. Refused (``ReplayError``, 400): an unknown argument,
        no choice of devices, a value too long, an unreadable time, a window that is reversed,
        empty, in the future (its end more than ``future_skew_s`` ahead of ``now``: a browser's
        clock may run a little fast), longer than ``max_window_s``, or starting before the
        retained history (``retention_s`` before ``now``)."""
        unknown = sorted(k for k in args if k not in ARGS)
        if unknown:
            raise ReplayError("bad_query", f"unknown argument {unknown[0][:32]!r}; known: {', '.join(ARGS)}")
        devices = kind = subtype = department = None
        if args.get("devices"):
            named = [d.strip() for d in _text("devices", args["devices"], 64 * DEVICES_NAMED_MAX).split(",") if d.strip()]
            if not named or len(named) > DEVICES_NAMED_MAX or any(len(d) > limits.DEVICE_ID for d in named):
                raise ReplayError("bad_query", f"devices: 1 to {DEVICES_NAMED_MAX} ids, comma-separated")
            devices = tuple(dict.fromkeys(named))
        if args.get("kind"):
            kind = args["kind"]
            if kind not in KINDS:
                raise ReplayError("bad_query", f"kind: one of {', '.join(KINDS)}")
        if args.get("subtype"):
            subtype = _text("subtype", args["subtype"], limits.SUBTYPE)
            if kind not in (None, "vehicle"):
                raise ReplayError("bad_query", "subtype: a vehicle's; kind must be vehicle or left out")
            kind = "vehicle"
        if args.get("department"):
            department = _text("department", args["department"], limits.DEPARTMENT)
        if devices is not None and (kind or department):
            raise ReplayError("bad_query", "devices names them: no kind, subtype or department with it")
        if devices is None and kind is None and department is None:
            raise ReplayError("bad_query", "choose the devices: devices, kind, subtype or department")
        stop_min_s = None
        if args.get("stop_min"):
            try:
                minutes = int(args["stop_min"])
            except ValueError:
                minutes = 0
            low, high = STOP_MIN_RANGE
            if not low <= minutes <= high:
                raise ReplayError("bad_query", f"stop_min: whole minutes, {low} to {high}")
            stop_min_s = minutes * 60.0
        if not args.get("from") or not args.get("to"):
            raise ReplayError("bad_time", "from and to: the window's start and end")
        start, end = parse_time("from", args["from"], tz), parse_time("to", args["to"], tz)
        if end < start:
            raise ReplayError("window_reversed", "to is before from")
        if end == start:
            raise ReplayError("window_empty", "from and to are the same time")
        if start >= now or end > now + future_skew_s:
            raise ReplayError("window_in_future", f"the history ends now ({_local(now, tz)}); a replay cannot look ahead")
        if end - start > max_window_s:
            raise ReplayError("window_too_long", f"at most {max_window_s / 3600:g} hours at a time")
        if start < now - retention_s:
            raise ReplayError("before_retention", f"the history is kept for {retention_s / 86400:g} days: from "
                                                  f"{_local(now - retention_s, tz)} on")
        return cls(start, min(end, now), devices, kind, subtype, department, stop_min_s)

    def args(self) -> dict[str, Any]:
        """The choice as its arguments (what names it in the answer and in the page's address)."""
        out: dict[str, Any] = {"from": self.start, "to": self.end}
        for key in ("kind", "subtype", "department"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.devices is not None:
            out["devices"] = ",".join(self.devices)
        if self.stop_min_s is not None:
            out["stop_min"] = round(self.stop_min_s / 60)
        return out


def _stop(s: Stop, start: float, grid_of: GridOf, names: Names) -> dict[str, Any]:
    lat, lon = round(s.lat, 6), round(s.lon, 6)  # the place as the page gets it, and named by it
    grid = grid_of(lat, lon)
    street = names.place(grid)
    doc: dict[str, Any] = {"t0": round(s.start - start, 3), "t1": round(s.end - start, 3), "s": round(s.duration_s),
                           "lat": lat, "lon": lon, "street_zh": street[0], "street_en": street[1]}
    if grid is not None:
        doc["grid_code"] = grid
        doc["grid_zh"], doc["grid_en"] = names.area(grid)
    if s.open_start:
        doc["open_start"] = True
    if s.open_end:
        doc["open_end"] = True
    return doc


def _in_scope(ts: list[float], lat: list[float], lon: list[float], speed: list[float | None], scope: Scope,
              grid_of: GridOf) -> tuple[list[float], list[float], list[float], list[float | None]]:
    """The fixes inside the scope's districts (the unit grid each falls in)."""
    keep = [k for k in range(len(ts)) if (g := grid_of(lat[k], lon[k])) is not None
            and scope.sees({"district": region_code(g, "district")})]
    return [ts[k] for k in keep], [lat[k] for k in keep], [lon[k] for k in keep], [speed[k] for k in keep]


def replay_model(query: ReplayQuery, devices: Sequence[Device], fixes: Fixes, now: float, names: Names, masking: Masking,
                 scope: Scope, grid_of: GridOf, stop_min_s: float, gap_s: float = GAP_S) -> dict[str, Any]:
    """What the page gets: the devices with their fixes, stops, distance and moving time, and a
    summary. ``stop_min_s``: the query's, else the configured minimum; ``gap_s``: the step beyond
    which nothing is interpolated (the page draws the device dimmed there), which the page is
    told too."""
    start = query.start
    stop_min = query.stop_min_s if query.stop_min_s is not None else stop_min_s
    out: list[dict[str, Any]] = []
    total_m = total_s = 0.0
    n_stops = n_fixes = with_fixes = 0
    for d in devices:
        ts, lat, lon = fixes.ts.get(d.device_id, []), fixes.lat.get(d.device_id, []), fixes.lon.get(d.device_id, [])
        speed = fixes.speed.get(d.device_id, [])
        if not scope.whole:
            ts, lat, lon, speed = _in_scope(ts, lat, lon, speed, scope, grid_of)
            if not ts:
                continue  # never in the caller's districts in this window: not theirs to see
        points = list(zip(ts, lat, lon, strict=True))
        tr = track(points, speed, stop_min_s=stop_min, gap_s=gap_s)
        shown = masking.device({"id": d.device_id, "name": d.name})
        dept = names.department(d.department) if d.department else ("", "")
        doc: dict[str, Any] = {
            "id": shown["id"], "kind": d.kind, "subtype": d.subtype, "name": shown.get("name"),
            "department": d.department, "dept_zh": dept[0], "dept_en": dept[1],
            # Tuples made by zip in C (orjson writes them as arrays): 250,000 lists made one by one
            # would cost as much again in the garbage collector's passes over them.
            "fixes": list(zip([round(t - start, 3) for t in ts], lat, lon, strict=True)),
            "distance_m": round(tr.distance_m), "moving_s": round(tr.moving_s), "gaps": tr.gaps,
            "stops": [_stop(s, start, grid_of, names) for s in tr.stops],
        }
        out.append(doc)
        total_m += tr.distance_m
        total_s += tr.moving_s
        n_stops += len(tr.stops)
        n_fixes += len(points)
        with_fixes += 1 if points else 0
    out.sort(key=lambda doc: str(doc["id"]))
    return {
        "now": now, "from": query.start, "to": query.end, "query": query.args(), "stop_min_s": stop_min, "gap_s": gap_s,
        "devices": out,
        "summary": {"devices": len(out), "with_fixes": with_fixes, "fixes": n_fixes, "distance_m": round(total_m),
                    "moving_s": round(total_s), "stops": n_stops, "cut": fixes.cut},
    }


def choices(groups: Sequence[tuple[str, str | None, str | None, int]], names: Names) -> dict[str, Any]:
    """What the page offers: the vehicle types and the departments with vehicles or collectors
    (a department's vehicles, a collector team), with how many devices each has."""
    types: dict[str, int] = {}
    departments: dict[str, dict[str, Any]] = {}
    for kind, subtype, department, n in groups:
        if kind == "vehicle" and subtype:
            types[subtype] = types.get(subtype, 0) + n
        if department:
            zh, en = names.department(department)
            entry = departments.setdefault(department, {"code": department, "zh": zh, "en": en, "vehicle": 0, "collector": 0})
            if kind in KINDS:
                entry[kind] += n
    return {"types": [{"subtype": s, "n": n} for s, n in sorted(types.items())],
            "departments": sorted(departments.values(), key=lambda e: e["code"])}


def window_defaults(now: float, tz: str) -> dict[str, str]:
    """The page's first window, the last hour, and last night (21:00-06:00; before 06:00 the
    night before), as the page's fields take them: local ``YYYY-MM-DDTHH:MM``."""
    zone = ZoneInfo(tz)
    here = datetime.fromtimestamp(now, zone)
    fmt = "%Y-%m-%dT%H:%M"
    evening, morning = NIGHT
    night_end = here.replace(hour=morning, minute=0, second=0, microsecond=0)
    if here < night_end:
        night_end -= timedelta(days=1)
    night_start = (night_end - timedelta(days=1)).replace(hour=evening)
    # Wall-clock arithmetic in the zone (no DST in China; elsewhere replace() keeps the wall time).
    return {"from": datetime.fromtimestamp(now - 3600, zone).strftime(fmt), "to": here.strftime(fmt),
            "night_from": night_start.strftime(fmt), "night_to": night_end.strftime(fmt)}
