"""Dedupe: a message delivered twice is applied once, and an id reused by a different event is
refused, not taken for a repeat.

QoS 1 means at-least-once: after a reconnect the broker resends what we had not acknowledged.
Case events and alerts carry an id. Two checks, both after the enrich step so that a copy is
compared exactly as it would be stored:
- here, Redis marks (fast, shared by every worker): a mark is set only after the batch's SQL
  commit (feeds/steps/store.py), so a crash between the two means a redelivery is tried again,
  never dropped. A case event's mark holds its digest (dashboard/records.py event_digest): only
  an identical copy is dropped here; a different one goes on to
- the case step, which asks SQL under the case's lock (feeds/steps/cases.py): SQL is the
  authority, and survives a lost Redis.
Within one batch the first copy wins; a later copy with other content is a conflicting duplicate.
GPS fixes need no id: the store keeps the newer fix per device, so a repeat changes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from dashboard.records import Alert, CaseEvent, Record, event_digest
from dashboard.store.hot import HotStore
from feeds.steps.batch import Batch

ALERT_MARK = "1"  # an alert's key already says all of it (state and time)


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


def mark_of(record: Record) -> str:
    """What a stored delivery leaves as its mark."""
    return event_digest(record) if isinstance(record, CaseEvent) else ALERT_MARK


def same_content(mark: str, record: Record) -> bool:
    # "1" on a case event: a mark set before digests were kept; it was the same id, take it as
    # a repeat as we always did.
    return mark == ALERT_MARK or mark == mark_of(record)


def split_repeats(hot: HotStore, records: Sequence[Record]) -> tuple[list[Record], list[tuple[Record, int]], list[tuple[CaseEvent, CaseEvent]]]:
    """(fresh records, repeats, conflicts as (refused copy, the copy kept)). A repeat comes with
    which copy of its id in the batch it was (0 = the first), so a caller can name its message.
    Reads Redis only."""
    keyed = [(r, dedupe_key(r)) for r in records]
    unique = list(dict.fromkeys(k for _r, k in keyed if k is not None))
    marks = dict(zip(unique, hot.seen_marks(unique), strict=True))
    first: dict[str, Record] = {}
    copy: dict[str, int] = {}
    fresh: list[Record] = []
    repeats: list[tuple[Record, int]] = []
    conflicts: list[tuple[CaseEvent, CaseEvent]] = []
    for record, key in keyed:
        if key is None:
            fresh.append(record)
            continue
        nth = copy[key] = copy.get(key, -1) + 1
        mark = marks.get(key)
        if mark is not None and same_content(mark, record):
            repeats.append((record, nth))
        elif key in first:
            kept = first[key]
            if isinstance(record, CaseEvent) and isinstance(kept, CaseEvent) and mark_of(kept) != mark_of(record):
                conflicts.append((record, kept))
            else:
                repeats.append((record, nth))
        else:
            first[key] = record
            fresh.append(record)
    return fresh, repeats, conflicts


class Dedupe:
    """The step: repeats are counted as duplicates and go no further; conflicting copies are left
    on the batch for the park step to refuse."""

    def __init__(self, hot: HotStore) -> None:
        self.hot = hot

    def run(self, batch: Batch) -> None:
        batch.records, repeats, conflicts = split_repeats(self.hot, batch.records)
        batch.repeats += repeats
        batch.conflicts += [(event, dataclasses.asdict(kept)) for event, kept in conflicts]
