"""The decode step: each message decoded and validated on its own (feeds/decoding.py, the same
function `gridwall decode` runs), so a bad one becomes a dead letter and the good ones around
it go on. One bad record refuses its whole message: a half-taken message would be half-missing
without a trace."""

from __future__ import annotations

import logging

from dashboard.records import CaseEvent
from dashboard.store.hot import FEEDS
from feeds.decoders import DecodeContext
from feeds.decoding import decode_and_validate
from feeds.rejects import Reason, Rejected
from feeds.steps.batch import Batch
from feeds.steps.deadletters import DeadLetters
from feeds.topics import TopicRouter
from feeds.validate import Bounds

log = logging.getLogger("gridwall.pipeline")


def feed_of_topic(router: TopicRouter, topic: str) -> str:
    """The counters a refused message counts in: its format's feed, else (an unrouted topic)
    the native level that names one, else gps."""
    try:
        return router.route_for(topic).feed
    except Rejected:
        parts = topic.split("/")
        native = len(parts) > 1 and parts[0] == "gridwall" and parts[1] in FEEDS
        return parts[1] if native else "gps"


class Decode:
    def __init__(self, router: TopicRouter, ctx: DecodeContext, bounds: Bounds | None, dead: DeadLetters, *,
                 size_limit: int, future_skew_s: float) -> None:
        self.router = router
        self.ctx = ctx
        self.bounds = bounds
        self.dead = dead
        self.size_limit = size_limit
        self.future_skew_s = future_skew_s

    def run(self, batch: Batch) -> None:
        ctx = self.ctx.at(batch.now)
        records, origin, result = batch.records, batch.origin, batch.result
        for msg in batch.messages:
            try:
                decoded = decode_and_validate(msg.topic, msg.payload, ctx, self.bounds, router=self.router,
                                              size_limit=self.size_limit, future_skew_s=self.future_skew_s)
            except Rejected as exc:
                self.dead.add(result, feed_of_topic(self.router, msg.topic), msg, exc.reason.value, exc.detail)
                continue
            except Exception as exc:
                log.exception("decoder failed on %s", msg.topic)
                self.dead.add(result, feed_of_topic(self.router, msg.topic), msg, Reason.UNSUPPORTED.value,
                              f"internal decoder error: {exc!r}")
                continue
            for record in decoded:
                if isinstance(record, CaseEvent):
                    origin.setdefault(record.event_id, msg)
                    batch.copies.setdefault(record.event_id, []).append(msg)
            records.extend(decoded)
