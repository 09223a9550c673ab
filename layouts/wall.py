"""The wall: a fixed 1920×1080 design canvas, scaled to the screen by assets/gridwall-core.js.

Layout only: plain components, no data access. Live values arrive by assets/gridwall-poll.js
(one GET of /wall/poll per tick) and are written into the page by assets/ JS, so a tick never
re-renders the component tree (and never re-creates the map).
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
import orjson
from dash import html

from dashboard.contract import page_contract
from dashboard.i18n import t
from layouts import panels

# Twice a second: with the 0.25 s snapshot tick, a fix is on screen within ~0.8 s (p95).
POLL_MS = 500

# Functions defined in assets/gridwall-map.js, referenced by name (dash-extensions resolves
# {"variable": ...}); no generated JS file is written at import time.
BASEMAP_STYLE = {"variable": "gridwall.map.basemapStyle"}
BASEMAP_LABEL = {"variable": "gridwall.map.basemapLabel"}


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


def live_map(meta: dict[str, Any], settings: Any) -> html.Div:
    """The live map. Only the basemap is a Dash component; everything live (devices, trails,
    cases, alerts, clusters) and the boundary layers are drawn by assets/gridwall-map.js, which
    reads its settings from the data-* attributes of the box around the map."""
    tile_url = settings.tile_url
    layers: list[Any] = []
    if tile_url:
        layers.append(dl.TileLayer(url=tile_url, maxZoom=19, maxNativeZoom=18, attribution=""))
    else:
        layers.append(dl.GeoJSON(url="/assets/city/basemap.json", style=BASEMAP_STYLE, pointToLayer=BASEMAP_LABEL, id="gw-basemap"))
    # Positions are kept in WGS-84; GCJ-02 tiles (AMap, Tencent) need them shifted on screen.
    # The bundled basemap is WGS-84, so the shift only ever applies together with tile_url.
    shift = "gcj02" if tile_url and settings.tile_crs.lower() == "gcj02" else ""
    leaflet = dl.Map(
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
    return html.Div(
        leaflet,
        id="gw-map-box",
        className="gw-map-box",
        **{
            "data-layers": ",".join(settings.map_layer_names),
            "data-cluster-above": str(settings.map_cluster_above),
            "data-trail-points": str(settings.map_trail_points),
            "data-grids-min-zoom": str(settings.map_grids_min_zoom),
            "data-shift": shift,
        },
    )


def layout(settings: Any, lang: str = "zh", meta: dict[str, Any] | None = None, aspect: str | None = None) -> html.Div:
    """The wall; ``aspect`` "32x9" gives the 3840×1080 ultra-wide canvas (gw-wide), "16x9" the
    1920×1080 one; unset, assets/gridwall-screen.js picks by the window's shape."""
    meta = meta or {}
    city = meta.get("name_zh" if lang == "zh" else "name_en") or meta.get("name_zh") or "gridwall"
    return html.Div(
        [
            html.Div(
                [
                    title_bar(city, lang),
                    html.Div(
                        [
                            html.Div(panels.left_column(settings, lang), className="gw-side gw-left"),
                            html.Div(live_map(meta, settings), className="gw-center"),
                            html.Div(panels.right_column(settings, lang), className="gw-side gw-right"),
                        ],
                        className="gw-body",
                    ),
                ],
                id="gw-canvas",
                className="gw-canvas gw-wide" if aspect == "32x9" else "gw-canvas",
                # The page's settings, and the contract (dashboard/contract.py): the values and
                # words the browser shares with the Python side (assets/gridwall-core.js reads it).
                **{"data-lang": lang, "data-tz": settings.timezone,
                   "data-aspect": aspect if aspect in ("16x9", "32x9") else "", "data-poll-ms": str(POLL_MS),
                   "data-feed-quiet": orjson.dumps(settings.feed_quiet).decode(),
                   "data-contract": orjson.dumps(page_contract(lang)).decode()},
            ),
        ],
        className="gw-screen",
    )
