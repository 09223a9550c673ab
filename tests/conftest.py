"""Fixtures: real stacks (see tests/servers.py), a Settings per test, and artifact paths.

`stack` is parametrised over "embedded" and "production". The production stack needs Debian's
mosquitto, redis-server and postgresql; `make test` installs them when run as root. Outside CI a
missing server skips those tests with its name; under CI (CI=true) it fails them, so a green CI
run always means both stacks were tested.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import servers

from dashboard.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _need(missing: list[str], what: str) -> None:
    if missing:
        message = f"{what} needs {', '.join(missing)} (make test installs them as root)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Stack:
    kind: str
    mqtt_url: str  # ingest's: on the production stack, the ingest account (it reads; it publishes only the outbox)
    redis_url: str
    database_url_factory: object  # () -> str
    publish_url: str  # the tests' publishers': on the production stack, the gateway account (servers.py)

    def settings(self, tmp_path: Path, **overrides: object) -> Settings:
        db_url = self.database_url_factory()  # type: ignore[operator]
        return load_settings(
            path=None,
            environ={},
            mqtt_url=self.mqtt_url,
            redis_url=self.redis_url,
            database_url=db_url,
            data_dir=tmp_path / "data",
            # Tests share a broker and ingest sessions persist: a group of its own per test keeps
            # earlier tests' offline workers from being dealt this test's messages.
            share_group=f"g{uuid.uuid4().hex[:8]}",
            **overrides,
        )


@pytest.fixture(scope="session")
def _embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("embedded")
    r = servers.start_redis("embedded", root / "redis")
    b = servers.start_broker("embedded", root / "broker")
    counter = iter(range(10**6))
    try:
        yield Stack("embedded", b.url, r.url, lambda: f"sqlite:///{root / f'db{next(counter)}.sqlite'}", b.url)
    finally:
        b.stop()
        r.stop()


@pytest.fixture(scope="session")
def _production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack | None]:
    if servers.production_missing():
        yield None
        return
    root = tmp_path_factory.mktemp("production")
    r = servers.start_redis("production", root / "redis")
    # mosquitto as deployed: persistence, password file and ACL (docs/deploy/).
    b = servers.Mosquitto(root / "broker")
    b.start()
    pg = servers.start_postgres()
    try:
        yield Stack("production", b.url, r.url, pg.new_database, b.publish_url)
    finally:
        pg.stop()
        b.stop()
        r.stop()


@pytest.fixture(params=["embedded", "production"])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    if request.param == "production":
        _need(servers.production_missing(), "the production stack")
        s = request.getfixturevalue("_production")
    else:
        s = request.getfixturevalue("_embedded")
    import redis

    redis.Redis.from_url(s.redis_url).flushall()  # every test starts from an empty hot state
    yield s


@pytest.fixture
def settings(stack: Stack, tmp_path: Path) -> Settings:
    return stack.settings(tmp_path)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def need_chromium() -> None:
    _need(servers.chromium_missing(), "the browser tests")


@pytest.fixture
def need_nginx() -> None:
    from proxy_servers import nginx_missing

    _need([m for m in [nginx_missing()] if m], "the auth-proxy tests")
