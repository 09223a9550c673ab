"""The report's lines of words, the same in the PDF and the XLSX (every word from dashboard/i18n.py)."""

from __future__ import annotations

import time
from datetime import timedelta

from dashboard.i18n import t
from dashboard.reports.model import Report


def title(report: Report) -> str:
    city = report.city_zh if report.lang == "zh" else report.city_en
    return t("rp_title", report.lang).format(city=city, kind=t(f"rp_kind_{report.kind}", report.lang))


def period_line(report: Report) -> str:
    first = report.local(report.start).date()
    last = report.local(report.end).date() - timedelta(days=1)
    line = t("rp_period_line", report.lang).format(label=report.label, first=first.isoformat(), last=last.isoformat(),
                                                   tz=report.timezone)
    if not report.complete:
        line += "；" if report.lang == "zh" else "; "
        line += t("rp_as_of", report.lang).format(at=f"{report.local(report.cutoff):%Y-%m-%d %H:%M}")
    return line


def made_line(report: Report, made_at: float | None = None) -> str:
    at = f"{report.local(time.time() if made_at is None else made_at):%Y-%m-%d %H:%M}"
    key = "rp_made_by" if report.who else "rp_made"
    line = t(key, report.lang).format(who=report.who, at=at, preset=report.preset)
    if report.masked:
        line += "；" if report.lang == "zh" else "; "
        line += t("rp_masked", report.lang)
    return line


def listing(items: list[str], lang: str) -> str:
    """Names in a line: 、 between Chinese ones, a comma between English ones."""
    return ("、" if lang == "zh" else ", ").join(items)


def colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "
