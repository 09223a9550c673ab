"""The wall's poll when there is no picture to give (dashboard/poll.py): 503 with a reason, never
a 200 with an empty picture that a screen would draw as dashes. On a Redis of the test's own,
really stopped and started again."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
import servers
from helpers import web_client

from dashboard import poll
from dashboard.config import load_settings
from dashboard.store.hot import HotStore, connect
from feeds.steps.publish import Ticker


@pytest.fixture
def own_redis(tmp_path: Path):
    box: dict[str, servers.Server | None] = {"server": servers.start_redis("embedded", tmp_path / "redis")}
    yield box
    if box["server"] is not None:
        box["server"].stop()


def test_redis_down_or_empty_is_503_with_a_reason_then_200(own_redis, tmp_path: Path) -> None:
    url = own_redis["server"].url
    settings = load_settings(path=None, environ={}, redis_url=url, data_dir=tmp_path / "data",
                             database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    client = web_client(settings)

    # Redis up but empty (ingest has not ticked): no picture yet.
    resp = client.get("/wall/poll?v=&b=")
    assert resp.status_code == 503 and resp.headers["Cache-Control"] == "no-store"
    body = orjson.loads(resp.data)
    assert body["reason"] == "no_picture" and abs(body["now"] - time.time()) < 5

    # Ingest's first tick: the whole picture, with the build the page compares.
    hot = HotStore(connect(url))
    Ticker(hot).tick(time.time())
    resp = client.get("/wall/poll?v=&b=")
    assert resp.status_code == 200
    msg = orjson.loads(resp.data)
    assert msg["build"] == poll.PAGE_BUILD and len(msg["build"]) == 12
    assert msg["live"]["v"] == 1 and isinstance(msg["kpi"]["cases"], dict)

    # Redis stops: 503 "redis_down", at once (no traceback page, no hang).
    own_redis["server"].stop()
    own_redis["server"] = None
    started = time.monotonic()
    resp = client.get(f"/wall/poll?v={msg['live']['v']}&b=")
    assert resp.status_code == 503 and orjson.loads(resp.data)["reason"] == "redis_down"
    assert time.monotonic() - started < 2
    assert "build" not in orjson.loads(resp.data), "a 503 carries no build: it must not trigger a reload"

    # It starts again (its append-only file brings the data back): 200 again, same client.
    own_redis["server"] = servers.start_redis("embedded", tmp_path / "redis")
    resp = client.get(f"/wall/poll?v={msg['live']['v']}&b=")
    assert resp.status_code == 200 and orjson.loads(resp.data)["live"] is None  # current: nothing new


def test_the_build_follows_what_the_page_is_made_of(tmp_path: Path) -> None:
    (tmp_path / "gridwall-x.js").write_text("var a = 1;\n")
    (tmp_path / "gridwall.css").write_text("a {}\n")
    first = poll.page_build((tmp_path,))
    assert first == poll.page_build((tmp_path,)), "the same files, the same build"
    (tmp_path / "gridwall-x.js").write_text("var a = 2;\n")
    assert poll.page_build((tmp_path,)) != first
    (tmp_path / "gridwall-x.js").write_text("var a = 1;\n")
    assert poll.page_build((tmp_path,)) == first
    (tmp_path / "notes.txt").write_text("not part of the page\n")
    assert poll.page_build((tmp_path,)) == first
