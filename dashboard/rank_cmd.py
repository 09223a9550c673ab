"""`gridwall rank`: the evaluation ranking (考评排名) of a period, from the SQL history.

    gridwall rank --by department --period month                     # this month so far
    gridwall rank --by street --period month --at 2026-10-01 --format csv > streets-2026-10.csv
    gridwall rank --by collector --from 2026-10-01 --to 2026-10-15 --format json

Every object gets its position, score, grade, every rate of docs/domain.md §6.2 and every counter
of §6.1. Rows with a zero denominator show "—" and have no position (docs/casework.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import unicodedata
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from dashboard.casework.counters import COUNTER_FIELDS
from dashboard.casework.labels import DERIVED_COUNTERS, counter_label, rate_label
from dashboard.casework.periods import PERIOD_KINDS, date_range, period_range
from dashboard.casework.rates import RATES, percent
from dashboard.city.model import load_city
from dashboard.config import Settings
from dashboard.store import db
from dashboard.store.evaluation import (
    OBJECTS,
    Evaluation,
    city_grid_codes,
    city_objects,
    evaluate,
    read_grid_collectors,
)

HEAD = {
    "position": ("排名", "rank"), "code": ("代码", "code"), "name": ("名称", "name"),
    "score": ("综合得分", "score"), "grade": ("等级", "grade"),
}  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--by", choices=tuple(OBJECTS), default="department", help="what to rank (default department)")
    parser.add_argument("--period", choices=PERIOD_KINDS, default="month", help="evaluation period (default month)")
    parser.add_argument("--at", type=date.fromisoformat, help="a day in the period, YYYY-MM-DD (default: today)")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, help="any range: first day (with --to)")
    parser.add_argument("--to", dest="last", type=date.fromisoformat, help="any range: last day, included")
    parser.add_argument("--now", type=datetime.fromisoformat, help="count as seen at this time (default: now)")
    parser.add_argument("--preset", help="score preset: cjt292 | jinniu (default: [casework] preset or cjt292)")
    parser.add_argument("--format", choices=("table", "json", "csv"), default="table")
    parser.add_argument("--lang", choices=("zh", "en"), help="names and headers (default: the configured language)")


def object_names(settings: Settings, lang: str) -> dict[str, str]:
    try:
        city = load_city(settings.city_dir)
    except (OSError, KeyError, ValueError):
        return {}
    names = dict(city.names if lang == "zh" else city.names_en)
    names.update({d.code: d.name_zh if lang == "zh" else d.name_en for d in city.departments})
    return names


def records(result: Evaluation, names: dict[str, str]) -> list[dict[str, Any]]:
    """One flat record per object: position, code, name, score, grade, rates (0..1), counters."""
    out = []
    for row in result.rows:
        record: dict[str, Any] = {"position": row.position, "code": row.code, "name": names.get(row.code, ""),
                                  "score": row.score, "grade": row.grade}
        record.update(row.rates)
        record.update({name: getattr(row.counters, name) for name in (*COUNTER_FIELDS, *DERIVED_COUNTERS)})
        out.append(record)
    return out


def add_duty_columns(rows: list[dict[str, Any]], settings: Settings, period: tuple[float, float], now: float) -> None:
    """The collectors' 在岗率, coverage and distance over the period (docs/supervision.md
    "Collectors"), from the day figures ingest keeps in Redis (45 days). Without Redis, or for a
    period older than that, the columns say "—"."""
    from dashboard.casework.collector_duty import days_of, figures
    from dashboard.store.hot import HotStore, connect
    from dashboard.supervision_config import from_settings

    sup = from_settings(settings)
    local_days = days_of(period[0], period[1], settings.timezone)
    read = HotStore(connect(settings.resolved_redis_url)).watch_states().duty_days(d.isoformat() for d in local_days)
    days = None if read is None else {d: read[d.isoformat()] for d in local_days}
    if days is None:
        print("gridwall rank: no duty figures (Redis cannot be read: is it up?)", file=sys.stderr)
    got = figures([r["code"] for r in rows], days, period, now, sup.rota_of, sup.areas, settings.timezone) if days else {}
    for r in rows:
        f = got.get(r["code"])
        r["on_duty_rate"] = f.on_duty_rate if f else None
        r["coverage"] = f.coverage if f else None
        r["km"] = round(f.km, 1) if f else None


DUTY_HEAD = {"on_duty_rate": ("在岗率", "on duty"), "coverage": ("网格覆盖率", "grid coverage"),
             "km": ("里程(公里)", "km walked")}


def column_label(key: str, lang: str) -> str:
    if key in HEAD:
        return HEAD[key][0 if lang == "zh" else 1]
    if key in DUTY_HEAD:
        return DUTY_HEAD[key][0 if lang == "zh" else 1]
    return rate_label(key, lang) if key in RATES else counter_label(key, lang)


def cell_text(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in RATES or key in ("on_duty_rate", "coverage"):
        return percent(value)
    if key == "score":
        return f"{value:.2f}"
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def print_table(rows: list[dict[str, Any]], lang: str, title: str) -> None:
    keys = list(rows[0]) if rows else list(HEAD)
    table = [[column_label(k, lang) for k in keys]] + [[cell_text(k, r[k]) for k in keys] for r in rows]
    widths = [max(_width(line[i]) for line in table) for i in range(len(keys))]
    print(title)
    for n, line in enumerate(table):
        cells = [_pad(cell, widths[i], right=n > 0 and keys[i] not in ("code", "name", "grade")) for i, cell in enumerate(line)]
        print("  ".join(cells).rstrip())


def _period(args: argparse.Namespace, zone: ZoneInfo, timezone: str, now: float) -> tuple[tuple[float, float], str]:
    if args.first or args.last:
        if not (args.first and args.last):
            raise ValueError("--from and --to go together")
        return date_range(args.first, args.last, timezone), f"{args.first} – {args.last}"
    day = args.at or datetime.fromtimestamp(now, zone).date()
    period = period_range(args.period, day, timezone)
    return period, f"{args.period} {datetime.fromtimestamp(period[0], zone):%Y-%m-%d}"


def command(args: argparse.Namespace, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)
    lang = args.lang or settings.lang
    now = time.time() if args.now is None else (
        args.now if args.now.tzinfo else args.now.replace(tzinfo=zone)).timestamp()
    casework = settings.section("casework")
    preset = args.preset or casework.get("preset", "cjt292")
    try:
        period, label = _period(args, zone, settings.timezone, now)
        watchers = read_grid_collectors(casework["grid_collectors_file"]) if "grid_collectors_file" in casework else None
        engine = db.engine_for(settings.resolved_database_url)
        result = evaluate(engine, args.by, period, now, preset, grid_codes=city_grid_codes(settings.city_dir),
                          grid_collectors=watchers, known=city_objects(settings.city_dir).get(args.by))
    except (ValueError, OSError) as exc:
        print(f"gridwall rank: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"gridwall rank: cannot read the database ({exc.__class__.__name__}); "
              "is the schema current? run `gridwall migrate`", file=sys.stderr)
        return 1
    rows = records(result, object_names(settings, lang))
    if args.by == "collector":
        add_duty_columns(rows, settings, period, now)
    if args.format == "json":
        meta = {"by": args.by, "preset": preset if isinstance(preset, str) else preset.get("name"),
                "start": datetime.fromtimestamp(period[0], zone).isoformat(),
                "end": datetime.fromtimestamp(period[1], zone).isoformat(),
                "cutoff": datetime.fromtimestamp(result.cutoff, zone).isoformat(), "rows": rows}
        print(json.dumps(meta, ensure_ascii=False, indent=1))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        keys = list(rows[0]) if rows else list(HEAD)
        writer.writerow(keys)
        writer.writerows([["" if r[k] is None else r[k] for k in keys] for r in rows])
    else:
        cutoff = datetime.fromtimestamp(result.cutoff, zone)
        print_table(rows, lang, f"{args.by} · {label} · {preset} · {cutoff:%Y-%m-%d %H:%M} ({settings.timezone})")
    if result.unlisted is not None and result.unlisted.codes:
        # Not a row: a code the city does not list is a sender's error, shown so it gets fixed.
        print(f"gridwall rank: codes the city does not list, left out of the ranking: "
              f"{', '.join(result.unlisted.codes)}", file=sys.stderr)
    return 0
