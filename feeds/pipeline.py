"""The pipeline: decode -> validate -> dedupe -> enrich -> cases -> store, one batch at a time.

A batch is whatever arrived in the last few tens of milliseconds. Each message is decoded and
validated on its own, so a bad one becomes a dead letter and the good ones around it go on;
stores are written once per batch (Redis pipelines, one SQL transaction), which is what makes
thousands of messages a second possible in Python (docs/performance.md).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from dashboard.records import Alert, CaseEvent, DeviceStatus, Position, Record
from dashboard.store.hot import FEEDS, HotStore
from dashboard.store.liverank import LiveRank
from feeds.cases import CaseOutcome
from feeds.decoders import DECODERS, DecodeContext
from feeds.decoding import decode_and_validate
from feeds.rejects import Reason, Rejected
from feeds.steps import dedupe
from feeds.steps.alerts import alert_doc
from feeds.steps.enrich import GridLookup, enrich
from feeds.steps.history import HistoryWriter
from feeds.steps.positions import Downsampler, fold
from feeds.topics import TopicRouter
from feeds.validate import Bounds

log = logging.getLogger("gridwall.pipeline")

# Which counter a message counts in, by the format its topic is routed to.
FORMAT_FEED = {
    "native.gps": "gps", "owntracks": "gps", "osmand": "gps", "traccar.positions": "gps", "traccar.events": "gps",
    "native.video": "video", "frigate.events": "video", "frigate.reviews": "video",
    "native.case": "case", "open311": "case",
}
_DECODER_FEED = {id(fn): FORMAT_FEED[name] for name, fn in DECODERS.items()}


def feed_of(record: Record) -> str:
    if isinstance(record, Position | DeviceStatus):
        return "gps"
    return "video" if isinstance(record, Alert) else "case"


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    received: float  # when the worker got it (epoch s), for latency and freshness
    qos: int = 0
    mid: int = 0


CaseApplier = Callable[[Sequence[CaseEvent]], CaseOutcome]
PARK_RETRY_S = 0.5


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused message, for a caller that reports per message (`gridwall import`)."""

    message: Message
    reason: str
    detail: str
    event_id: str | None = None  # set when a decoded case event was refused


