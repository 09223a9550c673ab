"""`gridwall deadline`, as a city's staff would run it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def deadline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dashboard.cli", "deadline", *args, "--format", "json"],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "GRIDWALL_TZ": "Asia/Shanghai"})


@pytest.mark.parametrize(("start", "limit", "urgent", "due"), [
    ("2026-11-20T17:30", "4 工作时", False, "2026-11-23T11:30:00+08:00"),  # Friday evening -> Monday
    ("2026-11-20T23:00", "2 小时", True, "2026-11-21T01:00:00+08:00"),    # urgent: natural time, over midnight
    ("2026-04-30T17:00", "4 工作时", False, "2026-05-06T11:00:00+08:00"),  # 劳动节 1-5 May is off
    ("2026-05-08T17:00", "4 工作时", False, "2026-05-09T11:00:00+08:00"),  # Saturday 9 May is a 调休 workday
    ("2026-11-20T09:00Z", "1 工作日", False, "2026-11-23T17:00:00+08:00"),  # 17:00 local + 8 wh
])
def test_deadlines_follow_the_working_calendar(start, limit, urgent, due):
    out = deadline("--start", start, "--limit", limit, *(["--urgent"] if urgent else []))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["deadline_local"] == due


def test_a_bad_limit_is_refused_with_a_reason():
    out = deadline("--start", "2026-11-20T17:30", "--limit", "4 parsecs")
    assert out.returncode == 2 and "unknown time unit" in out.stdout
