"""The desk's replay routes (docs/desk.md "Replay"): what the page at /desk/replay fetches.

- ``GET /desk/api/replay?devices=<id,...>|kind=<vehicle|collector>&subtype=<s>&department=<code>
  &from=<time>&to=<time>[&stop_min=<minutes>]``: the choice's fixes in the window, their stops,
  distances and moving times (dashboard/screens/replay.py ``replay_model``). Times are ISO 8601
  in the city's zone (``2026-10-14T21:00``) or epoch seconds. A refusal is a 400 with its
  reason and a sentence (``bad_query``, ``bad_time``, ``window_reversed``, ``window_empty``,
  ``window_in_future``, ``window_too_long``, ``before_retention``, ``too_many_devices``,
  ``too_many_fixes``); ids SQL does not know are a 404 ``no_such_device``.
- ``GET /desk/api/replay/options``: what there is to choose from (types, departments' vehicles,
  collector teams, with their device counts).

Both need ``see.desk`` (ROUTES in dashboard/access/web.py): the guard refuses the request
itself. Masking (a collector's name; device ids as aliases for a masked role, who then names
devices by their aliases) and districts are applied here, on the server. A big answer is
gzipped when the browser takes it (700 vehicles for an hour are ~7 MB of JSON, ~2 MB gzipped).
"""

from __future__ import annotations

import gzip
import time
from typing import Final

import flask
import orjson
from sqlalchemy import Engine

from dashboard.access.masking import Masking
from dashboard.access.web import Guard
from dashboard.casedata import load_grid_index
from dashboard.casework.gridindex import GridIndex
from dashboard.casework.tracks import GAP_S
from dashboard.config import Settings
from dashboard.screens.names import load_names
from dashboard.screens.replay import ReplayError, ReplayQuery, choices, replay_model
from dashboard.store import replay as history

JSON = "application/json"
REPLAY_RATE: Final = "30/minute"  # a replay reads up to a million rows: a person's pace, not a script's
GZIP_ABOVE: Final = 64 * 1024  # bytes; below, compressing costs more than it saves on a LAN
ALL_DEVICES: Final = 100_000  # read to match aliases (a masked role names devices by them); > max_devices


def _json(body: bytes, status: int = 200) -> flask.Response:
    resp = flask.Response(body, status=status, mimetype=JSON, headers={"Cache-Control": "no-store"})
    if len(body) > GZIP_ABOVE and "gzip" in flask.request.headers.get("Accept-Encoding", ""):
        # Level 1: ~70 ms for 7 MB on this machine's core, a third of the bytes.
        resp.set_data(gzip.compress(body, compresslevel=1, mtime=0))
        resp.headers["Content-Encoding"] = "gzip"
        resp.headers["Vary"] = "Accept-Encoding"
    return resp


def _refused(exc: ReplayError) -> flask.Response:
    return _json(orjson.dumps({"reason": exc.reason, "detail": exc.detail}), exc.status)


def install(server: flask.Flask, guard: Guard, settings: Settings, engine: Engine) -> None:
    names = load_names(settings.city_dir)
    grids_path = settings.city_dir / "grids.json"
    index: GridIndex | None = load_grid_index(grids_path) if grids_path.exists() else None

    def grid_of(lat: float, lon: float) -> str | None:
        return index.lookup(lon, lat) if index is not None else None

    # A coarser history cannot be interpolated over a single missed fix: widen the gap with it.
    gap_s = max(GAP_S, 4 * settings.history_interval_s)

    def masking() -> Masking:
        return Masking.for_role(guard.principal().masked, guard.alias_key, settings.mask_address)  # type: ignore[arg-type]

    def chosen(query: ReplayQuery, mask: Masking) -> list[history.Device]:
        if query.devices is not None:
            wanted = set(query.devices)
            if mask.active:  # a masked role knows the aliases only, never the ids
                found = [d for d in history.devices(engine, limit=ALL_DEVICES) if mask.device_id(d.device_id) in wanted]
                shown = {mask.device_id(d.device_id) for d in found}
            else:
                found = history.devices(engine, ids=query.devices)
                shown = {d.device_id for d in found}
            missing = [d for d in query.devices if d not in shown]
            if missing:
                raise ReplayError("no_such_device", f"no device {missing[0][:64]!r} in the history", 404)
            return found
        found = history.devices(engine, kind=query.kind, subtype=query.subtype, department=query.department)
        if len(found) > history.DEVICES_MAX:
            raise ReplayError("too_many_devices", f"more than {history.DEVICES_MAX} devices: narrow the choice")
        return found

    @server.get("/desk/api/replay")
    @guard.limit(REPLAY_RATE)
    def _replay() -> flask.Response:
        now = time.time()
        principal, mask = guard.principal(), masking()
        try:
            query = ReplayQuery.from_args(flask.request.args, now, settings.timezone,
                                          max_window_s=settings.replay_max_window_h * 3600.0,
                                          retention_s=settings.history_retention_days * 86400.0,
                                          future_skew_s=settings.future_skew_s)
            devices = chosen(query, mask)
            fixes = history.fixes(engine, [d.device_id for d in devices], query.start, query.end,
                                  settings.replay_max_fixes)
            if fixes.cut:
                raise ReplayError("too_many_fixes", f"more than {settings.replay_max_fixes:,} positions: "
                                                    "a shorter window or fewer devices")
        except ReplayError as exc:
            return _refused(exc)
        model = replay_model(query, devices, fixes, now, names, mask, principal.scope, grid_of,
                             settings.replay_stop_min_s, gap_s)
        return _json(orjson.dumps(model))

    @server.get("/desk/api/replay/options")
    @guard.limit(settings.poll_rate)
    def _replay_options() -> flask.Response:
        return _json(orjson.dumps(choices(history.groups(engine), names)))
