"""Dead letters: a refused message is kept (bounded, in the hot store) with its topic, reason,
sentence and the first KiB of its payload, counted per feed and reason, and listed in the
batch's result for a caller that reports per message. The decode step and the park step refuse
through here, and so does the pipeline for what a caller refuses before decoding."""

from __future__ import annotations

from dashboard.store.hot import HotStore
from feeds.steps.batch import BatchResult, Message, Refusal


class DeadLetters:
    def __init__(self, hot: HotStore, maxlen: int) -> None:
        self.hot = hot
        self.maxlen = maxlen  # the stream's bound (approximate, as Redis trims it)

    def add(self, result: BatchResult, feed: str, msg: Message, reason: str, detail: str,
            event_id: str | None = None) -> None:
        result.reject(feed, reason)
        result.refusals.append(Refusal(msg, reason, detail, event_id))
        self.hot.dead_letter(msg.topic, reason, detail, msg.payload, self.maxlen)
