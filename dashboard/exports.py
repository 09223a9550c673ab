"""Tables leave the building as XLSX and CSV: one writer for every export (the desk's case
lists now, the evaluation reports of issue 14 next).

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


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: float = 14  # characters, for the XLSX


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
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    ws = book.add_worksheet(sheet[:31])  # Excel's limit for a sheet's name
    bold = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1})
    for c, col in enumerate(columns):
        ws.write_string(0, c, col.title, bold)
        ws.set_column(c, c, col.width)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, bool):
                ws.write_boolean(r, c, value)
            elif isinstance(value, int | float):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
    ws.freeze_panes(1, 0)
    if columns:
        ws.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)
    if note:
        ws.write_string(len(rows) + 2, 0, note)
    book.close()
    return buf.getvalue()
