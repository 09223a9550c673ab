"""A report as the bytes of a file and the file's name, whatever asked for it (the command line,
the desk's download, the schedule)."""

from __future__ import annotations

from dashboard.config import Settings
from dashboard.reports.model import Report

FORMATS = ("pdf", "xlsx")
MIME = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def stem(kind: str, label: str, lang: str) -> str:
    """``report-month-2026-11-zh``: sorts by kind and date in a directory listing."""
    return f"report-{kind}-{label}-{lang}"


def render(report: Report, fmt: str, settings: Settings) -> bytes:
    if fmt == "pdf":
        from dashboard.reports import pdf

        return pdf.render(report, settings)
    if fmt == "xlsx":
        from dashboard.reports import xlsx

        return xlsx.render(report)
    raise ValueError(f"format: {fmt!r}; expected one of {', '.join(FORMATS)}")
