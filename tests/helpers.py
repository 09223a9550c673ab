"""Small helpers shared by the integration and browser tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from dashboard.config import Settings
from dashboard.launcher import free_port

ROOT = Path(__file__).resolve().parent.parent


def eventually(check: Callable[[], Any], timeout_s: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout_s} s (last: {last!r})")


@contextmanager
def running_ingest(settings: Settings, worker_id: str | None = None, share: bool = True) -> Iterator[Any]:
    """An ingest worker in a thread. Tests share a broker and ingest sessions are persistent, so
    each test gets its own worker id unless it asks for one (to test the restart)."""
    from feeds.ingest import IngestWorker

    worker = IngestWorker(settings, worker_id or f"t-{uuid.uuid4().hex[:8]}", share=share)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        eventually(worker.subscribed.is_set, 15, "ingest subscribed at the broker")
        yield worker
    finally:
        worker.stop()
        thread.join(15)


@contextmanager
def publisher(settings: Settings, name: str = "test-pub", url: str | None = None) -> Iterator[Any]:
    """A client that publishes to the broker of ``settings``: as ``url`` when given, else as the
    tests' gateway account (on the production stack ingest's account may not publish)."""
    from servers import publisher_url

    from feeds.mqtt import make_client

    client = make_client(url or publisher_url(settings.resolved_mqtt_url), f"{name}-{os.getpid()}")
    try:
        eventually(client.is_connected, 10, "publisher connected")
        yield client
    finally:
        client.loop_stop()
        client.disconnect()


def gps(device_id: str, lat: float, lon: float, ts: float | None = None, kind: str = "collector", **extra: Any) -> tuple[str, bytes]:
    body = {"id": device_id, "kind": kind, "lat": lat, "lon": lon, "ts": ts or time.time(), **extra}
    return f"gridwall/gps/{kind}/{device_id}", orjson.dumps(body)


def in_steps(events: list[Any], start: float, end: float, step_s: float) -> Iterator[tuple[float, list[Any]]]:
    """The events (in time order) after ``start`` up to ``end`` as they would arrive live: at
    every step, its time and the events since the step before (possibly none)."""
    rest = [e for e in events if start < e.ts <= end]
    now, i = start, 0
    while now < end:
        now = min(now + step_s, end)
        batch = []
        while i < len(rest) and rest[i].ts <= now:
            batch.append(rest[i])
            i += 1
        yield now, batch


def descendants(pid: int) -> set[int]:
    """Every live process below pid (walks /proc; Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# The token the tests' browsers and requests carry (browser_support.chrome, http_json), an
# admin's, granted into each app's database by the fixture that starts the app (grant). Tests of
# access itself make their own tokens and browsers without it.
TEST_TOKEN = "gridwall-tests-admin-6b1f0c2e9d8a4b7f"


def grant(database_url: str, role: str = "admin", name: str | None = None,
          districts: list[str] | None = None, token: str | None = None) -> str:
    """A token of ``role`` in the database of the app under test (docs/access.md), TEST_TOKEN
    unless ``token`` says otherwise (a new random one for token=""); granting one that is there
    already is a no-op."""
    from sqlalchemy.exc import IntegrityError

    from dashboard.access.secrets import new_token, token_digest
    from dashboard.store import db
    from dashboard.store.accounts import Accounts

    db.upgrade(database_url)
    token = TEST_TOKEN if token is None else (token or new_token())
    with contextlib.suppress(IntegrityError):
        Accounts(db.engine_for(database_url)).add_token(name or f"test-{role}", role, districts,
                                                        token_digest(token), time.time())
    return token


def web_client(settings: Settings, token: str | None = TEST_TOKEN) -> Any:
    """The app (create_app, as gunicorn loads it) and a Flask test client that carries ``token``
    (granted first; None: an anonymous client)."""
    from dashboard.app import create_app

    if token is not None:
        grant(settings.resolved_database_url, token=token)
    client = create_app(settings).server.test_client()
    if token is not None:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def http_json(url: str, token: str | None = TEST_TOKEN) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=bearer(token)), timeout=5) as resp:
            return resp.status, orjson.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, orjson.loads(err.read())


class Demo:
    """`gridwall demo` as a user runs it, in a subprocess, on free ports."""

    def __init__(self, data_dir: Path, *sim_args: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = dict(os.environ, GRIDWALL_DATA_DIR=str(data_dir), GRIDWALL_PORT=str(self.port), PYTHONUNBUFFERED="1")
        for var in ("GRIDWALL_MQTT_URL", "GRIDWALL_REDIS_URL", "GRIDWALL_DATABASE_URL", "GRIDWALL_CONFIG"):
            env.pop(var, None)
        args = [sys.executable, "-m", "dashboard.cli", "demo"]
        if sim_args:
            args += ["--", *sim_args]
        self.log = open(data_dir.parent / f"demo-{self.port}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._token: str | None = None

    @property
    def token(self) -> str:
        """An admin token in the demo's database, for the tests' own requests and browsers (the
        demo's schema is in place once it answers /healthz)."""
        if self._token is None:
            self._token = grant(f"sqlite:///{self.data_dir.resolve() / 'gridwall.db'}")
        return self._token

    @property
    def wall_url(self) -> str:
        """The wall's address with the token the demo made on its first start, as it printed it."""
        def printed() -> str | None:
            self.log.flush()
            for line in Path(self.log.name).read_text(errors="replace").splitlines():
                if line.strip().startswith("wall (大屏): "):
                    return line.split(": ", 1)[1].strip()
            return None

        return eventually(printed, 60, "the demo's wall address printed")

    def wait_healthy(self, timeout_s: float = 120) -> dict[str, Any]:
        """Until /healthz says every part is up; its detailed answer (read as an admin)."""
        def healthy() -> Any:
            assert self.proc.poll() is None, f"demo exited early:\n{self.output()}"
            try:
                status, body = http_json(self.url + "healthz", None)  # anyone's: up or down
            except OSError:
                return None
            return body if status == 200 else None

        eventually(healthy, timeout_s, "demo healthy")
        return eventually(lambda: (r := http_json(self.url + "healthz", self.token))[0] == 200 and r[1], 30,
                          "demo healthy, in detail")

    def wait_history_in(self, timeout_s: float = 180) -> None:
        """Until the board says the history is in: while the simulator's backfill streams in,
        the wall shows its loading state instead of case figures (docs/wall.md)."""
        # Ready for 10 s in a row: the backfill's first old events may not have reached ingest
        # yet when the first board is cut, and that board says ready.
        since: list[float] = []

        def settled() -> bool:
            try:
                time.sleep(0.2)  # a wall's pace, well inside the poll's rate limit (poll_rate)
                status, body = http_json(self.url + "wall/poll", self.token)
            except OSError:
                return False
            if status == 429:
                return False  # rate-limited: says nothing of the history
            board = body.get("board") if status == 200 and isinstance(body, dict) else None
            if not (board and (board.get("history") or {}).get("ready", True) is True):
                since.clear()
                return False
            since[:] = since or [time.monotonic()]
            return time.monotonic() - since[0] >= 10

        eventually(settled, timeout_s, "the demo's history in")

    @property
    def mqtt_url(self) -> str:
        """The demo's broker, as its start banner names it (the embedded port may vary)."""
        for line in Path(self.log.name).read_text(errors="replace").splitlines():
            if line.strip().startswith("mqtt: "):
                return line.split("mqtt: ", 1)[1].strip()
        raise AssertionError(f"the demo did not name its broker:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self, timeout_s: float = 40) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError(f"demo did not stop on Ctrl-C within {timeout_s} s") from None
        self.log.close()
        return int(self.proc.returncode)


def case_event(case_id: str, action: str, event_id: str, ts: float, **case: Any) -> tuple[str, bytes]:
    body: dict[str, Any] = {"event_id": event_id, "case_id": case_id, "action": action, "ts": ts, "actor": "test"}
    if case:
        body["case"] = case
    return f"gridwall/case/{case_id}", orjson.dumps(body)


def report(case_id: str, ts: float, event_id: str | None = None, **fields: Any) -> tuple[str, bytes]:
    case = {"source": "supervisor", "category": "event", "small_code": "0102", "grid_code": "33990200100101",
            "lat": 30.27, "lon": 120.16, "urgent": False, **fields}
    return case_event(case_id, "report", event_id or f"{case_id}-report", ts, **case)


def lifecycle_to_dispatch(case_id: str, t0: float, department: str = "环卫处") -> list[tuple[str, bytes]]:
    """report -> accept -> file -> dispatch, a minute apart: the disposal clock starts at dispatch."""
    return [
        report(case_id, t0),
        case_event(case_id, "accept", f"{case_id}-accept", t0 + 60),
        case_event(case_id, "file", f"{case_id}-file", t0 + 120),
        case_event(case_id, "dispatch", f"{case_id}-dispatch", t0 + 180, department=department),
    ]


# --- Real processes and a recording publisher, for the fault and soak tests ---------------------


class GridwallProcess:
    """A `gridwall <command>` as production runs it: its own process, pointed at the servers by
    GRIDWALL_* variables, its output in a log file. ``extra_env`` sets further settings
    (GRIDWALL_SHARE_GROUP, GRIDWALL_PORT, ...)."""

    def __init__(self, settings: Settings, args: list[str], log_path: Path, extra_env: dict[str, str] | None = None) -> None:
        from dashboard.config import child_environment

        env = child_environment(settings)
        env.pop("GRIDWALL_CONFIG", None)
        env.update(PYTHONUNBUFFERED="1", GRIDWALL_SHARE_GROUP=settings.share_group, **(extra_env or {}))
        self.env, self.args, self.log_path = env, args, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def start(self) -> None:
        from servers import die_with_spawning_thread

        with open(self.log_path, "ab") as log:
            log.write(f"--- start {' '.join(self.args)} at {time.time():.3f}\n".encode())
            log.flush()
            self.proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", *self.args], cwd=ROOT, env=self.env,
                                         stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_spawning_thread())

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """A crash: SIGKILL, no clean-up of any kind."""
        if self.running():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout_s: float = 20) -> None:
        if self.running():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def output(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""


def ingest_process(settings: Settings, worker_id: str, log_dir: Path, extra_env: dict[str, str] | None = None) -> GridwallProcess:
    """`gridwall ingest --worker-id <id>`, not yet started."""
    return GridwallProcess(settings, ["ingest", "--worker-id", worker_id], log_dir / f"ingest-{worker_id}.log", extra_env)


class AckedPublisher:
    """An MQTT 5 publisher that keeps its session (SessionExpiryInterval, clean start off), so
    what the broker had not acknowledged when the connection dropped is sent again after the
    reconnect, and that keeps each message's PUBACK reason code: 0 success, 16 "no matching
    subscribers" (accepted, but nobody was there to get it), >= 128 refused.

    ``publish`` records the caller's key under paho's message id; the reason codes arrive on
    paho's thread, which calls on_publish holding paho's own lock, so no lock of ours is taken
    there (taking one would deadlock against publish). Message ids wrap at 65,535: ``keyed``
    is for runs shorter than that, ``code_counts`` counts any number."""

    def __init__(self, url: str, client_id: str, session_expiry_s: int = 3600) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        from feeds.mqtt import parse_mqtt_url

        broker = parse_mqtt_url(url)
        assert broker.v5, "PUBACK reason codes are MQTT 5"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if broker.username:
            self.client.username_pw_set(broker.username, broker.password)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)  # while the broker is away, everything waits in paho
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_publish = self._on_publish
        self.codes: dict[int, int] = {}  # mid -> PUBACK reason code
        self.keys: dict[int, str] = {}  # mid -> the caller's key
        self.code_counts: dict[int, int] = {}
        self.acked = 0
        self.sent = 0
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry_s
        self.client.connect_async(broker.host, broker.port, keepalive=10, clean_start=False, properties=props)
        self.client.loop_start()
        eventually(self.client.is_connected, 10, "publisher connected")

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _props: Any) -> None:
        code = int(getattr(reason, "value", reason))
        self.codes[mid] = code
        self.code_counts[code] = self.code_counts.get(code, 0) + 1
        self.acked += 1

    def publish(self, key: str | None, topic: str, payload: bytes, qos: int = 1) -> None:
        info = self.client.publish(topic, payload, qos=qos)
        self.sent += 1
        if key is not None and qos > 0:
            self.keys[info.mid] = key

    def keyed(self) -> tuple[dict[str, int], list[str]]:
        """(key -> PUBACK reason code) for the acknowledged, and the keys never acknowledged."""
        got = {key: self.codes[mid] for mid, key in self.keys.items() if mid in self.codes}
        return got, [key for mid, key in self.keys.items() if mid not in self.codes]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of these processes together (psutil when installed, else /proc)."""
    total = 0
    for pid in pids:
        try:
            import psutil

            total += psutil.Process(pid).memory_info().rss
            continue
        except ImportError:
            pass
        except Exception:  # psutil.NoSuchProcess and friends: gone is zero
            continue
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total
