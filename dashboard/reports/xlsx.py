"""The report as a workbook for the evaluation office (docs/reports.md "XLSX").

Sheets: the summary (the city's figures against the previous period, the bottom units named),
one sheet per ranking (every column `gridwall rank --format json` prints, in its order, then the
changes against the previous period and the bottom flag), the overdue list (the weekly 督办
list's columns) and the trend. Numbers are numbers: rates are the fractions `gridwall rank`
prints, shown as percentages by the cell's format; scores are shown with two decimals.
"""

from __future__ import annotations

from typing import Any

from dashboard.casework.rates import RATES
from dashboard.exports import Cell, Column, Sheet, to_xlsx_book
from dashboard.i18n import t
from dashboard.rank_cmd import column_label as rank_label  # the headers `gridwall rank` prints: one home
from dashboard.reports.model import HEADLINE, Ranking, Report
from dashboard.reports.text import listing, made_line, period_line, title
from dashboard.screens.weekly import weekly_table

CHANGE_KEYS = ("prev_position", "position_change", "prev_score", "score_change")


def _format(key: str) -> str | None:
    if key in RATES:
        return "percent"
    if key in ("score", "prev_score", "score_change"):
        return "decimal2"
    return None


def ranking_sheet(report: Report, ranking: Ranking) -> Sheet:
    lang = report.lang
    keys = list(ranking.rows[0]) if ranking.rows else ["position", "code", "name", "score", "grade"]
    columns = [Column(rank_label(k, lang), 22 if k == "name" else 10 if k in ("position", "grade") else 12, _format(k))
               for k in keys]
    columns += [Column(t(f"rp_{k}", lang), 10, _format(k)) for k in CHANGE_KEYS]
    columns.append(Column(t("rp_bottom", lang), 6))
    rows = []
    for r in ranking.rows:
        change = ranking.change(r)
        rows.append([r[k] for k in keys] + [change[k] for k in CHANGE_KEYS]
                    + [t("yes", lang) if r["code"] in ranking.bottom else None])
    note = t("rp_unlisted", lang).format(codes=", ".join(ranking.unlisted)) if ranking.unlisted else None
    return Sheet(t(f"rp_sheet_{ranking.by}", lang), columns, rows, note)


def summary_sheet(report: Report) -> Sheet:
    lang = report.lang
    columns = [Column(t("rp_item", lang), 24), Column(t("rp_this", lang), 14),
               Column(t("rp_prev", lang).format(label=report.previous_label), 14), Column(t("rp_change", lang), 12)]
    rows: list[list[Any]] = []
    for key in HEADLINE:
        now, before = report.city.get(key), report.city_previous.get(key)
        change = now - before if isinstance(now, int | float) and isinstance(before, int | float) else None
        if key in RATES:  # one column holds counts and rates: a rate's cells carry their format
            now, before, change = (None if v is None else Cell(v, "percent") for v in (now, before, change))
        rows.append([rank_label(key, lang), now, before, change])
    for ranking in report.rankings:
        flagged = [r for r in ranking.rows if r["code"] in ranking.bottom]
        names = listing([f"{r['position']}. {r['name'] or r['code']}" for r in flagged], lang) or t("rp_bottom_none", lang)
        rows.append([f"{t('rp_bottom_title', lang)} · {t(f'rp_rank_{ranking.by}', lang)}", names])
    if report.departments_left_out:
        rows.append([t("rp_left_out", lang)])
    # The title and the period under the table, with who made it: the first row is the header.
    return Sheet(t("rp_sheet_summary", lang), columns, rows, f"{title(report)} · {period_line(report)} · {made_line(report)}")


def overdue_sheet(report: Report) -> Sheet:
    columns, cells = weekly_table(report.overdue, report.lang, report.timezone)
    return Sheet(t("rp_sheet_overdue", report.lang), columns, cells)


def trend_sheet(report: Report) -> Sheet:
    lang = report.lang
    columns = [Column(t("rp_trend_period", lang), 12), Column(rank_label("reported", lang), 10),
               Column(rank_label("filed", lang), 10), Column(rank_label("closed", lang), 10),
               Column(rank_label("close_rate", lang), 12, "percent"),
               Column(rank_label("on_time_close_rate", lang), 12, "percent"), Column(t("rp_partial", lang), 10)]
    rows = [[p.label, p.reported, p.filed, p.closed, p.close_rate, p.on_time_close_rate,
             t("yes", lang) if p.partial else None] for p in report.trend]
    return Sheet(t("rp_sheet_trend", lang), columns, rows)


def render(report: Report) -> bytes:
    sheets = [summary_sheet(report), *(ranking_sheet(report, r) for r in report.rankings), overdue_sheet(report),
              trend_sheet(report)]
    return to_xlsx_book(sheets)
