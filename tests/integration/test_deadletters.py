"""Dead letters an operator can use, on real Redis and SQL (both stacks): kept whole in SQL and
bounded by dead_letter_max; `gridwall deadletters list` by feed and reason, `show`, and `replay`
through the ingest pipeline after a configuration fix, where a letter still bad becomes a new
one. docs/deadletters.md."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

import orjson
import pytest
from helpers import case_event, gps, report
from sqlalchemy.exc import DataError

from dashboard.cli import build_parser
from dashboard.config import Settings
from dashboard.health import health
from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore, NewDeadLetter
from dashboard.store.hot import DEV, HotStore, connect
from feeds.ingest import build_pipeline
from feeds.pipeline import Message

BEIJING = {"lat": 39.9, "lon": 116.4}  # far outside the demo city's bounds (Hangzhou's area)
BINARY = b"\xff\xfe\x00\x01 not text"


def gridwall(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    """The command as the CLI wires it, with the test's settings."""
    words = ["deadletters", *map(str, argv)]
    args = build_parser(words).parse_args(words)
    code = args.handler(args, settings)
    out = capsys.readouterr()
    return code, out.out, out.err


def store_of(settings: Settings) -> DeadLetterStore:
    return DeadLetterStore(db.engine_for(settings.resolved_database_url))


def refuse(settings: Settings) -> dict[str, int]:
    """Four refused messages of two feeds and two reasons, through the real pipeline, and a good
    one. Returns name -> dead letter id."""
    db.upgrade(settings.resolved_database_url)
    hot = HotStore(connect(settings.resolved_redis_url))
    pipeline = build_pipeline(settings, db.engine_for(settings.resolved_database_url), hot)
    now = time.time()
    bj_topic, bj_body = gps("BJ1", BEIJING["lat"], BEIJING["lon"], ts=now - 5)
    messages = {
        "outside": Message(bj_topic, bj_body, now, 1),
        "gps_json": Message("gridwall/gps/collector/C1", b"{not json", now, 1),
        "binary": Message("gridwall/gps/collector/C2", BINARY, now, 1),
        "video_json": Message("gridwall/video/CAM01", b'{"alert_id": ', now, 1),
        "good": Message(*gps("C3", 30.27, 120.16, ts=now - 5), now, 1),
    }
    result = pipeline.handle(list(messages.values()))
    assert sum(result.accepted.values()) == 1 and len(result.refusals) == 4
    by_payload = {d.payload: d.id for d in store_of(settings).list()}
    return {name: by_payload[m.payload] for name, m in messages.items() if name != "good"}


def test_the_bound_holds_oldest_go_first(settings):
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    store = DeadLetterStore(engine, 5)
    for batch in range(4):
        store.add([NewDeadLetter(time.time(), "gps", "invalid_json", "d", "t", b"%d-%d" % (batch, i)) for i in range(3)])
    kept = store.list(limit=100)
    assert [d.payload for d in kept] == [b"3-2", b"3-1", b"3-0", b"2-2", b"2-1"]  # the newest five, newest first
    assert [(c.feed, c.reason, c.waiting, c.replayed) for c in store.summary()] == [("gps", "invalid_json", 5, 0)]
    # The pipeline is bounded by the setting, dead_letter_max.
    bounded = dataclasses.replace(settings, dead_letter_max=3)
    pipeline = build_pipeline(bounded, engine, HotStore(connect(settings.resolved_redis_url)))
    pipeline.handle([Message("gridwall/gps/collector/X", b"{bad %d" % i, time.time(), 1) for i in range(6)])
    assert [d.payload for d in store.list(limit=100)] == [b"{bad 5", b"{bad 4", b"{bad 3"]
    with pytest.raises(ValueError, match="at least 1"):
        DeadLetterStore(engine, 0)


def test_a_batch_tried_again_writes_its_letters_once(settings):
    """A batch whose store fails is handled again whole: the letters of the failed try are
    dropped, not written beside the ones of the next."""
    db.upgrade(settings.resolved_database_url)
    engine = db.engine_for(settings.resolved_database_url)
    pipeline = build_pipeline(settings, engine, HotStore(connect(settings.resolved_redis_url)))
    real_write = pipeline.history.write
    fails = [1]

    def fails_once(**kw):
        if fails:
            fails.pop()
            raise DataError("INSERT", {}, Exception("refused"))
        return real_write(**kw)

    pipeline.history.write = fails_once
    batch = [Message("gridwall/gps/collector/C1", b"{not json", time.time(), 1),
             Message(*gps("C4", 30.27, 120.16), time.time(), 1)]
    with pytest.raises(DataError):
        pipeline.handle(batch)
    assert store_of(settings).list() == []
    pipeline.handle(batch)
    assert [d.payload for d in store_of(settings).list()] == [b"{not json"]


