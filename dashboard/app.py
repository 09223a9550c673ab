"""The Dash application factory: the wall's page, /healthz, and /wall/poll, the one request
per screen per tick that brings what changed (dashboard/poll.py). The wall has no Dash
callbacks of its own: the browser side lives in assets/gridwall-*.js. Nothing is computed per client.

Every route is behind the guard of dashboard/access/web.py (docs/access.md): it says who is
asking and refuses what their role may not see."""

from __future__ import annotations

import time
from typing import Any

import dash
import flask
import orjson
from dash import Dash, html
from sqlalchemy.exc import SQLAlchemyError

from dashboard import desk_api, ranks_api, replay_api
from dashboard.access import web as access
from dashboard.access.masking import Masking
from dashboard.briefing_config import Briefing
from dashboard.briefing_config import from_settings as briefing_settings
from dashboard.config import ASSETS_DIR, Settings, load_settings
from dashboard.health import health
from dashboard.i18n import pick_lang
from dashboard.poll import parse_version, poll_answer
from dashboard.screens.names import Names, load_names
from dashboard.store import db
from dashboard.store.hot import HotStore, connect
from dashboard.supervision_config import Supervision
from dashboard.supervision_config import from_settings as supervision_settings


def _city_meta(settings: Settings) -> dict[str, Any]:
    path = settings.city_dir / "city.json"
    return orjson.loads(path.read_bytes()) if path.exists() else {}


def _weekly_page(settings: Settings, guard: Any, lang: str, week: str | None) -> Any:
    from dashboard.screens.weekly import WeekError
    from layouts import weekly

    principal = guard.principal()
    engine = db.engine_for(settings.resolved_database_url)
    try:
        page = desk_api.weekly_answer(engine, settings, principal, week, time.time())
    except WeekError as exc:
        return weekly.layout(settings, lang, principal, None, str(exc))
    return weekly.layout(settings, lang, principal, page, None)


def _collectors_page(settings: Settings, guard: Any, hot: HotStore, lang: str, sup: Supervision, names: Names) -> Any:
    from layouts import collectors

    principal = guard.principal()
    masking = Masking.for_role(principal.masked, guard.alias_key, settings.mask_address)  # type: ignore[arg-type]
    page = desk_api.collectors_answer(db.engine_for(settings.resolved_database_url), settings, hot, principal, masking,
                                      time.time(), sup, names)
    return collectors.layout(settings, lang, principal, page)


def _install_briefing(server: flask.Flask, guard: Any, settings: Settings, hot: HotStore, names: Names,
                      config: Briefing, trail_points: int) -> None:
    """The briefing's routes (docs/briefing.md): ``/briefing/poll``, the wall's poll for the map
    behind and the live figures, and ``/briefing/data``, the scenes' figures (screen model
    dashboard/screens/briefing.py, built at most every ``refresh_s`` per process). Both mask as
    the briefing does: always, unless ``[briefing] masked = false`` and the role is unmasked."""
    from dashboard.screens.briefing import BriefingModel
    from dashboard.store.hot import REDIS_DOWN

    engine = db.engine_for(settings.resolved_database_url)
    models: dict[bool, BriefingModel] = {}

    def masking() -> Masking:
        masked = config.masked or guard.principal().masked
        return Masking.for_role(masked, guard.alias_key, settings.mask_address)  # type: ignore[arg-type]

    @server.get("/briefing/poll")
    @guard.limit(settings.poll_rate)
    def _briefing_poll() -> flask.Response:
        args = flask.request.args
        body, status = poll_answer(hot, parse_version(args.get("v")), parse_version(args.get("b")),
                                   trail_points, settings.map_cluster_above, masking(), guard.principal().scope)
        return flask.Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})

    @server.get("/briefing/data")
    @guard.limit(settings.poll_rate)
    def _briefing_data() -> flask.Response:
        mask = masking()
        model = models.get(mask.active)
        if model is None:
            model = models[mask.active] = BriefingModel(engine, hot, settings, config, names, mask, config.photos)
        try:
            body, status = model.answer(), 200
        except (*REDIS_DOWN, OSError, SQLAlchemyError):
            body, status = b'{"reason":"unavailable"}', 503  # the page keeps the figures it has
        return flask.Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})


