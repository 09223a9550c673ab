"""The wall's poll: one HTTP request per screen per tick brings everything that changed.

``GET /wall/poll?v=<live version>&b=<board version>`` answers::

    {"now": server time, "kpi": {...},
     "live": <live_payload or null>, "board": <the board or null>, "b": <board version or null>,
     "build": <page_build()>}

Every part is JSON already stored in Redis, joined as bytes: Python parses nothing and nothing
is computed per client. The browser (assets/gridwall-poll.js) parses it once and hands each part
to the code that draws it.

No picture, no 200: when Redis is down, or up but holding no KPI snapshot yet (a fresh or
reset Redis that ingest has not filled), the answer is ``503`` with ``{"now", "reason":
"redis_down" | "no_picture"}``. An empty picture would be drawn as dashes, and a page that
had a picture would throw it away; on a 503 the page keeps what it shows, marks it stale and
asks again (assets/gridwall-watchdog.js). A 200 carries ``"build"``, a hash of what the page
is made of (``page_build``): a page that sees another build in a usable answer reloads, since
the server was redeployed and has a picture for the new page.

Why not a ``dcc.Interval`` and callbacks: each Interval tick is an input change that the Dash
renderer appends to its undo history (``history.past`` in dash-renderer's reducer, never
trimmed), so a wall polling twice a second grew its heap by ~28 KB a minute forever. A plain
fetch loop also makes one request per tick instead of one per callback.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import orjson

from dashboard.access.masking import Masking
from dashboard.access.scope import CITY_SCOPE, Scope
from dashboard.config import ASSETS_DIR
from dashboard.store.board import board_store
from dashboard.store.hot import MAX_DELTAS, REDIS_DOWN, RESET_MARK, HotStore

log = logging.getLogger(__name__)
NO_MASKING = Masking.none()


# Per process, shared by every screen it serves: the newest whole pictures and masked deltas,
# by (masking, scope, version). A flood of bogus or stale versions then costs a dictionary lookup, not a
# Redis read of every device, and N masked walls mask each delta once, not N times.
_FULL_KEEP = 4
_DELTA_KEEP = MAX_DELTAS + 10  # the versions a screen may be behind, and a few cut meanwhile
# A whole picture is keyed by the KPI snapshot too, which carries the tick's time: a Redis that
# was reset counts its versions from 1 again, and must never be answered with a picture of the
# old one under the same number.
_full: OrderedDict[tuple[int, str, int, int, int | None, bytes], bytes] = OrderedDict()
_masked_deltas: OrderedDict[tuple[int, str, int, int], bytes] = OrderedDict()


def _remember(cache: OrderedDict[Any, bytes], key: Any, value: bytes, keep: int) -> bytes:
    cache[key] = value
    while len(cache) > keep:
        cache.popitem(last=False)
    return value


def live_payload(hot: HotStore, client_version: int | None, trail_points: int = 0,
                 trails_upto: int | None = None, masking: Masking = NO_MASKING,
                 kpi: bytes | None = None, scope: Scope = CITY_SCOPE) -> tuple[bytes, int] | None:
    """What a screen at ``client_version`` needs to be current, as JSON the browser parses
    itself (assets/gridwall-map.js), or None when it is already current.

    Deltas: ``{"v": version, "now": server time, "deltas": [delta, ...]}``, each delta one
    tick's ``{"devices": [doc], "cases": [doc], "alerts": [doc], "cases_gone": [id],
    "alerts_gone": [id]}`` (keys only when not empty), in version order. The full picture:
    ``{"v", "now", "full": [device doc], "cases": [doc], "alerts": [doc], "trails": {id:
    "lon,lat;..."}}``: it replaces everything the screen had. Trails (the newest
    ``trail_points`` positions of each device, newest first) ride along only when there are
    at most ``trails_upto`` point objects, because above that the map shows clusters, not
    trails; afterwards the browser extends them from the positions the deltas bring.

    ``masking``: the principal's (dashboard/access/masking.py), applied here, on the server,
    before a byte leaves: a masked screen never receives a clear name, phone or device id.
    ``scope``: the principal's districts (dashboard/access/scope.py), applied first, the same
    way: a limited screen never receives another district's doc."""
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
        if masking.active or not scope.whole:
            first = (client_version or 0) + 1
            # Keyed by the delta's hash as well: a reset Redis reuses version numbers.
            deltas = [_masked_deltas.get((id(masking), scope.key, v, hash(d))) or
                      _remember(_masked_deltas, (id(masking), scope.key, v, hash(d)), _cut(d, masking, scope),
                                _DELTA_KEEP)
                      for v, d in enumerate(deltas, start=first)]
        return b'{"v":%d,"now":%s,"deltas":[%s]}' % (current, now, b",".join(deltas)), current
    # Behind, new, a bogus version, or Redis was reset: skip the backlog and send the newest
    # state, built once per version (and masking) for every screen that needs it.
    key = (id(masking), scope.key, current, trail_points, trails_upto, kpi or hot.kpi_raw() or b"")
    cached = _full.get(key) if key[-1] else None
    if cached is not None:
        return cached, current
    devices, cases, alerts = hot.picture_raw()
    if not scope.whole:
        devices = {i: d for i, d in devices.items() if scope.sees(orjson.loads(d))}
        cases = [c for c in cases if scope.sees(orjson.loads(c))]
        alerts = [a for a in alerts if scope.sees(orjson.loads(a))]
    trails = b""
    if trail_points > 0 and (trails_upto is None or len(devices) + len(cases) <= trails_upto):
        trails = hot.trails_raw(list(devices), trail_points)
    device_docs = list(devices.values())
    if masking.active:
        device_docs = [masking.device_bytes(d) for d in device_docs]
        cases = [masking.case_bytes(c) for c in cases]
        alerts = [masking.alert_bytes(a) for a in alerts]
        trails = masking.trails_bytes(trails)
    body = b'{"v":%d,"now":%s,"full":[%s],"cases":[%s],"alerts":[%s],"trails":{%s}}' % (
        current, now, b",".join(device_docs), b",".join(cases), b",".join(alerts), trails)
    return (_remember(_full, key, body, _FULL_KEEP) if key[-1] else body), current


