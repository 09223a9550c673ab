"""The desk's replay (/desk/replay, docs/desk.md "Replay"): pick devices and a window, play their
tracks back at 1-60× over the city's offline map with trails, stops and "follow one device", on
a desk monitor (1920×1080) and a phone (390×844).

Layout only: the tree and the words. The tracks arrive from /desk/api/replay
(dashboard/replay_api.py) and are drawn by assets/gridwall-replay.js on a canvas over the map;
the choice is the page's address (``/desk/replay?subtype=muck_truck&from=...&to=...``), so a
replay is a link. The map is the wall's basemap (its styles in assets/gridwall-map.js, named as
layouts/wall.py names them); the page reuses the desk's header, fields and buttons
(assets/gridwall-desk.css).
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
import orjson
from dash import dcc, html

from dashboard.access.principal import Principal
from dashboard.config import Settings
from dashboard.contract import REPLAY_SPEEDS, REPLAY_TRAILS_S, VEHICLE_SUBTYPES, replay_contract
from dashboard.i18n import t
from dashboard.screens.names import load_names
from dashboard.screens.replay import window_defaults
from layouts.wall import BASEMAP_LABEL, BASEMAP_STYLE

DEFAULT_WHAT = "vehicle:muck_truck"  # "what did the muck trucks do last night?"
DEFAULT_SPEED = 60  # a night of 9 hours in 9 minutes
DEFAULT_TRAIL_S = 600


def _field(label: str, control: Any, cls: str = "") -> html.Label:
    return html.Label([html.Span(label, className="gw-d-flabel"), control], className=f"gw-d-field {cls}".strip())


def choice(lang: str) -> html.Form:
    """What to replay and when. The departments (with their device counts) are filled by the
    script from /desk/api/replay/options; the fields' first values are the contract's."""
    what = [(f"vehicle:{s}", t(f"veh_{s}", lang)) for s in VEHICLE_SUBTYPES]
    what += [("vehicle:", t("replay_all_vehicles", lang)), ("collector:", t("replay_collectors", lang)),
             ("devices", t("replay_named", lang))]
    return html.Form([
        _field(t("replay_what", lang), html.Select([html.Option(text, value=v) for v, text in what],
                                                   id="gw-r-f-what", name="what")),
        _field(t("department", lang), html.Select([html.Option(t("desk_all", lang), value="")],
                                                  id="gw-r-f-department", name="department")),
        _field(t("replay_devices", lang), dcc.Input(type="text", id="gw-r-f-devices", name="devices", maxLength=2000,
                                                     placeholder=t("replay_devices_hint", lang)), "gw-r-field-devices"),
        _field(t("replay_from", lang), dcc.Input(type="datetime-local", id="gw-r-f-from", name="from")),
        _field(t("replay_to", lang), dcc.Input(type="datetime-local", id="gw-r-f-to", name="to")),
        _field(t("replay_stop_min", lang), html.Select([html.Option(t("replay_minutes", lang).format(n=n), value=str(n))
                                                        for n in (5, 10, 15, 30, 60)], id="gw-r-f-stop_min",
                                                       name="stop_min")),
        html.Div([
            html.Button(t("replay_load", lang), type="submit", className="gw-d-btn"),
            html.Button(t("replay_last_night", lang), type="button", id="gw-r-lastnight", className="gw-d-btn gw-d-btn-quiet"),
            html.Button(t("replay_last_hour", lang), type="button", id="gw-r-lasthour", className="gw-d-btn gw-d-btn-quiet"),
        ], className="gw-r-buttons"),
    ], id="gw-r-form", className="gw-d-filters gw-r-form", action="/desk/replay", method="get")


def replay_map(settings: Settings) -> html.Div:
    """The city's map as the wall draws it (the bundled offline basemap, or the intranet tiles);
    the tracks are the script's, on a canvas of its own over it."""
    names = load_names(settings.city_dir)
    city = names.city
    layers: list[Any] = []
    if settings.tile_url:
        layers.append(dl.TileLayer(url=settings.tile_url, maxZoom=19, maxNativeZoom=18, attribution=""))
    else:
        layers.append(dl.GeoJSON(url="/assets/city/basemap.json", style=BASEMAP_STYLE, pointToLayer=BASEMAP_LABEL,
                                 id="gw-r-basemap"))
    # As on the wall: positions stay WGS-84 and are shifted on screen only under GCJ-02 tiles.
    shift = "gcj02" if settings.tile_url and settings.tile_crs.lower() == "gcj02" else ""
    leaflet = dl.Map(layers, id="gw-r-map", center=list(city.center) if city else [30.27, 120.16],
                     zoom=city.zoom if city else 14, minZoom=11, maxZoom=19, zoomControl=True,
                     attributionControl=False, className="gw-r-leaflet", trackViewport=False)
    return html.Div(leaflet, id="gw-r-map-box", className="gw-r-map-box", **{"data-shift": shift})


