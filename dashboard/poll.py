"""The wall's poll: one HTTP request per screen per tick brings everything that changed.

``GET /wall/poll?v=<live version>&b=<board version>`` answers::

    {"now": server time, "kpi": {...},
     "live": <live_payload or null>, "board": <the board or null>, "b": <board version or null>}

Every part is JSON already stored in Redis, joined as bytes: Python parses nothing and nothing
is computed per client. The browser (assets/gridwall-poll.js) parses it once and hands each part
to the code that draws it.

Why not a ``dcc.Interval`` and callbacks: each Interval tick is an input change that the Dash
renderer appends to its undo history (``history.past`` in dash-renderer's reducer, never
trimmed), so a wall polling twice a second grew its heap by ~28 KB a minute forever. A plain
fetch loop also makes one request per tick instead of one per callback.
"""

from __future__ import annotations

import time

from dashboard.store.board import board_store
from dashboard.store.hot import RESET_MARK, HotStore

# A screen this many versions behind gets the whole picture rather than a pile of deltas.
MAX_DELTAS = 20


def live_payload(hot: HotStore, client_version: int | None, trail_points: int = 0,
                 trails_upto: int | None = None) -> tuple[bytes, int] | None:
    """What a screen at ``client_version`` needs to be current, as JSON the browser parses
    itself (assets/gridwall-map.js), or None when it is already current.

    Deltas: ``{"v": version, "now": server time, "deltas": [delta, ...]}``, each delta one
    tick's ``{"devices": [doc], "cases": [doc], "alerts": [doc], "cases_gone": [id],
    "alerts_gone": [id]}`` (keys only when not empty), in version order. The full picture:
    ``{"v", "now", "full": [device doc], "cases": [doc], "alerts": [doc], "trails": {id:
    "lon,lat;..."}}``: it replaces everything the screen had. Trails (the newest
    ``trail_points`` positions of each device, newest first) ride along only when there are
    at most ``trails_upto`` point objects, because above that the map shows clusters, not
    trails; afterwards the browser extends them from the positions the deltas bring."""
    current = hot.version()
    if client_version == current:
        return None  # (the ingest's first tick moves a fresh or rebuilt picture past version 0)
    now = b"%.3f" % time.time()
    deltas = None
    if client_version is not None and 0 < current - client_version <= MAX_DELTAS:
        deltas = hot.deltas(client_version, current)
        if deltas and any(d.startswith(b"{" + RESET_MARK) for d in deltas):
            deltas = None  # a version that stands for "take the whole picture"
    if deltas is not None:
        return b'{"v":%d,"now":%s,"deltas":[%s]}' % (current, now, b",".join(deltas)), current
    # Behind, new, or Redis was reset: skip the backlog and send the newest state.
    devices, cases, alerts = hot.picture_raw()
    trails = b""
    if trail_points > 0 and (trails_upto is None or len(devices) + len(cases) <= trails_upto):
        trails = hot.trails_raw(list(devices), trail_points)
    body = b'{"v":%d,"now":%s,"full":[%s],"cases":[%s],"alerts":[%s],"trails":{%s}}' % (
        current, now, b",".join(devices.values()), b",".join(cases), b",".join(alerts), trails)
    return body, current


def parse_version(raw: str | None) -> int | None:
    """A version from the query string; anything that is not a whole number means "none yet"
    (the screen then gets the whole picture, which is always a safe answer)."""
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def poll_body(hot: HotStore, live_version: int | None, board_version: int | None,
              trail_points: int = 0, trails_upto: int | None = None) -> bytes:
    """The answer to one poll (see the module's docstring)."""
    live = live_payload(hot, live_version, trail_points, trails_upto)
    board = board_store(hot).payload(board_version)
    kpi = hot.kpi_raw() or b"{}"
    return b'{"now":%.3f,"kpi":%s,"live":%s,"board":%s,"b":%s}' % (
        time.time(), kpi,  # type: ignore[str-bytes-safe]
        live[0] if live else b"null",
        board[0] if board else b"null",
        b"%d" % board[1] if board else b"null",
    )
