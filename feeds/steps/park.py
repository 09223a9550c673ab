"""The park step: what the case step could not apply, settled after the store.

- An event refused as early (newer than anything its case has seen, or its case busy on another
  worker) may have a predecessor on its way: it is parked in SQL (dashboard/store/parked.py) and
  tried again every PARK_RETRY_S by any worker (Pipeline.retry_parked). After the batch's
  patience (``case_park_s``) it is not refused: it stays parked, tried every SLOW_RETRY_S and
  whenever its case moves on, and its case counts as having an incomplete history until the
  missing events come (an import, a replay). An acknowledged event is never thrown away because
  another one was lost.
- Refusals become dead letters, named by the message each event came in.
- A conflicting duplicate (an event_id already taken by a different event) is refused, and both
  versions go to the dead letters: the one refused and the one kept.

After the store on purpose: a parked event retried by another worker must find its predecessor
in SQL, and the cases that moved on in this batch wake their waiting events.
"""

from __future__ import annotations

import dataclasses
import logging
import time

import orjson

from dashboard.records import CaseEvent
from dashboard.store.parked import Parked, ParkedEvents
from feeds.rejects import Reason, Rejected
from feeds.steps.batch import Batch, Message
from feeds.steps.deadletters import DeadLetters

log = logging.getLogger("gridwall.pipeline")

PARK_RETRY_S = 0.5
SLOW_RETRY_S = 60.0  # an event that outwaited its patience: its case is incomplete


def _message(event: CaseEvent | dict, now: float) -> Message:
    doc = dataclasses.asdict(event) if isinstance(event, CaseEvent) else event
    return Message(f"gridwall/case/{doc['case_id']}", orjson.dumps(doc), now)


class Park:
    def __init__(self, parked: ParkedEvents, dead: DeadLetters) -> None:
        self.parked = parked
        self.dead = dead

    def run(self, batch: Batch) -> None:
        outcome, result, origin = batch.outcome, batch.result, batch.origin
        now = time.time()
        retried = batch.parked_at  # event id -> since when it waits, for parked events tried again
        done = [e.event_id for e in outcome.applied if e.event_id in retried]
        done += [e.event_id for e in outcome.duplicates if e.event_id in retried]
        batch.repeats += [(e, 0) for e in outcome.duplicates]  # the first copy: dedupe let it by
        for event, kept in batch.conflicts + outcome.conflicts:
            self._conflict(batch, event, kept, now)
            if event.event_id in retried:
                done.append(event.event_id)
        new: list[Parked] = []
        again: list[str] = []
        slow: dict[str, str] = {}
        for event, exc in outcome.early:
            since = retried.get(event.event_id, now)
            msg = origin.get(event.event_id)
            if event.event_id not in retried:
                m = msg or _message(event, now)
                new.append(Parked(event.event_id, event.case_id, dataclasses.asdict(event), m.topic, m.payload,
                                  since, exc.detail))
                result.parked.append((event, msg))
            elif now - since < batch.patience_s:
                again.append(event.event_id)
                result.parked.append((event, msg))
            else:
                slow[event.event_id] = f"{exc.detail} (waiting {now - since:.0f} s for the events before it)"
                result.incomplete.append((event, msg, slow[event.event_id]))
        for event, exc in outcome.refused:
            msg = origin.get(event.event_id) or _message(event, now)
            self.dead.add(result, "case", msg, exc.reason.value, exc.detail, event.event_id)
            if event.event_id in retried:
                done.append(event.event_id)
        self.parked.park(new, now + (PARK_RETRY_S if batch.patience_s > 0 else SLOW_RETRY_S))
        self.parked.reschedule(again, now + PARK_RETRY_S)
        if slow:
            log.warning("%d case events still wait for their predecessors; their cases are incomplete", len(slow))
            self.parked.reschedule(slow, now + SLOW_RETRY_S, slow)
        self.parked.remove(done)
        moved = {e.case_id for e in outcome.applied}
        if moved:
            self.parked.wake_cases(moved, now)

    def _conflict(self, batch: Batch, event: CaseEvent, kept: dict, now: float) -> None:
        """Refuse ``event``; keep both versions in the dead letters."""
        msg = batch.origin.get(event.event_id) or _message(event, now)
        copies = batch.copies.get(event.event_id) or []
        msg = copies[-1] if len(copies) > 1 else msg  # within a batch: the later copy is the one refused
        what = f"{kept.get('action')} at {kept.get('ts')}"
        self.dead.add(batch.result, "case", msg, Reason.CONFLICTING_DUPLICATE.value,
                      f"event_id {event.event_id!r} already names a different event ({what}, kept); "
                      "this one is refused: give each event its own id", event.event_id)
        self.dead.keep(_message(kept, now), "case", Reason.CONFLICTING_DUPLICATE.value,
                       f"the version kept under event_id {event.event_id!r} (the other was refused)", event.event_id)


__all__ = ["PARK_RETRY_S", "SLOW_RETRY_S", "Park", "Rejected"]