def player(lang: str) -> html.Div:
    def trail_word(seconds: int) -> str:
        if seconds == 0:
            return t("replay_trail_off", lang)
        if seconds < 0:
            return t("replay_trail_all", lang)
        return t("replay_minutes", lang).format(n=seconds // 60)

    return html.Div([
        html.Button(t("replay_play", lang), id="gw-r-play", type="button", className="gw-d-btn gw-r-play", disabled=True),
        dcc.Input(type="range", id="gw-r-slider", min=0, max=1, step=1, className="gw-r-slider", disabled=True),
        html.Span("—", id="gw-r-time", className="gw-r-time"),
        _field(t("replay_speed", lang), html.Select([html.Option(f"{s}×", value=str(s)) for s in REPLAY_SPEEDS],
                                                    id="gw-r-speed")),
        _field(t("replay_trail", lang), html.Select([html.Option(trail_word(s), value=str(s)) for s in REPLAY_TRAILS_S],
                                                    id="gw-r-trail")),
    ], className="gw-r-player")


def layout(settings: Settings, lang: str, principal: Principal, now: float) -> html.Div:
    contract: dict[str, Any] = replay_contract(lang, {**window_defaults(now, settings.timezone),
                                                      "what": DEFAULT_WHAT, "speed": str(DEFAULT_SPEED),
                                                      "trail": str(DEFAULT_TRAIL_S),
                                                      "stop_min": str(round(settings.replay_stop_min_s / 60))})
    other = "en" if lang == "zh" else "zh"
    suffix = "" if lang == "zh" else "?lang=en"
    return html.Div([
        html.Header([
            html.H1(t("replay_title", lang), className="gw-d-title"),
            html.Div(className="gw-d-crumbs"),
            html.Div([
                html.Span(principal.name, className="gw-d-who"),
                html.A(t("replay_desk", lang), href="/desk" + suffix, className="gw-d-link"),
                html.A(t("desk_wall", lang), href="/", className="gw-d-link"),
                html.A(t(f"lang_{other}", lang), className="gw-d-link", href="/desk/replay?lang=" + other),
                html.A(t("logout", lang), href="/login", className="gw-d-link"),
            ], className="gw-d-user"),
        ], className="gw-d-head"),
        html.Main([
            html.Section([choice(lang), html.Div(id="gw-r-error", className="gw-d-error", hidden=True, role="alert")],
                         className="gw-r-top"),
            html.Section([replay_map(settings), player(lang), html.Div(id="gw-r-summary", className="gw-r-summary")],
                         className="gw-r-stage"),
            html.Aside([
                # The followed device and its stops first: what the leader asked to see.
                html.Div(id="gw-r-follow", className="gw-r-follow"),
                html.H2(t("replay_stops", lang), id="gw-r-stops-title", className="gw-d-h2 gw-r-h2"),
                html.Ol(id="gw-r-stops", className="gw-r-stops"),
                html.H2(t("replay_list", lang), className="gw-d-h2 gw-r-h2"),
                html.Ol(id="gw-r-list", className="gw-r-list"),
            ], className="gw-r-side"),
        ], className="gw-r-body"),
    ], id="gw-replay", className="gw-desk gw-replay", lang=lang,
        **{"data-contract": orjson.dumps(contract).decode(), "data-tz": settings.timezone})
