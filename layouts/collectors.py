"""The collector board on the desk (/desk/collectors): each team with its collectors today, the
lowest 在岗率 first (dashboard/screens/collector_board.py, docs/supervision.md "The collector
board").

Layout only, drawn on the server from the model: the page needs no script. Names and ids are as
the model gives them: aliased for a masked role, on the server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dash import html

from dashboard.access.principal import Principal
from dashboard.config import Settings
from dashboard.i18n import t
from layouts.weekly import page_frame

COLS = ("cb_collector", "cb_on", "coll_rate", "coll_cover", "coll_km", "coll_alarms", "cb_reports", "cb_verify",
        "cb_check")


def _team(team: dict[str, Any], lang: str) -> html.Section:
    en = lang == "en"
    head = html.H2([
        html.Span(team["en"] if en else team["zh"]),
        html.Span(f"{t('cb_on', lang)} {team['on_duty']}/{len(team['members'])}", className="gw-w-chip"),
        html.Span(f"{t('coll_rate', lang)} {team['rate']}", className="gw-w-chip"),
        html.Span(f"{t('coll_cover', lang)} {team['coverage']}", className="gw-w-chip"),
    ], className="gw-w-dept")
    rows = []
    for m in team["members"]:
        cells = [
            [html.Div(m["name"] or m["id"]), html.Div(m["id"] if m["name"] else "", className="gw-w-sub")],
            html.Span(t("cb_yes" if m["on_duty"] else "cb_no", lang), className="gw-cb-on" if m["on_duty"] else "gw-w-sub"),
            html.Span(m["rate"], className="gw-cb-low" if m["low"] else ""),
            m["coverage"], m["km"],
            html.Span(str(m["alarms"]), className="gw-cb-alarms" if m["alarms"] else ""),
            str(m["reports"]), m["verify"], m["check"],
        ]
        # The column's name on each cell: a phone shows a collector as a card of named lines (CSS).
        rows.append(html.Tr([html.Td(cell, className=f"gw-w-c{i}", **{"data-label": t(col, lang)})
                             for i, (cell, col) in enumerate(zip(cells, COLS, strict=True))],
                            **{"data-id": m["id"]}))
    return html.Section([head, html.Table([html.Thead(html.Tr([html.Th(t(c, lang)) for c in COLS])), html.Tbody(rows)],
                                          className="gw-w-table")], className="gw-w-section", **{"data-code": team["code"]})


def _alarms(summary: dict[str, Any], lang: str) -> html.Section:
    """Today's supervision alarms per rule and device type."""
    en = lang == "en"
    kinds = [t(f"veh_{k}", lang) if k != "collector" else t("cb_collector", lang) for k in summary["types"]]
    head = html.Tr([html.Th(t("cb_rule", lang)), *(html.Th(k) for k in kinds), html.Th(t("coll_total", lang))])
    rows = [html.Tr([html.Td(r["en"] if en else r["zh"]), *(html.Td(str(n)) for n in r["counts"]), html.Td(str(r["total"]))],
                    **{"data-rule": r["rule"]}) for r in summary["rows"]]
    title = html.H2([html.Span(t("cb_alarms_title", lang)), html.Span(str(summary["total"]), className="gw-w-chip")],
                    className="gw-w-dept")
    body = html.Table([html.Thead(head), html.Tbody(rows)], className="gw-w-table") if rows else \
        html.P(t("cb_no_alarms", lang), className="gw-w-sub")
    return html.Section([title, body], className="gw-w-section", id="gw-cb-alarms")


def layout(settings: Settings, lang: str, principal: Principal, page: dict[str, Any]) -> html.Div:
    zone = ZoneInfo(settings.timezone)
    at = datetime.fromtimestamp(page["now"], zone).strftime("%Y-%m-%d %H:%M")
    body = [_team(team, lang) for team in page["teams"]] or [html.P(t("cb_none", lang), className="gw-w-sub")]
    if page.get("alarms") is not None:
        body.insert(0, _alarms(page["alarms"], lang))
    nav = [html.Span(t("cb_as_of", lang).format(at=at), className="gw-w-span", id="gw-cb-at"),
           html.Span(t("cb_note", lang), className="gw-w-sub")]
    return page_frame(t("cb_title", lang), lang, principal, nav, body, "gw-collectors", "gw-collector-board")
