"""`gridwall deadline`: when is a case due, by the city's own rules? For staff checking a rule.

    gridwall deadline --start 2026-11-20T17:30 --limit '4 工作时'        -> Monday 11:30
    gridwall deadline --start 2026-11-20T23:00 --limit '2 小时' --urgent -> 01:00 next day

A start without a UTC offset is read in the city's time zone. The working calendar (periods,
weekends, holidays and 调休 make-up days) and the urgent rule come from the same configuration
as the wall ([casework] in the config file; defaults in dashboard/data/).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboard.casedata import city_rules
from dashboard.casework.timelimits import Basis, parse_limit
from dashboard.config import Settings

WEEKDAYS_ZH = "一二三四五六日"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", required=True, help="ISO time the clock starts, e.g. 2026-11-20T17:30 (city time)")
    parser.add_argument("--limit", required=True, help="e.g. '4 工作时', '1 工作日', '2 小时', '30 分钟'")
    parser.add_argument("--urgent", action="store_true", help="urgent case: the limit runs in natural time")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _local(ts: float, zone: ZoneInfo) -> str:
    t = datetime.fromtimestamp(ts, zone)
    return f"{t:%Y-%m-%d %H:%M} 周{WEEKDAYS_ZH[t.weekday()]}"


def command(args: argparse.Namespace, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)
    try:
        start = datetime.fromisoformat(args.start)
        limit = parse_limit(args.limit, urgent=args.urgent)
    except ValueError as exc:
        print(f"gridwall deadline: {exc}")
        return 2
    if start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    rules, _policy = city_rules(settings.section("casework"))
    basis = rules.basis(limit, args.urgent)
    due = rules.deadline(start.timestamp(), limit, args.urgent)
    result = {
        "start": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "limit": str(limit),
        "basis": basis.value,
        "deadline": datetime.fromtimestamp(due, UTC).isoformat().replace("+00:00", "Z"),
        "deadline_local": datetime.fromtimestamp(due, zone).isoformat(),
        "timezone": settings.timezone,
    }
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False))
        return 0
    clock = "natural time (自然时间)" if basis is Basis.NATURAL else "working time (工作时间)"
    print(f"start     {_local(start.timestamp(), zone)}  ({settings.timezone})")
    print(f"limit     {limit}, counted in {clock}")
    print(f"deadline  {_local(due, zone)}  ({settings.timezone})   = {result['deadline']}")
    return 0
