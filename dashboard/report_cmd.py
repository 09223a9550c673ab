"""`gridwall report`: the periodic evaluation report (日报 … 年报) as PDF or XLSX (docs/reports.md).

    gridwall report --period month --at 2026-11 --format pdf                 # report-month-2026-11-zh.pdf
    gridwall report --period week --at 2026-W47 --format xlsx --lang en --out week47.xlsx
    gridwall report --period quarter --format pdf                            # the last quarter that ended

The figures are `gridwall rank`'s for the same period (dashboard/reports/model.py). Without
``--at`` the report is of the last period that has ended. The command is the operator's: it is
not masked (masked roles get masked exports from the desk). Exit 2 on a bad argument (a period
that has not begun, a missing font), 1 when the database cannot be read.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from dashboard.casework.period_labels import PeriodLabelError, chosen_first_day
from dashboard.casework.periods import PERIOD_KINDS
from dashboard.config import Settings
from dashboard.reports.files import FORMATS, render, stem
from dashboard.reports.model import ReportError, build
from dashboard.store import db


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--period", choices=PERIOD_KINDS, default="month", help="the report's period (default month)")
    parser.add_argument("--at", help="which one: 2026-11-03 | 2026-W47 | 2026-11 | 2026-Q4 | 2026 "
                                     "(default: the last one that has ended)")
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--lang", choices=("zh", "en"), help="the report's language (default: the configured one)")
    parser.add_argument("--out", type=Path, help="the file to write (default: report-<period>-<at>-<lang>.<format>)")
    parser.add_argument("--now", type=datetime.fromisoformat, help="count as seen at this time (default: now)")


def command(args: argparse.Namespace, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)
    lang = args.lang or settings.lang
    now = time.time() if args.now is None else (args.now if args.now.tzinfo else args.now.replace(tzinfo=zone)).timestamp()
    try:
        first = chosen_first_day(args.period, args.at, datetime.fromtimestamp(now, zone).date())
        report = build(db.engine_for(settings.resolved_database_url), settings, args.period, first, now, lang)
        body = render(report, args.format, settings)
    except (PeriodLabelError, ReportError, OSError) as exc:
        print(f"gridwall report: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"gridwall report: cannot read the database ({exc.__class__.__name__}); "
              "is the schema current? run `gridwall migrate`", file=sys.stderr)
        return 1
    out = args.out or Path(f"{stem(args.period, report.label, lang)}.{args.format}")
    try:
        out.write_bytes(body)
    except OSError as exc:
        print(f"gridwall report: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"{out} ({len(body):,} bytes)")
    return 0
