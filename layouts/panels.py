"""The wall around the map: the side panels as plain component trees, no data access.

Every live value is written into these elements in place by assets/gridwall-panels.js from the
board snapshot (dashboard/store/board.py); a tick never re-renders them. Texts come from
dashboard.i18n; the few words the browser writes itself (severities, ages, the loading state,
...) ride along in the page's contract (dashboard/contract.py, data-contract on #gw-canvas). The
ids the browser looks for are the contract's too.

16:9 (1920×1080): left, today's counts, the overdue counters and the alert ticker; right, the
online counts, the two rankings and one view at a time of the rotator. 32:9 (3840×1080, the
canvas class gw-wide): the same elements in five columns, the rotator's three views side by side
(assets/gridwall-panels.css).
"""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.contract import LOADING_PANELS, TODAY_KEYS, VEHICLE_COLS, VEHICLE_ROWS
from dashboard.i18n import t

VIEWS = ("hourly", "cats", "vehicles", "collectors")
COLLECTOR_COLS = ("coll_team", "coll_on", "coll_rate", "coll_cover", "coll_km", "coll_alarms")
GRAPH_CONFIG = {"staticPlot": True, "displayModeBar": False, "responsive": False}
EMPTY_FIGURE = {"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
                                       "xaxis": {"visible": False}, "yaxis": {"visible": False},
                                       "margin": {"l": 0, "r": 0, "t": 0, "b": 0}}}


def sound_url(setting: str) -> str:
    """The alert sound's URL: a path under assets/, an absolute path or URL as given, or ""."""
    value = (setting or "").strip()
    if value.lower() in ("", "off", "none", "false", "0"):
        return ""
    if value.startswith(("/", "http://", "https://")):
        return value
    return "/assets/" + value.lstrip("./")


def panel_head(title: str, *extra: Any, **attrs: Any) -> html.Div:
    return html.Div([html.Div(title, className="gw-ph-title"), *extra], className="gw-ph", **attrs)


def loading_box(panel_id: str) -> html.Div:
    """Shown instead of a panel's figures while the history streams in (assets/gridwall-panels.js
    writes its text and fills its bar); absolutely placed, so nothing moves when it shows."""
    return html.Div([html.Div(className="gw-loading-text"), html.Div(html.Div(className="gw-loading-fill"), className="gw-loading-bar")],
                    id=LOADING_PANELS[panel_id], className="gw-loading-box", hidden=True)


def kpi(key: str, lang: str, tone: str = "", *below: Any) -> html.Div:
    """A counter tile written by assets/gridwall-kpi.js (ids gw-kpi-<key>, contract.KPI_KEYS)."""
    return html.Div(
        [html.Div(t(key, lang), className="gw-kpi-label"), html.Div("—", id=f"gw-kpi-{key}", className="gw-kpi-value"), *below],
        className=f"gw-kpi {tone}".strip(),
    )


def today_panel(lang: str) -> html.Div:
    tiles = [
        html.Div([html.Div(t(key, lang), className="gw-tile-label"), html.Div("—", id=f"gw-today-{key}", className="gw-tile-value")],
                 className=f"gw-tile gw-tile-{key}")
        for key in TODAY_KEYS
    ]
    return html.Div([panel_head(t("today", lang)), html.Div(tiles, className="gw-tiles"), loading_box("gw-p-today")],
                    id="gw-p-today", className="gw-panel")


def _table_head(*cells: str) -> html.Div:
    return html.Div([html.Span(c) for c in cells], className="gw-thead")


def overdue_panel(lang: str) -> html.Div:
    def delta(key: str) -> html.Div:
        return html.Div("", id=f"gw-ov-d-{key}", className="gw-delta")

    return html.Div(
        [
            panel_head(t("overdue_title", lang), html.Div("", id="gw-ov-since", className="gw-ph-note")),
            html.Div(
                [
                    kpi("open_cases", lang, "", html.Div([html.Span(t("suspended", lang) + " "), html.Span("—", id="gw-ov-grey")],
                                                         className="gw-delta gw-grey-note")),
                    kpi("overdue", lang, "red", delta("red")),
                    kpi("warn", lang, "yellow", delta("yellow")),
                ],
                className="gw-ov-big",
            ),
            html.Div(
                [
                    html.Div([_table_head(t("district", lang), t("overdue", lang), t("warn", lang)),
                              html.Div(id="gw-ov-district", className="gw-ov-list")], className="gw-ov-table gw-ov-districts"),
                    html.Div([_table_head(t("department", lang), t("overdue", lang), t("warn", lang)),
                              html.Div(id="gw-ov-department", className="gw-ov-list")], className="gw-ov-table gw-ov-departments"),
                ],
                className="gw-ov-tables",
            ),
            loading_box("gw-p-overdue"),
        ],
        id="gw-p-overdue",
        className="gw-panel",
    )


