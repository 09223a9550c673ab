"""The pipeline: a chain of steps, declared in order in ``Pipeline.__init__``, one batch at a time.

A batch is whatever arrived in the last few tens of milliseconds. Each message is decoded and
validated on its own, so a bad one becomes a dead letter and the good ones around it go on;
every step then works on the whole batch, and stores are written once per batch (Redis
pipelines, one SQL transaction), which is what makes thousands of messages a second possible
in Python (docs/performance.md).

The chain (each step behind feeds.steps.batch.Step, ``run(batch)``):

    decode (+ validate) -> dedupe -> enrich -> cases -> store -> park

then the batch's counts. Case events parked to wait for their predecessor re-enter at ``cases``
(``retry_parked``). Publishing is not per batch: the ingest worker's ticker
(feeds/steps/publish.py) cuts a version of the live picture from the batches' results every
``tick_s``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from dashboard.records import CaseEvent
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import HotStore
from dashboard.store.liverank import LiveRank
from feeds.decoders import DecodeContext
from feeds.rejects import Rejected
from feeds.steps.batch import Batch, BatchResult, Message, Refusal, Step, feed_of
from feeds.steps.cases import ApplyCases, CaseApplier
from feeds.steps.deadletters import DeadLetters
from feeds.steps.decode import Decode, feed_of_topic
from feeds.steps.dedupe import Dedupe, event_key
from feeds.steps.enrich import Enrich, GridLookup
from feeds.steps.park import PARK_RETRY_S, Park
from feeds.steps.positions import Downsampler
from feeds.steps.store import Store
from feeds.topics import TopicRouter
from feeds.validate import Bounds

log = logging.getLogger("gridwall.pipeline")

CLAIM_MAX = 500  # parked events taken per retry batch

__all__ = ["PARK_RETRY_S", "BatchResult", "Message", "Pipeline", "Refusal", "feed_of"]


class Pipeline:
    def __init__(
        self,
        hot: HotStore,
        history: HistoryWriter,
        *,
        router: TopicRouter,
        ctx: DecodeContext,
        bounds: Bounds | None,
        cases: CaseApplier,
        grid_lookup: GridLookup | None = None,
        max_payload_bytes: int = 64 * 1024,
        future_skew_s: float = 300.0,
        dead_letter_max: int = 10_000,
        case_park_s: float = 30.0,
        downsampler: Downsampler | None = None,
        live_rank: LiveRank | None = None,
    ) -> None:
        self.hot = hot
        self.history = history
        self.router = router
        self.cases = cases
        self.case_park_s = case_park_s  # read per batch: how long an early case event waits
        self.dead = DeadLetters(hot, dead_letter_max)
        apply_cases = ApplyCases(cases)
        # The chain, in order. Each step reads what the ones before it left on the batch.
        self.steps: tuple[Step, ...] = (
            Decode(router, ctx, bounds, self.dead, size_limit=max_payload_bytes, future_skew_s=future_skew_s),
            Dedupe(hot),  # repeats counted and dropped; the marks set are kept on the batch
            Enrich(grid_lookup),  # GCJ-02/BD-09 -> WGS-84, point -> unit grid
            apply_cases,  # the lifecycle on the SQL projection (locks the cases it applies)
            Store(hot, history, downsampler or Downsampler(), live_rank),  # SQL, then Redis; unlocks
            Park(hot, self.dead),  # early case events parked, refusals dead-lettered
        )
        # Parked case events were decoded, deduped and enriched when they first came.
        self.retry_steps: tuple[Step, ...] = self.steps[self.steps.index(apply_cases):]

    # --- one batch of messages ----------------------------------------------------------------
    def handle(self, messages: Sequence[Message]) -> BatchResult:
        """Take a batch of messages through the chain. Raises when the batch could not be
        stored: nothing of it is then stored, and it may be handled again whole."""
        batch = Batch(messages, time.time(), self.case_park_s)
        try:
            for step in self.steps:
                step.run(batch)
        except Exception:
            # Nothing of this batch is stored: let a redelivery try again instead of being
            # taken for a duplicate.
            self.hot.forget_seen(batch.seen)
            raise
        result, now = batch.result, batch.now
        self.hot.count_batch(result.accepted, result.rejected, result.duplicates,
                             {feed_of(r): now for r in batch.records})
        return result

    def refuse(self, refusals: Sequence[tuple[Message, Rejected]]) -> None:
        """Dead letters and counts for messages a caller refused before they could be handled
        (`gridwall import`: a line that is no event at all), exactly as the decode step would
        have kept them."""
        if not refusals:
            return
        result = BatchResult()
        for msg, exc in refusals:
            self.dead.add(result, feed_of_topic(self.router, msg.topic), msg, exc.reason.value, exc.detail)
        self.hot.count_batch({}, result.rejected, {}, {})

    # --- parked case events -------------------------------------------------------------------
    def retry_parked(self, now: float, *, patience_s: float | None = None) -> BatchResult:
        """Try the parked case events that are due at ``now`` again (any worker may take any of
        them). ``patience_s`` overrides ``case_park_s`` for these: 0 refuses every one that
        still cannot apply."""
        docs = self.hot.claim_parked(now, CLAIM_MAX)
        return self._retry(docs, now, patience_s) if docs else BatchResult()

    def retry_now(self, event_ids: Iterable[str], *, patience_s: float | None = None) -> list[BatchResult]:
        """Try these parked events at once, whenever they are due, and no others: one batch per
        CLAIM_MAX of them still parked (one another worker claimed meanwhile is that worker's to
        finish). ``patience_s`` as for retry_parked."""
        results = []
        ids = iter(list(event_ids))
        while chunk := list(islice(ids, CLAIM_MAX)):
            docs = self.hot.claim_parked_ids(chunk)
            if docs:
                results.append(self._retry(docs, time.time(), patience_s))
        return results

    def hold_parked(self, event_ids: Iterable[str], until: float) -> None:
        """Keep these parked events out of every worker's retry_parked until ``until`` (epoch
        s), e.g. while `gridwall import` still has the lines that may bring their predecessors.
        Only those still parked; retry_now takes them whenever."""
        self.hot.reschedule_parked(event_ids, until)

    def forget(self, event_ids: Iterable[str]) -> None:
        """Drop the dedupe marks of these case events, so a later delivery of the same id is
        taken as new rather than as a duplicate. For events that were refused, not applied:
        `gridwall import` forgets them so that the fixed file is tried again. (Ingest keeps the
        marks: a redelivery there would only be refused again.)"""
        self.hot.forget_seen([event_key(e) for e in event_ids])

    def _retry(self, docs: list[dict[str, Any]], now: float, patience_s: float | None) -> BatchResult:
        batch = Batch((), now, self.case_park_s if patience_s is None else patience_s)
        batch.parked_at = {d["event"]["event_id"]: d["parked_at"] for d in docs}
        batch.records = [CaseEvent(**d["event"]) for d in docs]
        try:
            for step in self.retry_steps:
                step.run(batch)
        except Exception:
            # Claiming took them out of the lot; a failed store must not lose them.
            self.hot.park({d["event"]["event_id"]: d for d in docs}, now + PARK_RETRY_S)
            raise
        result = batch.result
        self.hot.count_batch(result.accepted, result.rejected, result.duplicates, {})
        return result
