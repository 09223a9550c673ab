"""What the pipeline's steps share: the batch context each one takes and fills in, the one
interface every step has, and what a batch gives back to its caller.

A step works on the whole batch at once (one pass over its records, one round trip to each
store), never message by message: the per-message cost of ingest is the decoders' and nothing
else's (docs/performance.md).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dashboard.records import Alert, CaseEvent, DeviceAlarm, DeviceStatus, Position, Record
from feeds.steps.cases import CaseOutcome


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    received: float  # when the worker got it (epoch s), for latency and freshness
    qos: int = 0
    mid: int = 0


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
    # Case events that were repeats of stored ones, with the message each came in (None for a
    # parked event retried): `gridwall import` names them by line.
    repeats: list[tuple[Message | None, str]] = field(default_factory=list)
    recovered: int = 0  # messages from the spool that the live subscriptions had missed
    skipped: int = 0  # spool copies of messages the live subscriptions had taken
    # Case events still waiting for their predecessor after their patience: kept (SQL), their
    # cases marked as having an incomplete history.
    incomplete: list[tuple[CaseEvent, Message | None, str]] = field(default_factory=list)
    # Case events parked to wait for their predecessor, with the message each came in (None
    # when it was a parked event retried).
    parked: list[tuple[CaseEvent, Message | None]] = field(default_factory=list)

    def reject(self, feed: str, reason: str) -> None:
        self.rejected.setdefault(feed, Counter())[reason] += 1


@dataclass(slots=True)
class Batch:
    """One batch on its way through the steps. Each step reads what the steps before it left
    and leaves its own part; the pipeline makes one per batch."""

    messages: Sequence[Message]  # empty for parked case events tried again
    now: float  # when the batch started (epoch s): the decoders' clock and the feeds' last_ts
    patience_s: float  # how long a case event that came before its predecessor may wait for it
    records: list[Record] = field(default_factory=list)  # decoded, then fresh, then enriched
    # Case event id -> the message it came in (the first copy: that is the one dedupe keeps),
    # so a refused or parked event can be named by its message.
    origin: dict[str, Message] = field(default_factory=dict)
    # Every message each case event id came in, in order: a repeat within the batch is named by
    # its own copy.
    copies: dict[str, list[Message]] = field(default_factory=dict)
    # identical copies dropped, each with which copy of its id in the batch it was (0 = first)
    repeats: list[tuple[Record, int]] = field(default_factory=list)
    # (refused copy, the version kept as a dict): one id, two different events
    conflicts: list[tuple[CaseEvent, dict[str, Any]]] = field(default_factory=list)
    outcome: CaseOutcome = field(default_factory=CaseOutcome)  # what the case step made of the case events
    parked_at: dict[str, float] = field(default_factory=dict)  # parked event id -> since when it waits
    result: BatchResult = field(default_factory=BatchResult)
    spool: bool = False  # the broker spool's copies: their repeats are not counted as duplicates
    # The counts the store step wrote in the batch's transaction ((feed, name) -> n); the
    # pipeline adds the rest (the park step's refusals) after it.
    counted: dict[tuple[str, str], int] = field(default_factory=dict)


class Step(Protocol):
    """One step of the chain (feeds/pipeline.py declares them, in order)."""

    def run(self, batch: Batch) -> None:
        """Do this step's job for the whole batch. Refusals become dead letters and the batch
        goes on; an exception means the batch could not be stored (it is retried whole)."""
        ...


def message_digest(msg: Message) -> str:
    """A message by what it is (topic and payload), whichever way it came: the live subscription
    and the spool (feeds/spool.py) see the same bytes."""
    return hashlib.blake2b(msg.topic.encode() + b"\0" + msg.payload, digest_size=16).hexdigest()


def feed_of(record: Record) -> str:
    """The counters a record counts in."""
    if isinstance(record, Position | DeviceStatus | DeviceAlarm):
        return "gps"
    return "video" if isinstance(record, Alert) else "case"
