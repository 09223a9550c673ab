"""``gridwall decode``: same pipeline as ingest, JSON lines out, exit code says taken or not."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import orjson

from feeds.decode_cmd import run

CLIENTS = Path(__file__).resolve().parents[2] / "fixtures" / "clients"


def test_prints_normalised_records_and_returns_0(tmp_path, ctx, city):
    path = tmp_path / "traccar.json"
    shutil.copy(CLIENTS / "traccar_position_forward.json", path)
    out = io.StringIO()
    assert run("traccar/positions", str(path), anywhere=False, ctx=ctx, bounds=city, out=out) == 0
    (line,) = out.getvalue().splitlines()
    record = orjson.loads(line)
    assert record["record"] == "position"
    assert record["device_id"] == "traccar:123456789012345"
    assert round(record["speed"], 3) == 25.002
    assert record["ts"] == 1716215395.0


def test_rejection_prints_code_and_sentence_and_returns_1(tmp_path, ctx, city):
    path = tmp_path / "bad.json"
    path.write_bytes(b'{"lat": 39.915, "lon": 116.404, "ts": 1716215395}')
    out = io.StringIO()
    assert run("gridwall/gps/collector/C1", str(path), anywhere=False, ctx=ctx, bounds=city, out=out) == 1
    assert out.getvalue().startswith("rejected outside_city: ")
    out = io.StringIO()
    assert run("gridwall/gps/collector/C1", str(path), anywhere=True, ctx=ctx, bounds=city, out=out) == 0
    assert orjson.loads(out.getvalue())["record"] == "position"


def test_open311_gives_two_case_events(ctx, city):
    out = io.StringIO()
    code = run("open311/requests", str(CLIENTS / "open311_requests_raw.txt"), anywhere=True, ctx=ctx, bounds=city,
               out=out)  # fmt: skip
    assert code == 0
    kinds = [orjson.loads(line)["action"] for line in out.getvalue().splitlines()]
    assert kinds == ["report", "close"]


def test_ignored_message_prints_no_record_and_returns_0(tmp_path, ctx, city, capsys):
    path = tmp_path / "card.json"
    path.write_bytes(b'{"_type":"card","name":"Alice"}')
    out = io.StringIO()
    assert run("owntracks/alice/phone", str(path), anywhere=False, ctx=ctx, bounds=city, out=out) == 0
    assert out.getvalue() == ""
    assert "ignores on purpose" in capsys.readouterr().err


def test_unreadable_file_returns_2(tmp_path, ctx, city):
    assert run("gridwall/gps/collector/C1", str(tmp_path / "missing.json"), anywhere=False, ctx=ctx, bounds=city) == 2