def test_list_by_feed_and_reason_and_show_one(settings, capsys):
    ids = refuse(settings)
    code, out, _ = gridwall(settings, capsys, "list")
    assert code == 0
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r"^\s*(\d+)  .*$", out, re.M)}
    assert set(rows) >= set(ids.values())
    assert "outside_city" in rows[ids["outside"]] and "gridwall/gps/collector/BJ1" in rows[ids["outside"]]
    assert "kept: 4 waiting, 0 replayed" in out
    assert re.search(r"^gps\s+invalid_json\s+2\s+0$", out, re.M) and re.search(r"^video\s+invalid_json\s+1\s+0$", out, re.M)

    _, out, _ = gridwall(settings, capsys, "list", "--feed", "gps", "--reason", "invalid_json")
    listed = {int(n) for n in re.findall(r"^\s*(\d+)  \d{4}-", out, re.M)}
    assert listed == {ids["gps_json"], ids["binary"]}
    _, out, _ = gridwall(settings, capsys, "list", "--reason", "invalid_json", "--limit", "1")
    assert {int(n) for n in re.findall(r"^\s*(\d+)  \d{4}-", out, re.M)} == {ids["video_json"]}  # the newest
    assert "(the newest 1 of 3; --limit N for more)" in out
    _, out, _ = gridwall(settings, capsys, "list", "--feed", "case")
    assert "no dead letters waiting of feed case" in out

    code, out, _ = gridwall(settings, capsys, "show", ids["outside"])
    assert code == 0
    assert re.search(r"^reason\s+outside_city$", out, re.M) and re.search(r"^feed\s+gps$", out, re.M)
    assert "payload (UTF-8):" in out and orjson.loads(out.split("payload (UTF-8):\n", 1)[1])["id"] == "BJ1"
    _, out, _ = gridwall(settings, capsys, "show", ids["binary"])
    assert "payload (hex, not UTF-8):" in out and "00000000  ff fe 00 01 20 6e 6f 74" in out
    assert re.search(rf"^size\s+{len(BINARY)} bytes$", out, re.M)
    code, _, err = gridwall(settings, capsys, "show", 999_999)
    assert code == 1 and "no dead letter 999999" in err


def test_replay_after_a_config_fix_stores_it_and_a_still_bad_one_is_a_new_letter(settings, capsys):
    ids = refuse(settings)
    hot = HotStore(connect(settings.resolved_redis_url))
    assert hot.r.hget(DEV, "BJ1") is None
    assert gridwall(settings, capsys, "replay")[0] == 2  # nothing named: nothing replayed

    # Not fixed yet: refused again, as a new letter; the old one is marked replayed.
    code, out, _ = gridwall(settings, capsys, "replay", "--reason", "outside_city")
    assert code == 1 and f"#{ids['outside']} gps outside_city" in out and "refused again: outside_city" in out
    again = store_of(settings).list(reason="outside_city")
    assert len(again) == 1 and again[0].id > ids["outside"]

    # The city's bounds widened (the operator's fix): the replay stores it.
    widened = dataclasses.replace(settings, city_margin_km=2000.0)
    code, out, _ = gridwall(widened, capsys, "replay", "--reason", "outside_city")
    assert code == 0, out
    assert f"#{again[0].id} gps outside_city gridwall/gps/collector/BJ1: stored" in out
    assert "replayed 1: 1 stored, 0 duplicates, 0 refused again, 0 waiting" in out
    assert orjson.loads(hot.r.hget(DEV, "BJ1"))["lat"] == BEIJING["lat"]
    assert store_of(settings).list(reason="outside_city") == []  # none waiting
    replayed = store_of(settings).list(reason="outside_city", include_replayed=True)
    assert {d.id for d in replayed} == {ids["outside"], again[0].id} and all(d.replayed_at for d in replayed)
    _, out, _ = gridwall(settings, capsys, "list", "--all", "--reason", "outside_city")
    assert "replayed" in out.splitlines()[0] and re.search(r"^gps\s+outside_city\s+0\s+2$", out, re.M)

    # A letter still bad, by id: refused again with its reason, a new letter.
    code, out, _ = gridwall(widened, capsys, "replay", ids["gps_json"], 999_999)
    assert code == 1
    assert f"#{ids['gps_json']} gps invalid_json gridwall/gps/collector/C1: refused again: invalid_json" in out
    assert "#999999: no such dead letter" in out and "; 1 not found" in out
    new = [d for d in store_of(settings).list(reason="invalid_json") if d.payload == b"{not json"]
    assert len(new) == 1 and new[0].id > ids["gps_json"]
    assert store_of(settings).get(ids["gps_json"]).replayed_at is not None

    # /healthz counts what waits for an operator.
    body, _status = health(hot, settings.resolved_database_url)
    assert body["dead_letters"] == {"total": 3, "by_reason": {"invalid_json": 3}, "replayed": 3}


def test_a_replayed_case_event_waits_for_its_predecessor_replayed_after_it(settings, capsys, monkeypatch):
    """Letters go one batch each here: the accept comes first, waits, and is applied once the
    report (a later letter) is in, before the replay ends."""
    import feeds.deadletters_cmd

    db.upgrade(settings.resolved_database_url)
    monkeypatch.setattr(feeds.deadletters_cmd, "BATCH", 1)
    t0 = time.time() - 3600
    accept, filed = case_event("W1", "accept", "W1-accept", t0 + 60), report("W1", t0)
    DeadLetterStore(db.engine_for(settings.resolved_database_url), 100).add(
        [NewDeadLetter(time.time(), "case", "store_failed", "the database refused it", topic, body)
         for topic, body in (accept, filed)])
    first, second = sorted(d.id for d in store_of(settings).list())
    code, out, _ = gridwall(settings, capsys, "replay", "--feed", "case")
    assert code == 0, out
    assert f"#{first} case store_failed gridwall/case/W1: waiting: case W1 lacks the events before it" in out
    assert f"#{second} case store_failed gridwall/case/W1: stored" in out
    assert f"#{first} case store_failed gridwall/case/W1: stored (after the events before it)" in out
    assert "replayed 2: 2 stored, 0 duplicates, 0 refused again, 0 waiting" in out
    assert store_of(settings).list() == []
