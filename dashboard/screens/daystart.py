"""The open cases as they stood at the start of the local day, rebuilt from the case history:
the starting point of the board's "change since 00:00" (▲/▼ beside 超期 and 即将超期).

Counting from the first board of the day instead would start from whatever the screen saw
first: on a system started at 14:00, or catching up on a backlog, every case that arrived late
would show as a rise. Rebuilt from the history, the starting point is the same whenever it is
computed, and it is computed again when an event from before midnight is stored later.

A case with no event since the start stood then as it stands now, so its current hot doc is
its doc at the start. Only the cases that moved since are replayed, from their events before
the start, through the same lifecycle the case step uses. (The SQL: dashboard/store/case_history.py.)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine

from dashboard.casework import lifecycle
from dashboard.casework.errors import CaseworkError
from dashboard.casework.overdue import LightPolicy
from dashboard.casework.timelimits import Rules
from dashboard.store import case_history
from dashboard.store.hotdoc import hot_doc

log = logging.getLogger("gridwall.board")


def docs_at(engine: Engine, start: float, open_now: Iterable[Mapping[str, Any]], rules: Rules,
            policy: LightPolicy) -> tuple[list[Mapping[str, Any]], int]:
    """The hot docs of the cases open at ``start``, and the history mark they were built at."""
    mark = case_history.newest_event_id(engine)
    moved = case_history.cases_moved_since(engine, start, mark)
    docs: list[Mapping[str, Any]] = [d for d in open_now if d["case_id"] not in moved]
    for case_id, events in case_history.events_before(engine, sorted(moved), start, mark):
        try:
            state = lifecycle.replay(events, rules)
        except CaseworkError as exc:
            # Stored events were applied once, so this is rare (two events of one case with
            # the same instant, applied in arrival order); leave the case out.
            log.debug("case %s does not replay to the start of the day: %s", case_id, exc)
            continue
        if state.is_open:
            docs.append(hot_doc(state, {}, rules, policy))
    return docs, mark