def _cut(delta: bytes, masking: Masking, scope: Scope) -> bytes:
    """A stored delta cut to the scope, then masked (a ``"reset"`` mark stays first: orjson
    keeps the keys' order)."""
    if scope.whole:
        return masking.live_bytes(delta)
    return orjson.dumps(masking.live(scope.live(orjson.loads(delta))))


def parse_version(raw: str | None) -> int | None:
    """A version from the query string; anything that is not a whole number means "none yet"
    (the screen then gets the whole picture, which is always a safe answer)."""
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def page_build(roots: tuple[Path, ...] | None = None) -> str:
    """What the wall's page is made of, as 12 hex digits: its scripts and styles (assets/) and
    the Python that renders it (layouts/, the contract and the words). Computed once per
    process, so every worker of one deployment sends the same; a redeploy that changes any of
    them changes it, and the screens reload onto the new page (assets/gridwall-watchdog.js)."""
    here = Path(__file__).resolve().parent
    roots = roots or (ASSETS_DIR, here.parent / "layouts")
    files = [p for root in roots for p in sorted(root.glob("*")) if p.suffix in (".js", ".css", ".py")]
    files += [here / "contract.py", here / "i18n.py"]
    digest = hashlib.sha1(usedforsecurity=False)
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


PAGE_BUILD = page_build()


