"""Dedupe: a message delivered twice is applied once.

QoS 1 means at-least-once: after a reconnect the broker resends what we had not acknowledged.
Case events and alerts carry an id and are checked against Redis (shared by every worker). GPS
fixes need no id: the store keeps the newer fix per device, so a repeat changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from dashboard.records import Alert, CaseEvent, Record
from dashboard.store.hot import HotStore
from feeds.steps.batch import Batch, feed_of


def event_key(event_id: str) -> str:
    """The dedupe key of a case event, by its id."""
    return f"ev:{event_id}"


def dedupe_key(record: Record) -> str | None:
    if isinstance(record, CaseEvent):
        return event_key(record.event_id)
    if isinstance(record, Alert):
        # An alert's updates share its id; each (state, time) is its own delivery.
        return f"al:{record.alert_id}:{record.state}:{record.end or record.start}:{record.confidence}"
    return None


def drop_repeats(hot: HotStore, records: Sequence[Record]) -> tuple[list[Record], list[Record], list[str]]:
    """(fresh records, repeats, the keys this call marked seen). Within one batch the first copy
    wins: both copies of a redelivery can arrive in the same batch."""
    keyed = [(r, dedupe_key(r)) for r in records]
    unique = list(dict.fromkeys(k for _r, k in keyed if k is not None))
    first = dict(zip(unique, hot.first_seen(unique), strict=True))
    # Only these may be forgotten if the store fails: a mark an earlier delivery set stays.
    marked = [k for k, new in first.items() if new]
    fresh: list[Record] = []
    repeats: list[Record] = []
    for record, key in keyed:
        if key is None or first.get(key):
            fresh.append(record)
            if key is not None:
                first[key] = False  # a second copy later in the same batch is a repeat
        else:
            repeats.append(record)
    return fresh, repeats, marked


class Dedupe:
    """The step: repeats are counted as duplicates and go no further; the marks this batch set
    are kept on the batch, for the pipeline to undo should the batch not be stored."""

    def __init__(self, hot: HotStore) -> None:
        self.hot = hot

    def run(self, batch: Batch) -> None:
        fresh, repeats, batch.seen = drop_repeats(self.hot, batch.records)
        duplicates = batch.result.duplicates
        for r in repeats:
            duplicates[feed_of(r)] += 1
        batch.records = fresh
