"""The wall: a fixed 1920×1080 design canvas, scaled to the screen by assets/gridwall-core.js.

Layout only: plain components, no data access. Live values arrive through the stores and are
written into the page by assets/ JS, so a tick never re-renders the component tree (and never
re-creates the map).
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
from dash import dcc, html

from dashboard.i18n import t

# Functions defined in assets/gridwall-map.js, referenced by name (dash-extensions resolves
# {"variable": ...}); no generated JS file is written at import time.
BASEMAP_STYLE = {"variable": "gridwall.map.basemapStyle"}
BOUNDARY_STYLE = {"variable": "gridwall.map.boundaryStyle"}
BASEMAP_LABEL = {"variable": "gridwall.map.basemapLabel"}


def kpi_tile(key: str, lang: str, tone: str = "") -> html.Div:
    return html.Div(
        [html.Div(t(key, lang), className="gw-kpi-label"), html.Div("—", id=f"gw-kpi-{key}", className="gw-kpi-value")],
        className=f"gw-kpi {tone}".strip(),
    )


def title_bar(city_name: str, lang: str) -> html.Div:
    return html.Div(
        [
            html.Div(city_name, className="gw-city"),
            html.Div(t("app_title", lang), className="gw-title"),
            html.Div(
                [
                    html.Span(id="gw-date", className="gw-date"),
                    html.Span(id="gw-clock", className="gw-clock"),
                    html.Span(
                        [html.Span(t("freshness", lang) + " "), html.Span("—", id="gw-fresh-text")],
                        id="gw-fresh", className="gw-fresh",
                    ),
                ],
                className="gw-titlebar-right",
            ),
        ],
        className="gw-titlebar",
    )


def live_map(meta: dict[str, Any], tile_url: str | None) -> dl.Map:
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, maxZoom=19, maxNativeZoom=18, attribution=""))
    else:
        layers.append(dl.GeoJSON(url="/assets/city/basemap.json", style=BASEMAP_STYLE, pointToLayer=BASEMAP_LABEL, id="gw-basemap"))
    layers.append(dl.GeoJSON(url="/assets/city/districts.json", style=BOUNDARY_STYLE, id="gw-districts"))
    return dl.Map(
        layers,
        id="gw-map",
        center=meta.get("center", [30.27, 120.16]),
        zoom=meta.get("zoom", 14),
        minZoom=11,
        maxZoom=19,
        zoomControl=False,
        attributionControl=False,
        className="gw-map",
        # The view belongs to the people in the room: nothing the server sends moves it.
        trackViewport=False,
    )


def layout(settings: Any, lang: str = "zh", meta: dict[str, Any] | None = None) -> html.Div:
    meta = meta or {}
    city = meta.get("name_zh" if lang == "zh" else "name_en") or meta.get("name_zh") or "gridwall"
    return html.Div(
        [
            html.Div(
                [
                    title_bar(city, lang),
                    html.Div(
                        [
                            html.Div([kpi_tile("open_cases", lang), kpi_tile("overdue", lang, "red"), kpi_tile("warn", lang, "yellow")],
                                     className="gw-side gw-left"),
                            html.Div(live_map(meta, settings.tile_url), className="gw-center"),
                            html.Div([kpi_tile("collectors", lang), kpi_tile("vehicles", lang)], className="gw-side gw-right"),
                        ],
                        className="gw-body",
                    ),
                ],
                id="gw-canvas",
                className="gw-canvas",
                **{"data-lang": lang, "data-tz": settings.timezone, "data-tile-crs": settings.tile_crs},
            ),
            dcc.Interval(id="gw-tick", interval=1000),
            dcc.Store(id="gw-ver"),
            dcc.Store(id="gw-live"),
            dcc.Store(id="gw-kpi"),
            dcc.Store(id="gw-live-applied"),
            dcc.Store(id="gw-kpi-applied"),
        ],
        className="gw-screen",
    )
