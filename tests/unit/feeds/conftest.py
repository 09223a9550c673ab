"""Shared fixtures for the feeds tests: a clock, the city (Shanghai's box), client payloads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from feeds.decoders import DecodeContext
from feeds.validate import Bounds

CLIENTS = Path(__file__).resolve().parents[2] / "fixtures" / "clients"

# 2024-05-20T14:30:00Z, a little after the Traccar sample's fix time.
NOW = 1716215400.0


@pytest.fixture
def now() -> float:
    return NOW


@pytest.fixture
def ctx() -> DecodeContext:
    return DecodeContext(now=NOW)


@pytest.fixture
def city() -> Bounds:
    # Shanghai, roughly; the Traccar sample (31.2304, 121.4737) is in it.
    return Bounds(min_lat=30.67, min_lon=120.85, max_lat=31.88, max_lon=122.2, margin_km=20)


@pytest.fixture
def client_payload() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (CLIENTS / name).read_bytes()

    return read