def create_app(settings: Settings | None = None) -> Dash:
    from layouts import briefing, desk, replay, wall

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
    server: flask.Flask = app.server
    guard = access.install(server, settings, db.engine_for(settings.resolved_database_url), app.csp_hashes)
    dash.register_page("wall", path="/", title="gridwall", layout=guard.page(
        "/", "see.wall", lambda lang="zh", aspect=None, **_: wall.layout(settings, pick_lang(lang), city_meta, aspect)))
    dash.register_page("desk", path="/desk", title="gridwall · 值班台", layout=guard.page(
        "/desk", "see.desk", lambda lang="zh", **_: desk.layout(settings, pick_lang(lang), guard.principal())))
    dash.register_page("weekly", path="/desk/weekly", title="gridwall · 每周督办清单", layout=guard.page(
        "/desk/weekly", "see.desk", lambda lang="zh", week=None, **_: _weekly_page(settings, guard, pick_lang(lang), week)))
    # The collector page's configuration and names, read once (zone files, rotas, the city).
    sup, names = supervision_settings(settings), load_names(settings.city_dir)
    # The briefing's scenes, checked whole now: a bad list stops the start, not the tour.
    tour = briefing_settings(settings, {d.code for d in names.city.districts} if names.city else None)
    tour_scenes = [{"key": s.key, "kind": s.kind, "seconds": s.seconds} for s in tour.scenes]
    dash.register_page("briefing", path="/briefing", title="gridwall · 工作汇报", layout=guard.page(
        "/briefing", "see.briefing",
        lambda lang="zh", **_: briefing.layout(settings, pick_lang(lang), city_meta, tour_scenes, tour.masked)))
    dash.register_page("collectors", path="/desk/collectors", title="gridwall · 监督员考核", layout=guard.page(
        "/desk/collectors", "see.desk",
        lambda lang="zh", **_: _collectors_page(settings, guard, hot, pick_lang(lang), sup, names)))
    dash.register_page("replay", path="/desk/replay", title="gridwall · 轨迹回放", layout=guard.page(
        "/desk/replay", "see.desk", lambda lang="zh", **_: replay.layout(settings, pick_lang(lang), guard.principal(),
                                                                            time.time())))
    app.layout = html.Div([dash.page_container])
    desk_api.install(server, guard, settings, hot, db.engine_for(settings.resolved_database_url))
    replay_api.install(server, guard, settings, db.engine_for(settings.resolved_database_url))
    ranks_api.install(server, guard, settings, hot, db.engine_for(settings.resolved_database_url))

    @server.get("/healthz")
    def _healthz() -> flask.Response:
        body, status = health(hot, settings.resolved_database_url)
        if not guard.principal().may("admin.health"):
            # Up or down and nothing more: the reject reasons and the parts are the admins'.
            body = {"status": "up" if status == 200 else "down"}
        return flask.Response(orjson.dumps(body), status=status, mimetype="application/json",
                              headers={"Cache-Control": "no-store"})

    # Trails ride along in full pictures only when the map draws them.
    trail_points = settings.map_trail_points if "trails" in settings.map_layer_names else 0
    _install_briefing(server, guard, settings, hot, names, tour, trail_points)

    @server.get("/wall/poll")
    @guard.limit(settings.poll_rate)
    def _poll() -> flask.Response:
        args = flask.request.args
        # 503 when there is no picture to give (Redis down or empty): the screens keep theirs.
        principal = guard.principal()
        masking = Masking.for_role(principal.masked, guard.alias_key, settings.mask_address)  # type: ignore[arg-type]
        body, status = poll_answer(hot, parse_version(args.get("v")), parse_version(args.get("b")),
                                   trail_points, settings.map_cluster_above, masking, principal.scope)
        return flask.Response(body, status=status, mimetype="application/json", headers={"Cache-Control": "no-store"})

    return app
