"""The pipeline: a chain of steps, declared in order in ``Pipeline.__init__``, one batch at a time.

A batch is whatever arrived in the last few tens of milliseconds. Each message is decoded and
validated on its own, so a bad one becomes a dead letter and the good ones around it go on;
every step then works on the whole batch, and stores are written once per batch (Redis
pipelines, one SQL transaction), which is what makes thousands of messages a second possible
in Python (docs/performance.md).

The chain (each step behind feeds.steps.batch.Step, ``run(batch)``):

    decode (+ validate) -> enrich -> dedupe -> watch -> cases -> store -> park

``watch`` runs the supervision's rules on the vehicles' fixes and turns what they decide (and
the devices' platforms' own alarms) into alerts the store step writes (feeds/steps/watch.py);
``sweep`` raises, between batches, the alarms of devices that went off the air.

then the batch is settled: its dead letters written, its counts added (Redis and SQL). Case
events parked to wait for their predecessor (in SQL) re-enter at ``cases`` (``retry_parked``).
What makes this safe to run again after any failure (docs/durability.md): nothing marks a message
as seen before its SQL commit, and SQL decides whether a case event is a repeat. Publishing is not per batch: the ingest worker's ticker
(feeds/steps/publish.py) cuts a version of the live picture from the batches' results every
``tick_s``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import islice

from dashboard.records import CaseEvent
from dashboard.store.deadletters import DeadLetterStore
from dashboard.store.failures import transient
from dashboard.store.feed_counters import FeedCounters, counter_rows
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import DEVICE_RETENTION_S, MAX_DEVICES, HotStore
from dashboard.store.liverank import LiveRank
from dashboard.store.parked import Parked, ParkedEvents
from dashboard.supervision_config import Supervision
from feeds.decoders import DecodeContext
from feeds.rejects import Rejected, store_failed
from feeds.steps.batch import Batch, BatchResult, Message, Refusal, Step, feed_of, message_digest
from feeds.steps.cases import ApplyCases, CaseApplier
from feeds.steps.deadletters import DeadLetters
from feeds.steps.decode import Decode, feed_of_topic
from feeds.steps.dedupe import Dedupe
from feeds.steps.enrich import Enrich, GridLookup
from feeds.steps.park import PARK_RETRY_S, Park
from feeds.steps.positions import Downsampler
from feeds.steps.store import Store
from feeds.steps.watch import Watch
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
        max_devices: int = MAX_DEVICES,
        device_retention_s: float = DEVICE_RETENTION_S,
        supervision: Supervision | None = None,
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.hot = hot
        self.history = history
        self.router = router
        self.cases = cases
        self.case_park_s = case_park_s  # read per batch: how long an early case event waits
        self.dead = DeadLetters(DeadLetterStore(history.engine, dead_letter_max))
        self.parked = ParkedEvents(history.engine)
        self.counters = FeedCounters(history.engine)
        # With a spool (feeds/spool.py), how long the live path's QoS 1 messages are remembered so
        # that their spool copies are skipped; 0: no spool, nothing to remember.
        self.mark_handled_s = 0
        apply_cases = ApplyCases(cases)
        self.watch = Watch(hot.watch_states(), supervision or Supervision(), timezone)
        self.store = Store(hot, history, downsampler or Downsampler(), live_rank, dead=self.dead,
                           max_devices=max_devices, device_retention_s=device_retention_s)
        # The chain, in order. Each step reads what the ones before it left on the batch.
        self.steps: tuple[Step, ...] = (
            Decode(router, ctx, bounds, self.dead, size_limit=max_payload_bytes, future_skew_s=future_skew_s),
            Enrich(grid_lookup),  # GCJ-02/BD-09 -> WGS-84, point -> unit grid
            Dedupe(hot),  # identical repeats dropped (compared as they would be stored)
            self.watch,  # the supervision's rules on the vehicles' fixes: alarms as alerts (Redis state)
            apply_cases,  # the lifecycle on the SQL projection (locks the cases it applies; SQL dedupe)
            self.store,  # SQL, then Redis; unlocks
            Park(self.parked, self.dead),  # early case events parked, refusals dead-lettered
        )
        # Parked case events were decoded, enriched and deduped when they first came.
        self.retry_steps: tuple[Step, ...] = self.steps[self.steps.index(apply_cases):]

    # --- one batch of messages ----------------------------------------------------------------
    def handle(self, messages: Sequence[Message], *, spool: bool = False) -> BatchResult:
        """Take a batch of messages through the chain. Raises when the batch could not be
        stored: nothing of it is then marked seen, and it may be handled again whole (or split).

        ``spool``: the messages are the broker spool's copies (feeds/spool.py). Those the live
        subscriptions took are skipped (``{gw}:handled``); the others are what a fault would have
        lost: taken as any message, counted as recovered, their repeats not as duplicates."""
        skipped = 0
        if spool:
            fresh = [m for m, done in zip(messages, self.hot.handled([message_digest(m) for m in messages]), strict=True)
                     if not done]
            skipped, messages = len(messages) - len(fresh), fresh
        batch = Batch(messages, time.time(), self.case_park_s, spool=spool)
        self._run(batch, self.steps)
        result = batch.result
        repeats = batch.repeats
        if spool:
            result.recovered = len(messages)
            repeats = []
        for record, nth in repeats:
            result.duplicates[feed_of(record)] += 1
            if isinstance(record, CaseEvent):
                copies = batch.copies.get(record.event_id) or []
                result.repeats.append((copies[nth] if nth < len(copies) else None, record.event_id))
        # A feed's data is as fresh as the newest message that brought it: when ingest falls
        # behind, the wall's data age shows it.
        arrived = max((m.received for m in messages), default=batch.now)
        self._settle(result, {feed_of(r): arrived for r in batch.records}, batch.counted)
        if self.mark_handled_s and not spool:
            self.hot.mark_handled([message_digest(m) for m in messages if m.qos > 0], self.mark_handled_s)
        result.skipped = skipped
        return result

    def _run(self, batch: Batch, steps: Sequence[Step]) -> None:
        try:
            for step in steps:
                step.run(batch)
        except Exception:
            self.dead.discard()  # the batch is tried again: so are its refusals
            raise

    def _settle(self, result: BatchResult, last_ts: dict[str, float],
                counted: dict[tuple[str, str], int] | None = None) -> None:
        """The batch is stored: its dead letters and its counts. ``counted``: what the store step
        already added in the batch's transaction; SQL gets the rest, Redis all of it."""
        self.dead.flush()
        rows = counter_rows(result.accepted, result.rejected, result.duplicates)
        self.counters.add({k: n - (counted or {}).get(k, 0) for k, n in rows.items()})
        self.hot.count_batch(result.accepted, result.rejected, result.duplicates, last_ts)

    def refuse(self, refusals: Sequence[tuple[Message, Rejected]]) -> None:
        """Dead letters and counts for messages a caller refused before they could be handled
        (`gridwall import`: a line that is no event at all; the ingest worker: a message the
        database would not take), exactly as the decode step would have kept them."""
        if not refusals:
            return
        result = BatchResult()
        for msg, exc in refusals:
            self.dead.add(result, feed_of_topic(self.router, msg.topic), msg, exc.reason.value, exc.detail)
        self._settle(result, {})

    # --- parked case events -------------------------------------------------------------------
    def retry_parked(self, now: float, *, patience_s: float | None = None) -> BatchResult:
        """Try the parked case events that are due at ``now`` again (any worker may take any of
        them). ``patience_s`` overrides ``case_park_s`` for these."""
        due = self.parked.due(now, CLAIM_MAX)
        return self._retry(due, now, patience_s) if due else BatchResult()

    def sweep(self, now: float) -> BatchResult:
        """The offline alarms due at ``now`` (devices on duty that went silent), stored as any
        batch's alerts are. Any worker may sweep: the watch state decides who raises each."""
        batch = Batch((), now, self.case_park_s)
        self.watch.sweep(batch)
        if batch.records:
            self._run(batch, (self.store,))
            self._settle(batch.result, {}, batch.counted)
        return batch.result

    def retry_now(self, event_ids: Iterable[str], *, patience_s: float | None = None) -> list[BatchResult]:
        """Try these parked events at once, whenever they are due, and no others: one batch per
        CLAIM_MAX of them still parked. ``patience_s`` as for retry_parked."""
        results = []
        ids = iter(list(event_ids))
        while chunk := list(islice(ids, CLAIM_MAX)):
            due = self.parked.get(chunk)
            if due:
                results.append(self._retry(due, time.time(), patience_s))
        return results

    def hold_parked(self, event_ids: Iterable[str], until: float) -> None:
        """Keep these parked events out of every worker's retry_parked until ``until`` (epoch
        s), e.g. while `gridwall import` still has the lines that may bring their predecessors.
        retry_now takes them whenever."""
        self.parked.reschedule(event_ids, until)

    def _retry(self, due: list[Parked], now: float, patience_s: float | None) -> BatchResult:
        # Out of the way of the next round whatever happens; the park step sets the real schedule.
        self.parked.reschedule([p.event_id for p in due], now + PARK_RETRY_S)
        batch = Batch((), now, self.case_park_s if patience_s is None else patience_s)
        batch.parked_at = {p.event_id: p.parked_at for p in due}
        batch.records = [CaseEvent(**p.event) for p in due]
        batch.origin = {p.event_id: Message(p.topic, p.payload, p.parked_at) for p in due}
        try:
            self._run(batch, self.retry_steps)
        except Exception as exc:
            if transient(exc):
                raise  # still parked: the next round tries again
            # One of them the database will not take: find it, so that it does not hold the
            # others back at every round.
            if len(due) == 1:
                return self._refuse_parked(due[0], exc)
            half = len(due) // 2
            return self._merge(self._retry(due[:half], now, patience_s), self._retry(due[half:], now, patience_s))
        result = batch.result
        for record, _nth in batch.repeats:
            result.duplicates[feed_of(record)] += 1
        self._settle(result, {}, batch.counted)
        return result

    def _refuse_parked(self, p: Parked, exc: Exception) -> BatchResult:
        log.error("a parked case event the database refuses, dead-lettered: %s %r", p.event_id, exc)
        result = BatchResult()
        refusal = store_failed(exc)
        self.dead.add(result, "case", Message(p.topic, p.payload, p.parked_at), refusal.reason.value, refusal.detail,
                      p.event_id)
        self._settle(result, {})
        self.parked.remove([p.event_id])
        return result

    @staticmethod
    def _merge(a: BatchResult, b: BatchResult) -> BatchResult:
        a.accepted.update(b.accepted)
        a.duplicates.update(b.duplicates)
        for feed, reasons in b.rejected.items():
            a.rejected.setdefault(feed, Counter()).update(reasons)
        for name in ("changed_devices", "changed_cases", "changed_alerts", "refusals", "repeats", "parked", "incomplete"):
            getattr(a, name).extend(getattr(b, name))
        a.alerts_changed |= b.alerts_changed
        a.cases_changed |= b.cases_changed
        return a
