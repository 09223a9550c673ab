"""The Dash application factory. Callbacks are thin: one small Redis read per screen per tick,
and `no_update` when nothing changed. Nothing is computed per client."""

from __future__ import annotations

import time
from typing import Any

import dash
import flask
import orjson
from dash import Dash, Input, Output, State, html, no_update

from dashboard import board
from dashboard.config import ASSETS_DIR, Settings, load_settings
from dashboard.health import health
from dashboard.i18n import pick_lang
from dashboard.store.hot import RESET_MARK, HotStore, connect

# A screen this many versions behind gets the whole picture rather than a pile of deltas.
MAX_DELTAS = 20


def live_payload(hot: HotStore, client_version: int | None, trail_points: int = 0,
                 trails_upto: int | None = None) -> tuple[str, int] | None:
    """What a screen at ``client_version`` needs to be current, as a JSON string the browser
    parses itself (assets/gridwall-map.js), or None when it is already current.

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
        body = b'{"v":%d,"now":%s,"deltas":[%s]}' % (current, now, b",".join(deltas))
        return body.decode(), current
    # Behind, new, or Redis was reset: skip the backlog and send the newest state.
    devices, cases, alerts = hot.picture_raw()
    trails = b""
    if trail_points > 0 and (trails_upto is None or len(devices) + len(cases) <= trails_upto):
        trails = hot.trails_raw(list(devices), trail_points)
    body = b'{"v":%d,"now":%s,"full":[%s],"cases":[%s],"alerts":[%s],"trails":{%s}}' % (
        current, now, b",".join(devices.values()), b",".join(cases), b",".join(alerts), trails)
    return body.decode(), current


def _city_meta(settings: Settings) -> dict[str, Any]:
    path = settings.city_dir / "city.json"
    return orjson.loads(path.read_bytes()) if path.exists() else {}


def create_app(settings: Settings | None = None) -> Dash:
    from layouts import wall

    settings = settings or load_settings()
    hot = HotStore(connect(settings.resolved_redis_url))
    city_meta = _city_meta(settings)
    app = Dash(
        __name__,
        title="gridwall",
        assets_folder=str(ASSETS_DIR),
        use_pages=True,
        pages_folder="",
        serve_locally=True,
        compress=False,
        update_title=None,  # no "Updating..." flicker in the tab title on every tick
        suppress_callback_exceptions=True,
    )
    dash.register_page("wall", path="/", layout=lambda lang="zh", aspect=None, **_: wall.layout(settings, pick_lang(lang), city_meta, aspect), title="gridwall")
    app.layout = html.Div([dash.page_container])
    server: flask.Flask = app.server

    @server.get("/healthz")
    def _healthz() -> flask.Response:
        body, status = health(hot, settings.resolved_database_url)
        return flask.Response(orjson.dumps(body), status=status, mimetype="application/json")

    # Trails ride along in full pictures only when the map draws them.
    trail_points = settings.map_trail_points if "trails" in settings.map_layer_names else 0

    @app.callback(
        Output("gw-live", "data"),
        Output("gw-ver", "data"),
        Input("gw-tick", "n_intervals"),
        State("gw-ver", "data"),
    )
    def _live(_n: int, version: int | None) -> tuple[Any, Any]:
        result = live_payload(hot, version, trail_points, settings.map_cluster_above)
        return (no_update, no_update) if result is None else result

    @app.callback(Output("gw-kpi", "data"), Input("gw-tick", "n_intervals"))
    def _kpi(_n: int) -> str:
        raw = hot.r.get("{gw}:snap:kpi") or b"{}"
        return f'{{"now":{time.time():.3f},"kpi":{raw.decode()}}}'

    board.register(app, hot.r)  # everything around the map: one read of {gw}:snap:board per tick

    # The browser side lives in assets/gridwall-*.js; these only hand the data over.
    app.clientside_callback(
        "function(d){ return window.gridwall.live.apply(d); }",
        Output("gw-live-applied", "data"),
        Input("gw-live", "data"),
    )
    app.clientside_callback(
        "function(d){ return window.gridwall.kpi.apply(d); }",
        Output("gw-kpi-applied", "data"),
        Input("gw-kpi", "data"),
    )
    return app
