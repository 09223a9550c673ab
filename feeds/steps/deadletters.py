"""Dead letters: a refused message is counted per feed and reason, listed in the batch's result
for a caller that reports per message, and kept whole in SQL (dashboard/store/deadletters.py)
for `gridwall deadletters`. The decode, store and park steps refuse through here, and so does
the pipeline for what a caller refuses before decoding.

The letters of a batch are collected, not written one by one: the pipeline writes them in one
statement once the batch is stored (``flush``), and drops them when the batch failed and will be
handled again whole (``discard``), which refuses the same messages again.
"""

from __future__ import annotations

import time

from dashboard.store.deadletters import DeadLetterStore, NewDeadLetter
from feeds.steps.batch import BatchResult, Message, Refusal


class DeadLetters:
    def __init__(self, store: DeadLetterStore) -> None:
        self.store = store
        self.pending: list[NewDeadLetter] = []

    def add(self, result: BatchResult, feed: str, msg: Message, reason: str, detail: str,
            event_id: str | None = None) -> None:
        """Refuse ``msg``: counted, reported and kept."""
        result.reject(feed, reason)
        result.refusals.append(Refusal(msg, reason, detail, event_id))
        self.keep(msg, feed, reason, detail, event_id)

    def keep(self, msg: Message, feed: str, reason: str, detail: str, event_id: str | None = None) -> None:
        """Kept but not counted as a refusal: the stored version of a conflicting duplicate, so
        that the operator sees both versions side by side."""
        self.pending.append(NewDeadLetter(time.time(), feed, reason, detail, msg.topic, msg.payload, event_id))

    def flush(self) -> None:
        # Taken off before the write: should it fail, the batch is handled again and refuses
        # the same messages again, so keeping these too would write them twice.
        rows, self.pending = self.pending, []
        self.store.add(rows)

    def discard(self) -> None:
        self.pending = []
