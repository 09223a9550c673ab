"""The report as a PDF for the meeting (docs/reports.md "PDF"): HTML and CSS set by WeasyPrint.

Chinese typesetting: the CJK font is a file (``[reports] font``, default Noto Sans CJK from
the system) declared by ``@font-face``, so it is embedded (subset) whatever fonts the machine
has, and a missing file stops the report with its path rather than printing tofu. The document
says ``lang="zh-CN"``: a Noto CJK collection's first face is the Japanese one, and the
language makes the shaper pick the Simplified Chinese glyph forms (OpenType ``locl``). Numbers
are right-aligned in tabular figures (``font-variant-numeric: tabular-nums``), so the digits of
a column line up.

A4 landscape: a ranking holds every rate and counter of `gridwall rank`, so it is printed as a
table of scores and main figures, one of every rate, and the counters in parts of at most 14
columns; each table repeats the rank and the name.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from dashboard.casework.rates import RATES
from dashboard.config import Settings
from dashboard.i18n import t
from dashboard.rank_cmd import cell_text as rank_cell  # cells as `gridwall rank` prints them: one home
from dashboard.rank_cmd import column_label as rank_label
from dashboard.reports.charts import FAMILY, trend_charts
from dashboard.reports.model import HEADLINE, Ranking, Report, ReportError
from dashboard.reports.text import colon, listing, made_line, period_line, title

DEFAULT_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
DEFAULT_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
PDF_CASES = 50  # the overdue list's cases printed (the worst departments' first); the XLSX has them all
COUNTERS_PER_TABLE = 14
# The main figures beside the score: the terms of each kind's score and its overdue count.
MAIN = {
    "department": ("filed", "close_rate", "on_time_disposal_rate", "rework_rate", "due_disposal", "overdue_pending"),
    "region": ("supervision_report_rate", "filed_net", "close_rate", "on_time_close_rate", "due_close",
               "overdue_pending"),
}


def fonts(settings: Settings) -> tuple[Path, Path | None]:
    """The regular and (optional) bold font files; a missing regular one is an error that names it."""
    section = settings.section("reports")
    regular = Path(section.get("font", DEFAULT_FONT)).expanduser()
    bold = Path(section["font_bold"]).expanduser() if "font_bold" in section else DEFAULT_BOLD
    if not regular.is_file():
        raise ReportError("font", t("rp_font_missing", "en").format(path=regular))
    return regular, bold if bold.is_file() else None


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _stylesheet(report: Report, regular: Path, bold: Path | None) -> str:
    page = t("rp_page", report.lang).replace('"', "'").format(p='" counter(page) "', n='" counter(pages) "')
    faces = f'@font-face {{ font-family: {FAMILY}; src: url("{regular.as_uri()}"); }}\n'
    if bold is not None:
        faces += f'@font-face {{ font-family: {FAMILY}; font-weight: bold; src: url("{bold.as_uri()}"); }}\n'
    return faces + f"""
