"""`gridwall demo` as a user runs it: one launcher owns every part, Ctrl-C stops all of them
(redis-server included), and a second start reuses the data directory."""

from __future__ import annotations

import time
from pathlib import Path

import redis
from helpers import Demo, alive, descendants, eventually

from dashboard.store.hot import DEV


def test_demo_starts_stops_cleanly_and_reuses_its_data(tmp_path):
    data = tmp_path / "data"
    demo = Demo(data, "--collectors", "20", "--vehicles", "10", "--backfill-days", "1")
    try:
        health = demo.wait_healthy()
        assert health["parts"]["redis"]["up"] and health["parts"]["broker"]["up"]
        r = redis.Redis(unix_socket_path=str(data / "redis.sock"))
        eventually(lambda: r.hlen(DEV) > 0, 60, "simulated devices in Redis")
        children = descendants(demo.proc.pid)
        names = {Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace") for p in children}
        assert any("redis-server" in n for n in names), names
        assert any("feeds.broker" in n for n in names), names
        assert len(children) >= 6  # redis, broker, ingest, web master + workers, simulator
        r.close()
    finally:
        code = demo.stop()
    assert code == 0, demo.output()
    time.sleep(0.5)
    assert [p for p in children if alive(p)] == [], "orphans left after Ctrl-C"
    assert (data / "gridwall.db").exists() and (data / "redis.aof").exists()

    # A second start finds the state of the first: Redis reloads its append-only file.
    again = Demo(data)
    try:
        again.wait_healthy()
        r = redis.Redis(unix_socket_path=str(data / "redis.sock"))
        assert r.hlen(DEV) > 0
        r.close()
    finally:
        assert again.stop() == 0, again.output()


def test_a_killed_launcher_leaves_no_orphans(tmp_path):
    demo = Demo(tmp_path / "data")
    try:
        demo.wait_healthy()
        children = descendants(demo.proc.pid)
        demo.proc.kill()  # SIGKILL: no chance to clean up; the kernel's PDEATHSIG does it
        demo.proc.wait(5)
        eventually(lambda: not [p for p in children if alive(p)], 20, "children gone after SIGKILL")
    finally:
        demo.stop()