def alerts_panel(lang: str) -> html.Div:
    hint = html.Div(t("sound_hint", lang), id="gw-sound-hint", className="gw-sound-hint", hidden=True)
    return html.Div(
        [panel_head(t("alerts_title", lang), hint),
         html.Div(html.Div(id="gw-ticker", className="gw-ticker"), id="gw-ticker-box", className="gw-scroll")],
        id="gw-p-alerts",
        className="gw-panel",
    )


def online_panel(lang: str) -> html.Div:
    return html.Div([kpi("collectors", lang), kpi("vehicles", lang)], id="gw-p-online", className="gw-panel gw-online")


def ranking_panel(kind: str, lang: str, region: str = "street", period: str = "month") -> html.Div:
    """The department ranking (kind "dept") or the region ranking (kind "region") of ``period``
    (the first of Settings.ranking_periods; the page retitles it as the periods take turns)."""
    if kind == "dept":
        title, name, rate = t(f"rank_department_{period}", lang), t("department", lang), t("col_rate_dept", lang)
    else:
        title, name, rate = t(f"rank_{region}_{period}", lang), t(region, lang), t("col_rate_region", lang)
    head = _table_head(t("col_pos", lang), name, t("col_score", lang), t("col_grade", lang), rate, t("col_overdue", lang))
    return html.Div(
        [panel_head(title), head,
         html.Div(html.Div(id=f"gw-rank-{kind}", className="gw-rank"), id=f"gw-rank-{kind}-box", className="gw-scroll"),
         loading_box(f"gw-p-rank-{kind}")],
        id=f"gw-p-rank-{kind}",
        className="gw-panel gw-rank-panel",
    )


def _view(name: str, title: str, *body: Any) -> html.Div:
    return html.Div([panel_head(title), *body], id=f"gw-view-{name}", className="gw-view", **{"data-view": name})


def rotator_panel(lang: str, rotate_s: float) -> html.Div:
    hourly = _view("hourly", t("hourly_title", lang),
                   dcc.Graph(id="gw-chart-hourly", figure=EMPTY_FIGURE, config=GRAPH_CONFIG, className="gw-chart"))
    cats = _view(
        "cats", t("cats_title", lang),
        html.Div([html.Div([html.Span(t("component", lang), className="gw-cat-label"), html.Span("—", id="gw-cat-component", className="gw-cat-n")],
                           className="gw-cat gw-cat-component"),
                  html.Div([html.Span(t("event", lang), className="gw-cat-label"), html.Span("—", id="gw-cat-event", className="gw-cat-n")],
                           className="gw-cat gw-cat-event")],
                 className="gw-cats"),
        dcc.Graph(id="gw-chart-cats", figure=EMPTY_FIGURE, config=GRAPH_CONFIG, className="gw-chart"),
    )
    header = html.Div([html.Span(t("veh_kind", lang)), *(html.Span(t(f"veh_{c}", lang)) for c in VEHICLE_COLS)], className="gw-thead")
    rows = [
        html.Div([html.Span(t(f"veh_{r}", lang), className="gw-veh-name"),
                  *(html.Span("—", id=f"gw-veh-{r}-{c}", className=f"gw-veh-n gw-veh-{c}") for c in VEHICLE_COLS)],
                 className=f"gw-veh-row gw-veh-{r}")
        for r in VEHICLE_ROWS
    ]
    vehicles = _view("vehicles", t("vehicles_title", lang), html.Div([header, *rows], className="gw-veh"))
    # The collectors per team (dashboard/screens/collector_board.py): rows made by the browser.
    coll_head = html.Div([html.Span(t(k, lang)) for k in COLLECTOR_COLS], className="gw-thead")
    collectors = _view("collectors", t("coll_title", lang),
                       html.Div([coll_head, html.Div(id="gw-coll", className="gw-coll-list"),
                                 html.Div(id="gw-coll-total", className="gw-coll-row gw-coll-total")],
                                className="gw-coll"))
    dots = html.Div([html.Span(className="gw-dot", **{"data-view": v}) for v in VIEWS], className="gw-rot-dots")
    return html.Div([hourly, cats, vehicles, collectors, dots], id="gw-p-rot", className="gw-panel gw-rotator",
                    **{"data-rotate-s": f"{max(rotate_s, 0):g}"})


def conf(settings: Any) -> html.Div:
    """The alert sound's URL, for assets/gridwall-sound.js (its words are in the contract)."""
    return html.Div(id="gw-panels-conf", hidden=True, **{"data-sound": sound_url(settings.alert_sound)})


def left_column(settings: Any, lang: str) -> list[Any]:
    return [today_panel(lang), overdue_panel(lang), alerts_panel(lang), conf(settings)]


def right_column(settings: Any, lang: str) -> list[Any]:
    period = settings.ranking_period_kinds[0]
    return [online_panel(lang), ranking_panel("dept", lang, period=period),
            ranking_panel("region", lang, settings.board_region, period), rotator_panel(lang, settings.panel_rotate_s)]
