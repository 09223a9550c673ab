"""One bad message for every rejection reason, interleaved with good ones, through the real
pipeline on real Redis and SQL: each bad one is a dead letter with the right reason, every good
one lands, and nothing stops."""

from __future__ import annotations

import time

import orjson
from helpers import case_event, gps, report

from dashboard.store import db
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.hot import DEV, HotStore, connect
from feeds.ingest import IngestWorker
from feeds.pipeline import Message
from feeds.rejects import Reason


def corpus(now: float) -> list[tuple[str, bytes, str | None]]:
    """(topic, payload, expected reason or None for a good message)."""
    def fix(**over: object) -> bytes:
        return orjson.dumps({"id": "BAD", "kind": "collector", "lat": 30.27, "lon": 120.16, "ts": now, **over})

    nan = b'{"id":"BAD","kind":"collector","lat":NaN,"lon":120.16,"ts":%d}' % int(now)
    bad = [
        ("gridwall/gps/collector/BAD", b"{not json", Reason.INVALID_JSON),
        ("gridwall/gps/collector/BAD", orjson.dumps({"id": "BAD", "kind": "collector", "lon": 120.16, "ts": now}), Reason.MISSING_FIELD),
        ("gridwall/gps/collector/BAD", fix(lat="north"), Reason.WRONG_TYPE),
        ("gridwall/gps/collector/BAD", nan, Reason.NOT_FINITE),
        ("gridwall/gps/collector/BAD", fix(lat=91.0), Reason.COORD_OUT_OF_RANGE),
        ("gridwall/gps/collector/BAD", fix(lat=39.9, lon=116.4), Reason.OUTSIDE_CITY),  # Beijing
        ("gridwall/gps/collector/BAD", fix(ts=now + 7200), Reason.FUTURE_TIMESTAMP),
        ("gridwall/gps/collector/BAD", fix(status="x" * 70_000), Reason.OVERSIZED),
        ("somewhere/else", fix(), Reason.UNKNOWN_TOPIC),
        (*case_event("BADCASE", "teleport", "bad-1", now - 60), Reason.UNKNOWN_ACTION),
        ("owntracks/alice/phone", b'{"_type":"encrypted","data":"xyz"}', Reason.UNSUPPORTED),
    ]
    good = [(*gps(f"G{i}", 30.26 + i * 1e-3, 120.15, ts=now - 1), None) for i in range(len(bad) + 1)]
    out: list[tuple[str, bytes, str | None]] = []
    for g, b in zip(good, bad, strict=False):
        out += [g, (b[0], b[1], b[2].value)]
    return [*out, good[-1]]


def test_every_reason_is_a_dead_letter_and_every_good_message_lands(settings):
    hot = HotStore(connect(settings.resolved_redis_url))
    worker = IngestWorker(settings, "corpus")  # the real pipeline, fed directly: no broker needed
    now = time.time()
    messages = corpus(now)
    messages.append((*report("GOODCASE", now - 120), None))
    result = worker.pipeline.handle([Message(t, p, now, 1) for t, p, _ in messages])
    # also an illegal transition: the case is closed at a time before it was even reported
    late = (*case_event("GOODCASE", "close", "bad-2", now - 200), Reason.ILLEGAL_TRANSITION.value)
    worker.pipeline.handle([Message(late[0], late[1], now, 1)])
    messages.append(late)

    expected: dict[str, int] = {}
    for _t, _p, reason in messages:
        if reason:
            expected[reason] = expected.get(reason, 0) + 1
    got: dict[str, int] = {}
    for feed in result.rejected.values():
        for reason, n in feed.items():
            got[reason] = got.get(reason, 0) + n
    stats = hot.stats()
    for feed in stats.values():
        for reason, n in feed["rejected_by_reason"].items():
            got[reason] = max(got.get(reason, 0), n)
    assert got == expected
    letters = DeadLetterStore(db.engine_for(settings.resolved_database_url)).list(limit=50)
    assert {d.reason for d in letters} == set(expected)
    goods = [t.rsplit("/", 1)[1] for t, _p, r in messages if r is None and t.startswith("gridwall/gps")]
    assert all(hot.r.hget(DEV, g) is not None for g in goods)
    assert hot.r.hget(DEV, "BAD") is None
    assert stats["case"]["accepted"] == 1  # the good report
    letter = next(d for d in letters if d.reason == "oversized")
    assert letter.size > 70_000 and len(letter.payload) == letter.size  # kept whole, to be replayed
