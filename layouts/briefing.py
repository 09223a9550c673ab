"""The briefing (docs/briefing.md): the wall's fixed 1920×1080 canvas, the live map behind, and
one section per scene stacked on one stage. Every scene's DOM is here from the start and the
browser (assets/gridwall-briefing.js) cross-fades between them, so a scene change moves nothing
and a chart is drawn before its scene shows.

Layout only: the scenes' figures come from /briefing/data and the live ones (today, the map,
the vehicles) with the wall's own poll, at /briefing/poll."""

from __future__ import annotations

from typing import Any

import orjson
from dash import dcc, html

from dashboard.contract import BRIEFING_CHART_PREFIX, BRIEFING_POLL_URL, briefing_contract, page_contract
from dashboard.i18n import t
from layouts import panels
from layouts.wall import live_map, title_bar

POLL_MS = 1000  # the live figures and the map behind: once a second is plenty for a tour


def _title(city: str, lang: str) -> html.Div:
    """The wall's title bar (its clock, date and data age are the wall's ids and code), titled
    for the briefing."""
    bar = title_bar(city, lang)
    bar.children[1].children = t("bf_page_title", lang)
    return bar


def _head(title: str, note: Any = "") -> html.Div:
    return html.Div([html.Div(title, className="gw-bf-h1"), html.Div(note, className="gw-bf-note")],
                    className="gw-bf-head")


def _stat(label: str, unit: str = "", slot: str = "") -> html.Div:
    return html.Div([html.Div(label, className="gw-bf-stat-label"),
                     html.Div([html.Span("—", className="gw-bf-v", **{"data-slot": slot}),
                               html.Span(unit, className="gw-bf-unit")], className="gw-bf-stat-value")],
                    className="gw-bf-stat")


def _scene(kind: str, key: str, lang: str) -> html.Section:
    body: list[Any]
    if kind == "city":
        body = [_head(t("bf_city_title", lang)),
                html.Div([_stat(t("bf_area", lang), t("bf_unit_km2", lang), "area_km2"),
                          _stat(t("bf_streets", lang), "", "streets"),
                          _stat(t("bf_grids", lang), "", "grids"),
                          _stat(t("bf_collectors", lang), "", "collectors"),
                          _stat(t("bf_vehicles", lang), "", "vehicles"),
                          _stat(t("bf_year_cases", lang), "", "year_reported"),
                          _stat(t("bf_year_closed", lang), "", "year_closed"),
                          _stat(t("close_rate", lang), "", "year_close_rate")], className="gw-bf-stats")]
    elif kind == "today":
        # The wall's own tiles and counters (ids of dashboard/contract.py), written by
        # gridwall-panels.js and gridwall-kpi.js from the same poll as the wall's.
        body = [_head(t("bf_today_title", lang)), panels.today_panel(lang),
                html.Div([panels.kpi("open_cases", lang), panels.kpi("overdue", lang, "red"),
                          panels.kpi("warn", lang, "yellow"), panels.kpi("collectors", lang),
                          panels.kpi("vehicles", lang)], className="gw-bf-kpis")]
    elif kind == "trend":
        body = [_head(t("bf_trend_title", lang)),
                dcc.Graph(id=BRIEFING_CHART_PREFIX + key, className="gw-bf-chart",
                          config={"staticPlot": True, "displayModeBar": False, "responsive": False},
                          figure={"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)",
                                                         "plot_bgcolor": "rgba(0,0,0,0)"}})]
    elif kind == "evaluation":
        body = [_head(t("bf_eval_title", lang)),
                html.Div([html.Div([html.Div("", className="gw-bf-h2"),
                                    html.Div([html.Span(t("bf_pos", lang)), html.Span(t("department", lang)),
                                              html.Span(t("col_score", lang)), html.Span(t("col_grade", lang))],
                                             className="gw-bf-thead"),
                                    html.Div(className="gw-bf-rows")],
                                   className="gw-bf-table", **{"data-slot": period})
                          for period in ("month", "quarter")], className="gw-bf-tables")]
    elif kind == "case":
        body = [_head(t("bf_case_title", lang)),
                html.Div([html.Div(className="gw-bf-case-facts"), html.Div(className="gw-bf-steps"),
                          html.Div(className="gw-bf-photos")], className="gw-bf-case")]
    elif kind == "supervision":
        body = [_head(t("bf_sup_title", lang)),
                html.Div([_stat(t("bf_muck_watched", lang), "", "muck_online"),
                          _stat(t("bf_muck_alarms", lang), "", "muck_truck"),
                          _stat(t("bf_alarms", lang), "", "total")], className="gw-bf-stats gw-bf-stats3"),
                html.Div(className="gw-bf-bars")]
    else:  # video
        body = [_head(t("bf_video_title", lang)),
                html.Div([_stat(t("bf_video_total", lang), "", "total"),
                          _stat(t("sev_critical", lang), "", "critical"),
                          _stat(t("sev_alert", lang), "", "alert")], className="gw-bf-stats gw-bf-stats3"),
                html.Div(className="gw-bf-bars")]
    return html.Section(body, className=f"gw-bf-scene gw-bf-s-{kind}",
                        **{"data-scene": key, "data-kind": kind})


def layout(settings: Any, lang: str, meta: dict[str, Any], scenes: list[dict[str, Any]], masked: bool) -> html.Div:
    """The briefing's page; ``scenes``: ``[{"key", "kind", "seconds"}]`` in the tour's order."""
    city = meta.get("name_zh" if lang == "zh" else "name_en") or meta.get("name_zh") or "gridwall"
    return html.Div(
        [
            html.Div(
                [
                    html.Div(live_map(meta, settings), className="gw-bf-map"),
                    html.Div(className="gw-bf-veil"),
                    _title(city, lang),
                    html.Div([_scene(s["kind"], s["key"], lang) for s in scenes],
                             id="gw-bf-stage", className="gw-bf-stage"),
                    html.Div([html.Div(id="gw-bf-dots", className="gw-bf-dots"),
                              html.Div(t("bf_paused", lang), id="gw-bf-paused", className="gw-bf-paused")],
                             className="gw-bf-foot"),
                ],
                id="gw-canvas",
                className="gw-canvas gw-bf",
                # The wall's settings (gridwall-core.js, -poll.js, -map.js read them) and the
                # briefing's own: its scenes, data route and words (gridwall-briefing.js).
                **{"data-lang": lang, "data-tz": settings.timezone, "data-aspect": "16x9",
                   "data-poll-ms": str(POLL_MS), "data-poll-url": BRIEFING_POLL_URL,
                   "data-feed-quiet": orjson.dumps(settings.feed_quiet).decode(),
                   "data-contract": orjson.dumps(page_contract(lang)).decode(),
                   "data-briefing": orjson.dumps(briefing_contract(lang, scenes, masked)).decode()},
            ),
        ],
        className="gw-screen",
    )
