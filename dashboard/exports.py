"""Tables leave the building as XLSX and CSV: one writer for every export (the desk's case
lists, the weekly 督办 list, the evaluation reports of dashboard/reports/xlsx.py).

Every cell a payload filled is written as text, never as a formula: a title that starts with
``=``, ``+``, ``-`` or ``@`` is what a spreadsheet would run (CSV injection, OWASP). In the XLSX
the cell is a string cell (``write_string``), which Excel never evaluates; in the CSV such a
text gets a leading apostrophe, the convention spreadsheets read as "this is text". Numbers
stay numbers. The CSV is UTF-8 with a byte-order mark, without which Excel on a Chinese
Windows reads it as GBK and garbles every character.

Pure: rows in, bytes out; masking is the caller's (the rows are already masked).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import xlsxwriter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# How a number column is shown in the XLSX (the cell holds the number itself): a rate (a
# fraction 0..1) as a percentage with two decimals, the way the ranking prints it; a score with two.
NUMBER_FORMATS = {"percent": "0.00%", "decimal2": "0.00"}


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: float = 14  # characters, for the XLSX
    number_format: str | None = None  # a key of NUMBER_FORMATS, for the XLSX


@dataclass(frozen=True, slots=True)
class Cell:
    """A number with its own format, where a column mixes kinds (a summary's counts and rates)."""

    value: int | float
    number_format: str  # a key of NUMBER_FORMATS


@dataclass(frozen=True, slots=True)
class Sheet:
    """One sheet of a workbook: a table, and an optional note (who made it, when) under it."""

    name: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    note: str | None = None


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def to_csv(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.title for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else _safe_text(v) if isinstance(v, str) else v for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_xlsx(columns: Sequence[Column], rows: Sequence[Sequence[Any]], sheet: str, note: str | None = None) -> bytes:
    """One sheet: a bold header row, frozen, with a filter; ``note`` (e.g. who exported it,
    when, and with which filter) in a row under the table."""
    return to_xlsx_book([Sheet(sheet, columns, rows, note)])


def to_xlsx_book(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of several sheets (the evaluation report: one a ranking), each as ``to_xlsx``
    writes one. Sheet names are cut to Excel's 31 characters."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    formats = {key: book.add_format({"num_format": spec}) for key, spec in NUMBER_FORMATS.items()}
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name[:31])  # Excel's limit for a sheet's name
        shown = [formats.get(col.number_format) if col.number_format else None for col in sheet.columns]
        for c, col in enumerate(sheet.columns):
            ws.write_string(0, c, col.title, bold)
            ws.set_column(c, c, col.width)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, Cell):
                    ws.write_number(r, c, value.value, formats[value.number_format])
                elif isinstance(value, int | float):
                    ws.write_number(r, c, value, shown[c] if c < len(shown) else None)
                else:
                    ws.write_string(r, c, str(value))
        ws.freeze_panes(1, 0)
        if sheet.columns:
            ws.autofilter(0, 0, max(len(sheet.rows), 1), len(sheet.columns) - 1)
        if sheet.note:
            ws.write_string(len(sheet.rows) + 2, 0, sheet.note)
    book.close()
    return buf.getvalue()
