"""The whole path on real servers: a message published to the broker lands in Redis, in SQL
and in the /healthz counts; a bad one is a dead letter and does not stop the good ones."""

from __future__ import annotations

import time

import orjson
from helpers import eventually, gps, publisher, running_ingest, web_client

from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.hot import DEV, HotStore, connect


def test_published_fix_reaches_redis_and_health(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    with running_ingest(settings) as worker, publisher(settings) as pub:
        topic, body = gps("C0001", 30.27, 120.16, speed=4.2, name="张三")
        pub.publish(topic, body, qos=1)
        doc = eventually(lambda: hot.r.hget(DEV, "C0001"), 10, "fix in Redis")
        state = orjson.loads(doc)
        assert (state["lat"], state["lon"], state["kind"]) == (30.27, 120.16, "collector")
        # the tick publishes it to the screens
        eventually(lambda: worker.ticker.tick() or hot.version() > 0, 5, "a snapshot version")
        assert b"C0001" in b"".join(hot.deltas(0, hot.version()))

        client = web_client(settings)
        resp = eventually(lambda: (r := client.get("/healthz")).status_code == 200 and r, 10, "healthz 200")
        body = resp.get_json()
        assert body["parts"]["redis"]["up"] and body["parts"]["database"]["up"] and body["parts"]["broker"]["up"]
        assert body["feeds"]["gps"]["accepted"] >= 1
        assert body["feeds"]["gps"]["last_message_age_s"] < 10
        assert set(body["feeds"]) == {"gps", "video", "case"}

        # The screen's poll: the whole picture first, then nothing until something changes.
        first = client.get("/wall/poll?v=&b=")
        assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
        msg = orjson.loads(first.data)
        assert [d["id"] for d in msg["live"]["full"]] == ["C0001"] and msg["live"]["v"] == hot.version()
        assert abs(msg["now"] - time.time()) < 5 and msg["kpi"]["devices"]["collector"] == 1
        again = orjson.loads(client.get(f"/wall/poll?v={msg['live']['v']}&b=").data)
        assert again["live"] is None
        # Garbage in the query string is "no version yet": the whole picture, never an error.
        assert "full" in orjson.loads(client.get("/wall/poll?v=abc&b=x").data)["live"]


def test_bad_messages_are_dead_letters_and_good_ones_land(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    with running_ingest(settings), publisher(settings) as pub:
        pub.publish("gridwall/gps/collector/C1", b"{not json", qos=1)
        topic, body = gps("C2", 30.27, 120.16)
        pub.publish(topic, body, qos=1)
        pub.publish("gridwall/gps/collector/C3", orjson.dumps({"id": "C3", "kind": "collector", "lat": 95.0, "lon": 120.0, "ts": time.time()}), qos=1)
        topic, body = gps("C4", 30.28, 120.17)
        pub.publish(topic, body, qos=1)
        eventually(lambda: hot.r.hget(DEV, "C4"), 10, "the good message after the bad ones")
        assert hot.r.hget(DEV, "C2") is not None
        assert hot.r.hget(DEV, "C1") is None and hot.r.hget(DEV, "C3") is None
        stats = eventually(lambda: (s := hot.stats()["gps"])["rejected"] >= 2 and s, 5, "reject counts")
        assert stats["rejected_by_reason"] == {"invalid_json": 1, "coord_out_of_range": 1}
        store = DeadLetterStore(db.engine_for(settings.resolved_database_url))
        letters = eventually(lambda: len(d := store.list()) >= 2 and d, 5, "the dead letters in SQL")
        assert {d.reason for d in letters} == {"invalid_json", "coord_out_of_range"}
        assert any(d.payload == b"{not json" for d in letters)


def test_health_is_503_when_no_worker_is_connected(settings):
    client = web_client(settings)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    body = resp.get_json()
    assert body["parts"]["broker"]["up"] is False
    assert body["parts"]["redis"]["up"] is True
