"""The dispatch desk (/desk): the wall's numbers, each a link to the cases it counted, and the
case list with its filters, on a desk monitor (1920×1080) and a phone (390×844).

Layout only: the tree and the words. The numbers and the list arrive from /desk/api/ and are
written by assets/gridwall-desk.js; the list's state is the page's address (``/desk?light=red&
district=...``), so a drill-down is a link, the browser's Back goes back, and the breadcrumb is
built from it. The filter choices (districts, departments, sources, classes) are the city's,
listed here from its files.
"""

from __future__ import annotations

from typing import Any

import orjson
from dash import dcc, html

from dashboard.access.principal import Principal
from dashboard.casework.casestate import Source
from dashboard.casework.periods import PERIOD_KINDS
from dashboard.config import Settings
from dashboard.contract import DESK_ACTION_RIGHTS, desk_contract
from dashboard.i18n import t
from dashboard.screens.desk import LIGHTS, SORTS
from dashboard.screens.names import load_names


def _select(name: str, label: str, options: list[tuple[str, str]], lang: str) -> html.Label:
    return html.Label([
        html.Span(label, className="gw-d-flabel"),
        html.Select([html.Option(t("desk_all", lang), value=""), *(html.Option(text, value=value) for value, text in options)],
                    name=name, id=f"gw-d-f-{name}"),
    ], className="gw-d-field")


def filters(settings: Settings, lang: str, principal: Principal) -> html.Form:
    names = load_names(settings.city_dir)
    pick = 0 if lang == "zh" else 1
    scope = principal.scope
    districts = [(a.code, names.area(a.code)[pick]) for a in (names.city.districts if names.city else ())
                 if scope.sees_area(a.code)]
    departments = [(d.code, names.department(d.code)[pick]) for d in (names.city.departments if names.city else ())]
    return html.Form([
        _select("light", t("desk_light", lang), [(v, t(f"light_{v}", lang)) for v in LIGHTS], lang),
        _select("district", t("district", lang), districts, lang),
        _select("department", t("department", lang), departments, lang),
        _select("category", t("desk_category", lang), [(c, t(f"category_{c}", lang)) for c in ("component", "event")], lang),
        _select("source", t("desk_source", lang), [(s.value, t(f"source_{s.value}", lang)) for s in Source], lang),
        _select("urgent", t("desk_urgent", lang), [("1", t("desk_urgent", lang))], lang),
        html.Label([html.Span(t("desk_text", lang), className="gw-d-flabel"),
                    dcc.Input(type="search", name="text", id="gw-d-f-text", maxLength=64, debounce=True,
                              placeholder=t("desk_text", lang))], className="gw-d-field gw-d-field-text"),
        html.Label([
            html.Span(t("desk_sort", lang), className="gw-d-flabel"),
            html.Select([html.Option(t(f"sort_{s}", lang), value=s) for s in SORTS], name="sort", id="gw-d-f-sort"),
        ], className="gw-d-field"),
        html.Button(t("desk_search", lang), type="submit", className="gw-d-btn"),
        html.A(t("desk_clear", lang), href="/desk", className="gw-d-btn gw-d-btn-quiet", id="gw-d-clear"),
    ], id="gw-d-filters", className="gw-d-filters", action="/desk", method="get")


