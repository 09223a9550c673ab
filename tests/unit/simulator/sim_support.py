"""Shared fixtures data for the simulator tests (imported by name: no __init__ under tests)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from dashboard.city.model import City, load_city

ROOT = Path(__file__).resolve().parents[3]
CITY_DIR = ROOT / "assets" / "city"
CST = timezone(timedelta(hours=8))


def city() -> City:
    return load_city(CITY_DIR)


def local(*args: int) -> float:
    """Epoch seconds of a local (Asia/Shanghai) wall-clock time."""
    return datetime(*args, tzinfo=CST).timestamp()


MONDAY_9 = local(2026, 3, 9, 9, 0)  # a Monday morning, collectors on duty

