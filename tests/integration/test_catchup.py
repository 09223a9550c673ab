"""The history catch-up (dashboard/store/catchup.py): while old case events stream in, the
board says the history is loading, with its progress; a lone late event does not; it ends by
itself once the stream stops."""

from __future__ import annotations

import time

import pytest

from dashboard.store import catchup
from dashboard.store.catchup import CatchUp
from dashboard.store.hot import connect
from dashboard.store.keys import HISTORY_CATCHUP


@pytest.fixture
def tracker(stack, tmp_path):
    client = connect(stack.settings(tmp_path).resolved_redis_url)
    client.delete(HISTORY_CATCHUP)
    yield CatchUp(client)
    client.delete(HISTORY_CATCHUP)


def test_a_backfill_is_loading_with_its_progress(tracker) -> None:
    now = time.time()
    start = now - 30 * 86400
    assert tracker.state() == {"ready": True}
    # 30 days of history, arriving in time order: a third of the way through ...
    tracker.note([start + i * 600 for i in range(60)], now)
    tracker.note([start + 10 * 86400], now)
    state = tracker.state()
    assert state["ready"] is False
    assert 30 <= state["pct"] <= 34, state
    # ... then nearly done: never 100 while it is still loading
    tracker.note([now - catchup.OLD_S - 1], now)
    assert tracker.state() == {"ready": False, "pct": 99}


def test_news_and_a_lone_late_event_are_not_a_catch_up(tracker) -> None:
    now = time.time()
    tracker.note([now - 5, now - 60, now - 300] * 100, now)  # fresh events: not history
    assert tracker.state() == {"ready": True}
    tracker.note([now - 7200], now)  # a handheld back in range
    assert tracker.state() == {"ready": True}


def test_the_catch_up_ends_when_the_old_events_stop(tracker, monkeypatch) -> None:
    monkeypatch.setattr(catchup, "QUIET_S", 1)
    now = time.time()
    tracker.note([now - 86400 + i for i in range(100)], now)
    assert tracker.state()["ready"] is False
    deadline = time.monotonic() + 5
    while tracker.state()["ready"] is False:
        assert time.monotonic() < deadline, "the catch-up did not end after its quiet time"
        time.sleep(0.1)