def poll_body(hot: HotStore, live_version: int | None, board_version: int | None,
              trail_points: int = 0, trails_upto: int | None = None, kpi: bytes | None = None,
              masking: Masking = NO_MASKING, scope: Scope = CITY_SCOPE) -> bytes:
    """The answer to one poll (see the module's docstring); ``kpi``: the snapshot already read
    (the scope's, for a district-limited screen)."""
    kpi = kpi or hot.kpi_raw() or b"{}"
    live = live_payload(hot, live_version, trail_points, trails_upto, masking, kpi, scope)
    board = board_store(hot).payload(board_version, scope.key)
    return b'{"now":%.3f,"kpi":%s,"live":%s,"board":%s,"b":%s,"build":"%s"}' % (
        time.time(), kpi,  # type: ignore[str-bytes-safe]
        live[0] if live else b"null",
        board[0] if board else b"null",
        b"%d" % board[1] if board else b"null",
        PAGE_BUILD.encode(),
    )


# Whether this process last found Redis down: the outage is logged once, not twice a second
# per screen.
_down = False


def poll_answer(hot: HotStore, live_version: int | None, board_version: int | None,
                trail_points: int = 0, trails_upto: int | None = None,
                masking: Masking = NO_MASKING, scope: Scope = CITY_SCOPE) -> tuple[bytes, int]:
    """The poll's body and HTTP status: 200 with the answer, or 503 with ``{"now", "reason"}``
    when there is no picture to give (see the module's docstring). A district-limited screen
    gets its scope's KPI and board, which the ingest worker builds once it has asked
    (``want_scope``); until the first is there, it has no picture yet."""
    global _down
    try:
        kpi = scope_kpi(hot, scope)
        body = poll_body(hot, live_version, board_version, trail_points, trails_upto, kpi, masking, scope) if kpi else None
    except REDIS_DOWN as exc:
        if not _down:
            log.warning("the wall's poll: Redis is down (%s); screens keep their last picture", exc)
        _down = True
        return unavailable("redis_down"), 503
    if _down:
        log.warning("the wall's poll: Redis is back")
    _down = False
    if body is None:
        return unavailable("no_picture"), 503  # Redis is up but empty: ingest has not filled it yet
    return body, 200


def scope_kpi(hot: HotStore, scope: Scope) -> bytes | None:
    """The title bar's counters as stored: the city's, or a district scope's (built by the
    ingest worker once the scope is wanted; asked for here)."""
    if scope.whole:
        return hot.kpi_raw()
    kpi = board_store(hot).kpi_raw(scope.key)
    want_scope(hot, scope, again=kpi is None)
    return kpi


def board_answer(hot: HotStore, board_version: int | None, scope: Scope = CITY_SCOPE) -> tuple[bytes, int]:
    """The KPI and the board without the live picture (the desk's numbers): ``{"now", "kpi",
    "board", "b"}``, or a 503 as the poll gives one (no picture: Redis down or not filled)."""
    try:
        kpi = scope_kpi(hot, scope)
        if not kpi:
            return unavailable("no_picture"), 503
        board = board_store(hot).payload(board_version, scope.key)
    except REDIS_DOWN:
        return unavailable("redis_down"), 503
    return b'{"now":%.3f,"kpi":%s,"board":%s,"b":%s}' % (
        time.time(), kpi, board[0] if board else b"null", b"%d" % board[1] if board else b"null"), 200


# Per process and Redis: when each scope last said it is wanted. Once every WANT_EVERY_S is
# enough for the builder, which keeps building for SCOPE_WANTED_S (dashboard/store/board.py);
# at once when its KPI is missing (a first screen, or a Redis that was reset).
WANT_EVERY_S = 30.0
_wanted: dict[tuple[int, str], float] = {}


def want_scope(hot: HotStore, scope: Scope, now: float | None = None, again: bool = False) -> None:
    now = time.time() if now is None else now
    key = (id(hot), scope.key)
    if again or now - _wanted.get(key, 0.0) >= WANT_EVERY_S:
        board_store(hot).want(scope.codes, now)
        _wanted[key] = now


def unavailable(reason: str) -> bytes:
    """The body of a 503: the server's clock and why there is no picture."""
    return b'{"now":%.3f,"reason":"%s"}' % (time.time(), reason.encode())
