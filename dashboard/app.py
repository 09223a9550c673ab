"""The Dash application factory. Callbacks are thin: one small Redis read per screen per tick,
and `no_update` when nothing changed. Nothing is computed per client."""

from __future__ import annotations

import time
from typing import Any

import dash
import flask
import orjson
from dash import Dash, Input, Output, State, html, no_update

from dashboard.config import ASSETS_DIR, Settings, load_settings
from dashboard.health import health
from dashboard.i18n import pick_lang
from dashboard.store.hot import HotStore, connect

# A screen this many versions behind gets the whole picture rather than a pile of deltas.
MAX_DELTAS = 20


def live_payload(hot: HotStore, client_version: int | None) -> tuple[str, int] | None:
    """What a screen at ``client_version`` needs to be current, as a JSON string the browser
    parses itself: {"v": version, "full": [...devices]} or {"v": version, "deltas": [...]}.
    None when it is already current."""
    current = hot.version()
    if client_version == current and current:
        return None
    deltas = None
    if client_version is not None and 0 < current - client_version <= MAX_DELTAS:
        deltas = hot.deltas(client_version, current)
    if deltas is not None:
        body = b'{"v":%d,"deltas":[%s]}' % (current, b",".join(deltas))
    else:
        # Behind, new, or Redis was reset: skip the backlog and send the newest state.
        body = b'{"v":%d,"full":[%s]}' % (current, b",".join(hot.devices_raw()))
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
    dash.register_page("wall", path="/", layout=lambda lang="zh", **_: wall.layout(settings, pick_lang(lang), city_meta), title="gridwall")
    app.layout = html.Div([dash.page_container])
    server: flask.Flask = app.server

    @server.get("/healthz")
    def _healthz() -> flask.Response:
        body, status = health(hot, settings.resolved_database_url)
        return flask.Response(orjson.dumps(body), status=status, mimetype="application/json")

    @app.callback(
        Output("gw-live", "data"),
        Output("gw-ver", "data"),
        Input("gw-tick", "n_intervals"),
        State("gw-ver", "data"),
    )
    def _live(_n: int, version: int | None) -> tuple[Any, Any]:
        result = live_payload(hot, version)
        return (no_update, no_update) if result is None else result

    @app.callback(Output("gw-kpi", "data"), Input("gw-tick", "n_intervals"))
    def _kpi(_n: int) -> str:
        raw = hot.r.get("{gw}:snap:kpi") or b"{}"
        return f'{{"now":{time.time():.3f},"kpi":{raw.decode()}}}'

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