@page {{ size: A4 landscape; margin: 11mm 10mm 12mm 10mm;
        @bottom-center {{ content: "{page}"; font-family: {FAMILY}; font-size: 7pt; color: #666; }} }}
html {{ font-family: {FAMILY}; font-size: 7.5pt; color: #111; }}
h1 {{ font-size: 15pt; margin: 0 0 2mm 0; }}
h2 {{ font-size: 11pt; margin: 4mm 0 1.5mm 0; border-bottom: 0.6pt solid #1f5fa8; padding-bottom: 0.6mm; }}
h2.ranking {{ break-before: page; }}
h3 {{ font-size: 8.5pt; margin: 3mm 0 1mm 0; }}
p {{ margin: 0.6mm 0; }}
.muted {{ color: #555; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 1.5mm; }}
table.wide {{ font-size: 6.4pt; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
th {{ background: #dce6f1; font-weight: bold; padding: 0.6mm 0.8mm; border: 0.4pt solid #9fb3c8; text-align: center;
     vertical-align: bottom; }}
td {{ padding: 0.5mm 0.8mm; border: 0.4pt solid #c9d3de; white-space: nowrap; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.t {{ white-space: normal; }}
tr.bottom td {{ background: #fde2e2; }}
tr.dept td {{ background: #eef2f7; font-weight: bold; }}
.up {{ color: #1e7d32; }} .down {{ color: #c62828; }}
.front {{ display: flex; gap: 6mm; }} .front .left {{ width: 142mm; }} .front .right {{ width: 125mm; }}
.charts svg {{ width: 125mm; height: auto; display: block; margin-bottom: 2mm; }}
"""


def _table(head: Sequence[str], rows: Iterable[tuple[Sequence[tuple[Any, str]], str]], cls: str = "") -> str:
    """``rows``: (cells as (text, css class), the row's class)."""
    out = [f'<table class="{cls}"><thead><tr>', *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for cells, row_cls in rows:
        out.append(f'<tr class="{row_cls}">' + "".join(f'<td class="{c}">{_e(v)}</td>' for v, c in cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _num_class(key: str) -> str:
    return "" if key in ("code", "name", "grade") else "n"


def _signed(value: float | int | None, rate: bool, lang: str) -> str:
    if value is None:
        return "—"
    if rate:
        return t("rp_pp", lang).format(v=f"{value * 100:+.2f}")
    return f"{value:+.2f}" if isinstance(value, float) else f"{value:+d}"


def _summary(report: Report) -> str:
    lang = report.lang
    head = [t("rp_item", lang), t("rp_this", lang), t("rp_prev", lang).format(label=report.previous_label),
            t("rp_change", lang)]
    rows = []
    for key in HEADLINE:
        now, before = report.city.get(key), report.city_previous.get(key)
        change = now - before if now is not None and before is not None else None
        rows.append(([(rank_label(key, lang), ""), (rank_cell(key, now), "n"), (rank_cell(key, before), "n"),
                      (_signed(change, key in RATES, lang), "n")], ""))
    body = _table(head, rows)
    if not report.city.get("reported") and not report.city.get("due_disposal") and not report.city.get("due_close"):
        body += f'<p class="muted">{_e(t("rp_no_cases", lang))}</p>'
    return f'<h2>{_e(t("rp_summary", lang))}</h2>{body}'


def _bottom(report: Report) -> str:
    lang = report.lang
    lines = []
    for ranking in report.rankings:
        flagged = [r for r in ranking.rows if r["code"] in ranking.bottom]
        names = listing([f"{r['position']}. {r['name'] or r['code']}" for r in flagged], lang) if flagged \
            else t("rp_bottom_none", lang)
        lines.append(f"<p><b>{_e(t(f'rp_rank_{ranking.by}', lang))}</b>{colon(lang)}{_e(names)}</p>")
    if report.departments_left_out:
        lines.append(f'<p class="muted">{_e(t("rp_left_out", lang))}</p>')
    return f'<h2>{_e(t("rp_bottom_title", lang))}</h2>' + "".join(lines)


def _change_cells(ranking: Ranking, row: dict[str, Any]) -> list[tuple[Any, str]]:
    change = ranking.change(row)
    move = change["position_change"]
    arrow = "—" if move is None else "=" if move == 0 else f"↑{move}" if move > 0 else f"↓{-move}"
    return [(arrow, "n " + ("up" if move and move > 0 else "down" if move and move < 0 else "")),
            (rank_cell("position", change["prev_position"]), "n"),
            (rank_cell("score", change["prev_score"]), "n"),
            ("—" if change["score_change"] is None else f"{change['score_change']:+.2f}", "n")]


def _ranking(report: Report, ranking: Ranking) -> str:
    lang = report.lang
    kind = "department" if ranking.by == "department" else "region"
    rows = ranking.rows
    cls = {r["code"]: "bottom" if r["code"] in ranking.bottom else "" for r in rows}
    lead = ("position", "name")
    parts = [f'<h2 class="ranking">{_e(t(f"rp_rank_{ranking.by}", lang))} · {_e(report.label)}</h2>',
             f'<h3>{_e(t("rp_main", lang))}</h3>']
    main = ("score", "grade", *MAIN[kind])
    head = [rank_label(k, lang) for k in (*lead, *main)] + [t("rp_vs_prev", lang), t("rp_prev_position", lang),
                                                            t("rp_prev_score", lang), t("rp_score_change", lang)]
    parts.append(_table(head, (([(rank_cell(k, r[k]), _num_class(k)) for k in (*lead, *main)]
                                + _change_cells(ranking, r), cls[r["code"]]) for r in rows)))
    parts.append(f'<p class="muted">{_e(t("rp_unranked", lang))}</p>')
    if ranking.unlisted:
        parts.append(f'<p class="muted">{_e(t("rp_unlisted", lang).format(codes=", ".join(ranking.unlisted)))}</p>')
    rates = [k for k in RATES]
    parts.append(f'<h3>{_e(t("rp_rates", lang))}</h3>')
    parts.append(_table([rank_label(k, lang) for k in (*lead, *rates)],
                        (([(rank_cell(k, r[k]), _num_class(k)) for k in (*lead, *rates)], cls[r["code"]]) for r in rows),
                        "wide"))
    counters = [k for k in (rows[0] if rows else {}) if k not in RATES and k not in ("position", "code", "name", "score",
                                                                                      "grade")]
    chunks = [counters[i:i + COUNTERS_PER_TABLE] for i in range(0, len(counters), COUNTERS_PER_TABLE)]
    for n, chunk in enumerate(chunks, start=1):
        parts.append(f'<h3>{_e(t("rp_counters", lang).format(part=n, parts=len(chunks)))}</h3>')
        parts.append(_table([rank_label(k, lang) for k in (*lead, *chunk)],
                            (([(rank_cell(k, r[k]), _num_class(k)) for k in (*lead, *chunk)], cls[r["code"]])
                             for r in rows), "wide"))
    return "".join(parts)


# The weekly table's columns (screens/weekly.py weekly_table) printed per case; the department's
# place, name and counts (columns 0-4) head its group instead of repeating on every row.
CASE_COLUMNS = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
NUMERIC = {14, 15, 16}


def _overdue(report: Report) -> str:
    from dashboard.screens.weekly import weekly_table

    lang = report.lang
    page = report.overdue
    parts = [f'<h2 class="ranking">{_e(t("rp_overdue_title", lang))} · {_e(report.label)}</h2>']
    if not page["departments"]:
        return parts[0] + f'<p>{_e(t("rp_overdue_none", lang))}</p>'
    # The first PDF_CASES cases only are printed: only they are made into rows.
    shown, left = [], PDF_CASES
    for d in page["departments"]:
        if left > 0:
            shown.append({**d, "cases": d["cases"][:left]})
            left -= len(shown[-1]["cases"])
    columns, cells = weekly_table({**page, "departments": shown}, lang, report.timezone)
    parts.append(f'<p>{_e(t("rp_overdue_depts", lang).format(n=len(page["departments"])))} · '
                 f'{_e(t("wk_cases", lang).format(n=page["total"]))}</p>')
    # Every department's counts first (a dozen rows), then the cases, which may be cut.
    parts.append(_table([t(k, lang) for k in ("wk_position", "col_department", "wk_pending", "wk_late", "wk_reworked")],
                        (([(d["position"], "n"), (d["en" if lang == "en" else "zh"], ""), (d["pending"], "n"),
                           (d["late"], "n"), (d["reworked"], "n")], "") for d in page["departments"])))
    if page["total"] > PDF_CASES:
        parts.append(f'<p class="muted">{_e(t("rp_overdue_cut", lang).format(n=page["total"], k=PDF_CASES))}</p>')
    out = ['<table class="wide"><thead><tr>', *(f"<th>{_e(columns[i].title)}</th>" for i in CASE_COLUMNS),
           "</tr></thead><tbody>"]
    heads = {2: "wk_pending", 3: "wk_late", 4: "wk_reworked"}
    shown = None
    for row in cells[:PDF_CASES]:
        if row[0] != shown:
            shown = row[0]
            counts = " · ".join(f"{t(key, lang)} {row[i]}" for i, key in heads.items())
            out.append(f'<tr class="dept"><td colspan="{len(CASE_COLUMNS)}">{_e(row[0])}. {_e(row[1])} — '
                       f"{_e(counts)}</td></tr>")
        out.append("<tr>" + "".join(
            f'<td class="{"n" if i in NUMERIC else "t" if i == 8 else ""}">{_e("—" if row[i] is None else row[i])}</td>'
            for i in CASE_COLUMNS) + "</tr>")
    out.append("</tbody></table>")
    return "".join(parts) + "".join(out)


def _trend(report: Report, font: Path) -> str:
    counts, rates = trend_charts(report.trend, report.lang, font)
    return f'<h2>{_e(t("rp_trend_title", report.lang))}</h2><div class="charts">{counts}{rates}</div>'


def document(report: Report, font: Path) -> str:
    lang = "zh-CN" if report.lang == "zh" else "en"
    body = [f"<h1>{_e(title(report))}</h1>", f"<p>{_e(period_line(report))}</p>",
            f'<p class="muted">{_e(made_line(report))}</p>',
            f'<div class="front"><div class="left">{_summary(report)}{_bottom(report)}</div>'
            f'<div class="right">{_trend(report, font)}</div></div>',
            *(_ranking(report, r) for r in report.rankings), _overdue(report)]
    return f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{_e(title(report))}</title>' \
           f'</head><body>{"".join(body)}</body></html>'


def render(report: Report, settings: Settings) -> bytes:
    # WeasyPrint logs every step at INFO and each SVG presentation attribute it reads from a
    # style as a warning: noise in the service's log, not news.
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    regular, bold = fonts(settings)
    config = FontConfiguration()
    css = CSS(string=_stylesheet(report, regular, bold), font_config=config)
    return HTML(string=document(report, regular), base_url=str(settings.data_dir)).write_pdf(
        stylesheets=[css], font_config=config)