def numbers(lang: str) -> html.Section:
    """The wall's live numbers; each cell becomes a link to its cases (the JS sets the links)."""
    def tile(key: str, word: str) -> html.A:
        return html.A([html.Span("—", id=f"gw-d-kpi-{key}", className="gw-d-num"), html.Span(t(word, lang))],
                      id=f"gw-d-tile-{key}", className=f"gw-d-tile gw-d-tile-{key}", href="/desk")

    def table(dim: str) -> html.Table:
        return html.Table([
            html.Thead(html.Tr([html.Th(t(dim, lang)), html.Th(t("light_red", lang)), html.Th(t("light_yellow", lang)),
                                html.Th(t("light_grey", lang))])),
            html.Tbody(id=f"gw-d-ov-{dim}"),
        ], className="gw-d-ov")

    def today(key: str) -> html.A:
        return html.A([html.Span("—", id=f"gw-d-today-{key}", className="gw-d-num"), html.Span(t(key, lang))],
                      id=f"gw-d-todaylink-{key}", className="gw-d-tile", href=f"/desk?counter={key}&period=day")

    def ranking(kind: str) -> html.Table:
        cols = ("rank_pos", "rank_name", "rank_score", "rank_rate", "rank_overdue")
        return html.Table([html.Caption(id=f"gw-d-rank-{kind}-title", className="gw-d-caption"),
                           html.Thead(html.Tr([html.Th(t(c, lang)) for c in cols])),
                           html.Tbody(id=f"gw-d-rank-{kind}")], className="gw-d-ov gw-d-rank")

    return html.Section([
        html.H2(t("desk_numbers", lang), className="gw-d-h2"),
        html.Div([tile("open", "open_cases"), tile("red", "overdue"), tile("yellow", "warn"), tile("grey", "suspended")],
                 className="gw-d-tiles"),
        html.Div([table("district"), table("department")], className="gw-d-ovs"),
        # Today's numbers and the month's rankings: each opens the cases its counter counted (SQL).
        html.H2(t("today", lang), className="gw-d-h2"),
        html.Div([today("reported"), today("filed"), today("closed")], className="gw-d-tiles gw-d-tiles-3"),
        # The rankings of any period: the wall's from the board, any other from SQL (/desk/api/ranks).
        html.Label([t("desk_rank_period", lang), html.Select(
            [html.Option(t(f"period_{k}", lang), value=k, selected=k == "month") for k in PERIOD_KINDS],
            id="gw-d-rank-period")], className="gw-d-rank-period"),
        html.Div([ranking("department"), ranking("region")], className="gw-d-ovs"),
    ], className="gw-d-numbers", id="gw-d-numbers")


def case_list(lang: str, principal: Principal) -> html.Section:
    cols = ("col_case", "col_problem", "col_place", "col_department", "col_reported", "col_due")
    # The list as a spreadsheet, for the roles whose exports may leave the building.
    exports = [html.A(f"{t('desk_export', lang)} {fmt.upper()}", id=f"gw-d-export-{fmt}", className="gw-d-link gw-d-export",
                      href=f"/desk/api/cases.{fmt}") for fmt in ("xlsx", "csv")] if principal.may("see.reports") else []
    return html.Section([
        html.Div([html.Span(id="gw-d-total", className="gw-d-total"), html.Span(id="gw-d-lights", className="gw-d-lights"),
                  html.A(t("desk_map", lang), id="gw-d-mapbtn", className="gw-d-link", href="/desk?map=1"),
                  *exports], className="gw-d-summary"),
        html.Div(id="gw-d-error", className="gw-d-error", hidden=True, role="alert"),
        # The list's cases on the map (``map=1``): every case of the filter, each pin opens it.
        html.Div(id="gw-d-listmap", className="gw-d-listmap", hidden=True),
        html.Div(html.Table([
            html.Thead(html.Tr([html.Th(t(c, lang), className=f"gw-d-{c}") for c in cols])),
            html.Tbody(id="gw-d-rows"),
        ], className="gw-d-table"), className="gw-d-tablewrap"),
        html.Div([
            html.A(t("desk_prev", lang), id="gw-d-prev", className="gw-d-btn gw-d-btn-quiet", href="/desk"),
            html.Span(id="gw-d-pageno", className="gw-d-pageno"),
            html.A(t("desk_next", lang), id="gw-d-next", className="gw-d-btn gw-d-btn-quiet", href="/desk"),
        ], className="gw-d-pager"),
    ], className="gw-d-list", id="gw-d-list")


