"""The report's trend charts as SVG, drawn by matplotlib (its SVG backend, no display).

The text stays text (``svg.fonttype = none``) in the report's own CJK font family, so the PDF
embeds one font, its Chinese glyphs are the Simplified forms the document's language selects,
and pdftotext reads the chart's words. matplotlib measures the text with the same font file
(``addfont``), so the layout matches what the PDF draws.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from dashboard.i18n import t
from dashboard.store.trend import TrendPoint

FAMILY = "GWCJK"  # the @font-face family of the report's stylesheet (dashboard/reports/pdf.py)
_LOCK = threading.Lock()  # matplotlib's font manager and rc are process-wide
_FONTS: dict[str, str] = {}  # font file -> the family name matplotlib knows it by
COLOURS = ("#1f5fa8", "#e07b00", "#2e8b57")


def _family(font_file: Path) -> str:
    from matplotlib import font_manager

    key = str(font_file)
    if key not in _FONTS:
        font_manager.fontManager.addfont(key)
        found = [f.name for f in font_manager.fontManager.ttflist if f.fname == key]
        # A .ttc holds several faces; the Simplified Chinese one measures like every other.
        _FONTS[key] = next((n for n in found if n.endswith(" SC")), found[0] if found else "sans-serif")
    return _FONTS[key]


def _svg(fig: object, prefix: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")  # type: ignore[attr-defined]
    text = buf.getvalue()
    # The family the PDF's stylesheet defines from the same file (matplotlib wrote its own name).
    text = re.sub(r"font-family: ?[^;\"]*", f"font-family: {FAMILY}", text)
    # Two charts in one document: matplotlib numbers its ids from 1 in each (figure_1, ...).
    text = re.sub(r'(id="|url\(#|href="#)', rf"\g<1>{prefix}", text)
    return text[text.index("<svg"):]  # no XML declaration: the SVG goes inline into the HTML


def trend_charts(points: Sequence[TrendPoint], lang: str, font_file: Path) -> tuple[str, str]:
    """Two charts: the counts (上报, 立案, 结案) as bars, the rates (结案率, 按期结案率) as lines, in
    percent. A period not over yet is marked with its label in brackets."""
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib.figure import Figure

    labels = [f"({p.label})" if p.partial else p.label for p in points]
    x = list(range(len(points)))
    with _LOCK:
        family = _family(font_file)
        rc = {"svg.fonttype": "none", "font.family": family, "font.size": 8, "axes.spines.top": False,
              "axes.spines.right": False}
        with matplotlib.rc_context(rc):
            counts = Figure(figsize=(5.0, 2.4))
            ax = counts.subplots()
            width = 0.27
            for i, (key, values) in enumerate((("reported", [p.reported for p in points]),
                                               ("filed", [p.filed for p in points]),
                                               ("closed", [p.closed for p in points]))):
                ax.bar([v + (i - 1) * width for v in x], values, width, label=t(key, lang), color=COLOURS[i])
            ax.set_xticks(x, labels, rotation=45, ha="right")
            ax.set_title(t("rp_trend_counts", lang))
            ax.legend(frameon=False, ncols=3, loc="upper left")
            ax.margins(y=0.2)
            rates = Figure(figsize=(5.0, 2.4))
            ax = rates.subplots()
            for i, (key, values) in enumerate((("close_rate", [p.close_rate for p in points]),
                                               ("on_time_close_rate", [p.on_time_close_rate for p in points]))):
                ax.plot(x, [None if v is None else v * 100 for v in values], marker="o", markersize=3,
                        label=t(key, lang), color=COLOURS[i])
            ax.set_xticks(x, labels, rotation=45, ha="right")
            ax.set_ylim(0, 105)
            ax.set_title(t("rp_trend_rates", lang))
            ax.legend(frameon=False, ncols=2, loc="lower left")
            return _svg(counts, "gwc-"), _svg(rates, "gwr-")
