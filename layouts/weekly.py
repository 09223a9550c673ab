"""The weekly 督办 list (/desk/weekly?week=YYYY-Www): each department's overdue and reworked cases
of the week, worst department first, as cities publish it for the weekly meeting.

Layout only, drawn on the server from the model (dashboard/screens/weekly.py): the page needs no
script; each case number opens the case on the desk, and the list exports as XLSX and CSV for
the roles whose exports may leave the building.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import html

from dashboard.access.principal import Principal
from dashboard.config import Settings
from dashboard.i18n import t
from dashboard.screens.weekly import shift_week


def _when(x: Any, zone: ZoneInfo, fmt: str = "%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(float(x), zone).strftime(fmt) if isinstance(x, int | float) else "—"


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f}"


def _department(d: dict[str, Any], lang: str, zone: ZoneInfo) -> html.Section:
    en = lang == "en"
    head = html.H2([
        html.Span(str(d["position"]), className="gw-w-pos"),
        html.Span(d["en"] if en else d["zh"]),
        html.Span(f"{t('wk_pending', lang)} {d['pending']}", className="gw-w-chip gw-w-red"),
        html.Span(f"{t('wk_late', lang)} {d['late']}", className="gw-w-chip"),
        html.Span(f"{t('wk_reworked', lang)} {d['reworked']}", className="gw-w-chip"),
    ], className="gw-w-dept")
    rows, cols = [], _COLS
    for c in d["cases"]:
        kind = "wk_pending" if c["pending"] else "wk_late" if c["late"] else "wk_reworked"
        cells = [
            html.A(c["case_id"], href=f"/desk?text={c['case_id']}&case={c['case_id']}"),
            html.Span(t(kind, lang), className=f"gw-w-{kind}"),
            [html.Div(c["problem_en"] if en else c["problem_zh"]), html.Div(c["title"] or "", className="gw-w-sub")],
            f"{c['district_en' if en else 'district_zh']} {c['street_en' if en else 'street_zh']}",
            _when(c["deadline"], zone),
            _hours(c["late_s"]) if c["pending"] or c["late"] else "—",
            str(c["reworks"] or ""),
            str(c["returns"] or ""),
        ]
        # The column's name on each cell: a phone shows a case as a card of named lines (CSS).
        rows.append(html.Tr([html.Td(cell, className=f"gw-w-c{i}", **{"data-label": t(col, lang)})
                             for i, (cell, col) in enumerate(zip(cells, cols, strict=True))]))
    return html.Section([head, html.Table([html.Thead(html.Tr([html.Th(t(c, lang)) for c in cols])), html.Tbody(rows)],
                                          className="gw-w-table")], className="gw-w-section")


_COLS = ("col_case", "wk_kind", "col_problem", "col_place", "col_due", "col_overdue_h", "wk_reworks", "wk_returns")


def layout(settings: Settings, lang: str, principal: Principal, page: dict[str, Any] | None, error: str | None) -> html.Div:
    zone = ZoneInfo(settings.timezone)
    body: list[Any] = []
    nav: list[Any] = []
    if page is not None:
        week = page["week"]
        span = t("wk_week", lang).format(week=week, start=_when(page["start"], zone, "%Y-%m-%d"),
                                         end=_when(page["end"] - 1, zone, "%Y-%m-%d"))
        nav = [html.A(t("wk_prev", lang), href=f"/desk/weekly?week={shift_week(week, -1)}&lang={lang}", className="gw-d-link"),
               html.Span(span, className="gw-w-span", id="gw-w-span"),
               *([] if page["complete"] else [html.Span(t("wk_as_of", lang).format(at=_when(page["cutoff"], zone)),
                                                        className="gw-w-sub")]),
               *([html.A(t("wk_next", lang), href=f"/desk/weekly?week={shift_week(week, 1)}&lang={lang}",
                         className="gw-d-link")] if page["complete"] else [])]
        if principal.may("see.reports"):
            nav += [html.A(f"{t('desk_export', lang)} {fmt.upper()}", className="gw-d-link gw-d-export",
                           id=f"gw-w-export-{fmt}", href=f"/desk/api/weekly.{fmt}?week={week}&lang={lang}")
                    for fmt in ("xlsx", "csv")]
        body = [_department(d, lang, zone) for d in page["departments"]] or [html.P(t("wk_none", lang), className="gw-w-sub")]
    if error is not None:
        body = [html.P(t("wk_bad", lang).format(detail=error), className="gw-d-error", role="alert"),
                html.A(t("weekly_title", lang), href=f"/desk/weekly?lang={lang}", className="gw-d-link")]
    return page_frame(t("weekly_title", lang), lang, principal, nav, body, "gw-weekly")


def page_frame(title: str, lang: str, principal: Principal, nav: list[Any], body: list[Any], main_id: str,
               extra_class: str = "") -> html.Div:
    """The frame of the desk's pages drawn on the server (this list, the collector board): the
    title, the way back to the desk, who is signed in, a bar of links and the page's body."""
    return html.Div([
        html.Header([
            html.H1(title, className="gw-d-title"),
            html.Div([html.A(t("desk_title", lang), href="/desk", className="gw-d-link"),
                      html.Span(principal.name, className="gw-d-who")], className="gw-d-user"),
        ], className="gw-d-head"),
        html.Nav(nav, className="gw-w-nav"),
        html.Main(body, className="gw-w-body", id=main_id),
    ], className=f"gw-desk gw-weekly {extra_class}".strip(), lang=lang)
