"""The park step: what the case step could not apply, settled after the store.

An event refused as early (newer than anything its case has seen, or its case busy on another
worker) may have a predecessor on its way through another worker: it is parked in the hot store
and tried again every PARK_RETRY_S by any worker (Pipeline.retry_parked), for up to the batch's
patience (``case_park_s``); after that it is refused like the others. Refusals become dead
letters, named by the message each event came in.

After the store on purpose: a parked event retried by another worker must find its predecessor
in SQL.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import orjson

from dashboard.store.hot import HotStore
from feeds.rejects import Rejected
from feeds.steps.batch import Batch, Message
from feeds.steps.deadletters import DeadLetters

PARK_RETRY_S = 0.5


class Park:
    def __init__(self, hot: HotStore, dead: DeadLetters) -> None:
        self.hot = hot
        self.dead = dead

    def run(self, batch: Batch) -> None:
        outcome, result, origin = batch.outcome, batch.result, batch.origin
        if not (outcome.early or outcome.refused):
            return
        now = time.time()
        hold: dict[str, dict[str, Any]] = {}
        for event, exc in outcome.early:
            since = batch.parked_at.get(event.event_id, now)
            if now - since < batch.patience_s:
                hold[event.event_id] = {"event": dataclasses.asdict(event), "parked_at": since}
                result.parked.append((event, origin.get(event.event_id)))
            else:
                outcome.refused.append((event, Rejected(exc.reason, f"{exc.detail} (waited {now - since:.0f} s for the events before it)")))
        self.hot.park(hold, now + PARK_RETRY_S)
        for event, exc in outcome.refused:
            msg = origin.get(event.event_id) or Message(f"gridwall/case/{event.case_id}", orjson.dumps(dataclasses.asdict(event)), now)
            self.dead.add(result, "case", msg, exc.reason.value, exc.detail, event.event_id)
