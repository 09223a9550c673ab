"""The Dash application factory: the wall's page, /healthz, and /wall/poll, the one request
per screen per tick that brings what changed (dashboard/poll.py). The wall has no Dash
callbacks of its own: the browser side lives in assets/gridwall-*.js. Nothing is computed per client."""

from __future__ import annotations

from typing import Any

import dash
import flask
import orjson
from dash import Dash, html

from dashboard.config import ASSETS_DIR, Settings, load_settings
from dashboard.health import health
from dashboard.i18n import pick_lang
from dashboard.poll import parse_version, poll_answer
from dashboard.store.hot import HotStore, connect


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

    @server.get("/wall/poll")
    def _poll() -> flask.Response:
        args = flask.request.args
        # 503 when there is no picture to give (Redis down or empty): the screens keep theirs.
        body, status = poll_answer(hot, parse_version(args.get("v")), parse_version(args.get("b")),
                                   trail_points, settings.map_cluster_above)
        return flask.Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})

    return app