@dataclass
class BatchResult:
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: dict[str, Counter[str]] = field(default_factory=dict)
    duplicates: Counter[str] = field(default_factory=Counter)
    changed_devices: list[str] = field(default_factory=list)
    changed_cases: list[str] = field(default_factory=list)  # ids, for the live map's deltas
    changed_alerts: list[str] = field(default_factory=list)
    alerts_changed: bool = False
    cases_changed: bool = False
    refusals: list[Refusal] = field(default_factory=list)
    # Case events parked to wait for their predecessor, with the message each came in (None
    # when it was a parked event retried).
    parked: list[tuple[CaseEvent, Message | None]] = field(default_factory=list)

    def reject(self, feed: str, reason: str) -> None:
        self.rejected.setdefault(feed, Counter())[reason] += 1


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
        self.ctx = ctx
        self.bounds = bounds
        self.cases = cases
        self.grid_lookup = grid_lookup
        self.max_payload_bytes = max_payload_bytes
        self.future_skew_s = future_skew_s
        self.dead_letter_max = dead_letter_max
        self.case_park_s = case_park_s
        self.downsampler = downsampler or Downsampler()
        self.live_rank = live_rank

    # --- one message: decode + validate + enrich ---------------------------------------------
    def _feed_of_topic(self, topic: str) -> str:
        try:
            return _DECODER_FEED.get(id(self.router.decoder_for(topic)), "gps")
        except Rejected:
            parts = topic.split("/")
            native = len(parts) > 1 and parts[0] == "gridwall" and parts[1] in FEEDS
            return parts[1] if native else "gps"

    def decode_one(self, msg: Message, ctx: DecodeContext) -> list[Record]:
        records = decode_and_validate(msg.topic, msg.payload, ctx, self.bounds, router=self.router,
                                      size_limit=self.max_payload_bytes, future_skew_s=self.future_skew_s)
        return [enrich(record, self.grid_lookup) for record in records]

    def _dead(self, result: BatchResult, feed: str, msg: Message, reason: str, detail: str,
              event_id: str | None = None) -> None:
        result.reject(feed, reason)
        result.refusals.append(Refusal(msg, reason, detail, event_id))
        self.hot.dead_letter(msg.topic, reason, detail, msg.payload, self.dead_letter_max)

    # --- one batch ---------------------------------------------------------------------------
    def handle(self, batch: Sequence[Message]) -> BatchResult:
        result = BatchResult()
        now = time.time()
        ctx = self.ctx.at(now)
        records: list[Record] = []
        origin: dict[int, Message] = {}
        for msg in batch:
            try:
                decoded = self.decode_one(msg, ctx)
            except Rejected as exc:
                self._dead(result, self._feed_of_topic(msg.topic), msg, exc.reason.value, exc.detail)
                continue
            except Exception as exc:
                log.exception("decoder failed on %s", msg.topic)
                self._dead(result, self._feed_of_topic(msg.topic), msg, Reason.UNSUPPORTED.value, f"internal decoder error: {exc!r}")
                continue
            for record in decoded:
                origin[id(record)] = msg
            records.extend(decoded)

        fresh, repeats, seen_keys = dedupe.drop_repeats(self.hot, records)
        for r in repeats:
            result.duplicates[feed_of(r)] += 1
        try:
            self._store(fresh, result, origin)
        except Exception:
            # Nothing of this batch is stored: let a redelivery try again instead of being
            # taken for a duplicate.
            self.hot.forget_seen(seen_keys)
            raise
        last = {feed_of(r) for r in fresh}
        self.hot.count_batch(result.accepted, result.rejected, result.duplicates, {feed: now for feed in last})
        return result

    def retry_parked(self, now: float) -> BatchResult:
        """Try the parked case events that are due again (any worker may take any of them)."""
        result = BatchResult()
        docs = self.hot.claim_parked(now)
        if docs:
            parked_at = {d["event"]["event_id"]: d["parked_at"] for d in docs}
            events = [CaseEvent(**d["event"]) for d in docs]
            try:
                self._store(events, result, {}, parked_at)
            except Exception:
                # Claiming took them out of the lot; a failed store must not lose them.
                self.hot.park({d["event"]["event_id"]: d for d in docs}, now + PARK_RETRY_S)
                raise
            self.hot.count_batch(result.accepted, result.rejected, result.duplicates, {})
        return result

    def _settle_early(self, outcome: CaseOutcome, result: BatchResult, origin: dict[int, Message],
                      parked_at: dict[str, float]) -> None:
        now = time.time()
        hold: dict[str, dict[str, Any]] = {}
        for event, exc in outcome.early:
            since = parked_at.get(event.event_id, now)
            if now - since < self.case_park_s:
                hold[event.event_id] = {"event": dataclasses.asdict(event), "parked_at": since}
                result.parked.append((event, origin.get(id(event))))
            else:
                outcome.refused.append((event, Rejected(exc.reason, f"{exc.detail} (waited {now - since:.0f} s for the events before it)")))
        self.hot.park(hold, now + PARK_RETRY_S)
        for event, exc in outcome.refused:
            msg = origin.get(id(event)) or Message(f"gridwall/case/{event.case_id}", orjson.dumps(dataclasses.asdict(event)), now)
            self._dead(result, "case", msg, exc.reason.value, exc.detail, event.event_id)

    def _store(self, records: Sequence[Record], result: BatchResult, origin: dict[int, Message],
               parked_at: dict[str, float] | None = None) -> None:
        positions = [r for r in records if isinstance(r, Position)]
        statuses = [r for r in records if isinstance(r, DeviceStatus)]
        alerts = [r for r in records if isinstance(r, Alert)]
        events = sorted((r for r in records if isinstance(r, CaseEvent)), key=lambda e: e.ts)

        outcome = self.cases(events) if events else CaseOutcome()
        try:
            self._write(positions, statuses, alerts, outcome, result)
        finally:
            self.hot.unlock_cases(outcome.locked, outcome.lock_token)
        # After the SQL write: a parked event retried by another worker must find its predecessor.
        self._settle_early(outcome, result, origin, parked_at or {})

    def _write(self, positions: list[Position], statuses: list[DeviceStatus], alerts: list[Alert],
               outcome: CaseOutcome, result: BatchResult) -> None:
        applied, case_rows, case_docs = outcome.applied, outcome.rows, outcome.docs

        # SQL first for what must survive (cases, alerts); Redis is rebuilt from it if lost.
        self.history.write(
            positions=[p for p in positions if self.downsampler.keep(p)],
            devices=self.history.devices_due(positions),
            alerts=alerts,
            events=applied,
            cases=case_rows,
            case_stats=outcome.stats,
            case_steps=outcome.steps,
        )
        result.changed_devices = self.hot.write_positions(fold(positions))
        for s in statuses:
            if self.hot.set_device_fields(s.device_id, {"online": s.online, "status_ts": s.ts}):
                result.changed_devices.append(s.device_id)
        if alerts:
            self.hot.put_alerts([alert_doc(a) for a in sorted(alerts, key=lambda a: a.end or a.start)])
            result.alerts_changed = True
            result.changed_alerts = list(dict.fromkeys(a.alert_id for a in alerts))
        if case_docs:
            self.hot.put_cases(case_docs)
            if self.live_rank is not None:
                self.live_rank.note_changes(outcome.changes, time.time())
            result.cases_changed = True
            result.changed_cases = list(dict.fromkeys(d["case_id"] for d in case_docs))
        result.accepted["gps"] += len(positions) + len(statuses)
        result.accepted["video"] += len(alerts)
        result.accepted["case"] += len(applied)