def alerts(lang: str) -> html.Section:
    """The video alerts waiting for someone, newest first, and today's handled ones (the JS fills
    them from /desk/api/alerts; the buttons only for a role that may act, act.dispatch)."""
    return html.Section([
        html.H2([t("alerts_title", lang), html.Span(id="gw-d-alerts-count", className="gw-d-count")], className="gw-d-h2"),
        html.Ol(id="gw-d-alerts-list", className="gw-d-alerts-list"),
        html.Details([html.Summary(t("alert_handled", lang)), html.Ol(id="gw-d-alerts-done", className="gw-d-alerts-list")],
                     className="gw-d-alerts-done"),
    ], className="gw-d-alerts", id="gw-d-alerts")


def case_panel(lang: str) -> html.Aside:
    """One case, opened from the list (``case=<id>`` in the address): filled by the JS."""
    return html.Aside([
        html.Button(t("case_close", lang), id="gw-d-case-close", className="gw-d-btn gw-d-btn-quiet gw-d-case-close",
                    type="button"),
        html.Div(id="gw-d-case-body", className="gw-d-case-body"),
    ], id="gw-d-case", className="gw-d-case", hidden=True, role="dialog")


def report_download(lang: str, principal: Principal) -> list[Any]:
    """The evaluation report (docs/reports.md) of a period, for a role whose exports may leave the
    building: which period (empty: the last that ended) and a link per format; the JS keeps the
    links' addresses on the choice."""
    if not principal.may("see.reports"):
        return []
    return [html.Span([
        html.Select([html.Option(t(f"rp_kind_{k}", lang), value=k, selected=k == "month") for k in PERIOD_KINDS],
                    id="gw-d-report-period", **{"aria-label": t("rp_download", lang)}),
        dcc.Input(id="gw-d-report-at", type="text", placeholder=t("rp_at_hint", lang), size="10",
                  className="gw-d-report-at", style={"width": "7.5em"}),
        *(html.A(f"{t('rp_download', lang)} {fmt.upper()}", id=f"gw-d-report-{fmt}", className="gw-d-link",
                 href=f"/desk/api/report.{fmt}?period=month&lang={lang}") for fmt in ("pdf", "xlsx")),
    ], className="gw-d-report", style={"display": "inline-flex", "gap": "6px", "alignItems": "center"})]


def layout(settings: Settings, lang: str, principal: Principal) -> html.Div:
    contract: dict[str, Any] = desk_contract(lang, [r for r in DESK_ACTION_RIGHTS if principal.may(r)])
    return html.Div([
        html.Header([
            html.H1(t("desk_title", lang), className="gw-d-title"),
            html.Nav(id="gw-d-crumbs", className="gw-d-crumbs", **{"aria-label": "breadcrumb"}),
            html.Div([
                html.Span(principal.name, className="gw-d-who"),
                html.A(t("weekly_title", lang), href=f"/desk/weekly?lang={lang}", className="gw-d-link"),
                *report_download(lang, principal),
                html.A(t("cb_link", lang), href=f"/desk/collectors?lang={lang}", className="gw-d-link"),
                html.A(t("desk_wall", lang), href="/", className="gw-d-link"),
                html.A(t("replay_link", lang), href="/desk/replay" + ("?lang=en" if lang == "en" else ""), className="gw-d-link"),
                html.A(t("lang_en" if lang == "zh" else "lang_zh", lang), id="gw-d-lang", className="gw-d-link",
                       href="/desk?lang=" + ("en" if lang == "zh" else "zh")),
                html.A(t("logout", lang), href="/login", className="gw-d-link"),
            ], className="gw-d-user"),
        ], className="gw-d-head"),
        html.Main([html.Div([alerts(lang), numbers(lang)], className="gw-d-side"), html.Section([filters(settings, lang, principal), case_list(lang, principal)],
                                                className="gw-d-main")], className="gw-d-body"),
        case_panel(lang),
    ], id="gw-desk", className="gw-desk", lang=lang,
        **{"data-contract": orjson.dumps(contract).decode(), "data-tz": settings.timezone})
