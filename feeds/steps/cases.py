"""The case step: apply case events through the lifecycle of dashboard.casework, in order.

The SQL projection is the case's memory (case.doc holds the full CaseState), so any worker can
take any event. Refusals (an unknown action, an illegal transition, unusable case data) come
back as Rejected for the dead-letter store; the other events of the batch go on. Nothing is
written here: the store step writes the outcome, the park step settles the refusals.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from dashboard import casedata
from dashboard.casework import lifecycle
from dashboard.casework.casestate import CaseState
from dashboard.casework.errors import IllegalTransition, InvalidCaseData, UnknownAction
from dashboard.casework.projection import case_columns, step_rows
from dashboard.config import Settings
from dashboard.records import CaseEvent, event_digest
from dashboard.store.case_states import load_cases, stored_events
from dashboard.store.history_writer import case_row
from dashboard.store.hot import HotStore
from dashboard.store.hotdoc import EXTRA_FIELDS, hot_doc
from feeds.rejects import Reason, Rejected

if TYPE_CHECKING:
    from feeds.steps.batch import Batch


@dataclass
class CaseOutcome:
    applied: list[CaseEvent] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # SQL projection rows
    stats: list[dict[str, Any]] = field(default_factory=list)  # case_stat rows (the counters' view)
    steps: list[dict[str, Any]] = field(default_factory=list)  # case_step rows of those cases
    # (before, after) of each changed case: the live rankings add after − before
    changes: list[tuple[CaseState | None, CaseState]] = field(default_factory=list)
    docs: list[dict[str, Any]] = field(default_factory=list)  # Redis hot-state docs
    refused: list[tuple[CaseEvent, Rejected]] = field(default_factory=list)
    duplicates: list[CaseEvent] = field(default_factory=list)  # already in SQL, identical
    # already in SQL under the same id, but a different event: (this one, the stored version)
    conflicts: list[tuple[CaseEvent, dict[str, Any]]] = field(default_factory=list)
    # Refused for now, but newer than anything the case has seen: its predecessor may be on its
    # way through another worker. The pipeline parks these and tries again.
    early: list[tuple[CaseEvent, Rejected]] = field(default_factory=list)
    locked: set[str] = field(default_factory=set)  # case ids to unlock once stored ...
    lock_token: str = ""  # ... with this token


def is_early(state: CaseState | None, event: CaseEvent) -> bool:
    return state is None or event.ts > state.updated_at


@dataclass
class _Working:
    state: CaseState | None
    before: CaseState | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    last_event_id: str | None = None
    changed: bool = False


class CaseBook:
    def __init__(self, engine: Engine, settings: Settings, hot: HotStore | None = None) -> None:
        self.engine = engine
        self.rules, self.policy = casedata.city_rules(settings.section("casework"))
        self.hot = hot  # for the per-case locks; None: a single writer (tests, import)
        self.token = uuid.uuid4().hex

    def _load(self, case_ids: Iterable[str]) -> dict[str, _Working]:
        out = {cid: _Working(None) for cid in sorted(set(case_ids))}
        for cid, stored in load_cases(self.engine, out).items():
            out[cid] = _Working(stored.state, stored.state, stored.extra, stored.last_event_id)
        return out

    def states(self, case_ids: Iterable[str]) -> dict[str, CaseState]:
        """The stored states of these cases (the unknown ones left out)."""
        return {cid: w.state for cid, w in self._load(case_ids).items() if w.state is not None}

    def __call__(self, events: Sequence[CaseEvent]) -> CaseOutcome:
        out = CaseOutcome(lock_token=self.token)
        if self.hot is not None:
            out.locked = self.hot.lock_cases([e.case_id for e in events], self.token)
            busy = [e for e in events if e.case_id not in out.locked]
            out.early += [(e, Rejected(Reason.ILLEGAL_TRANSITION, f"case {e.case_id} is being updated by another worker"))
                          for e in busy]
            events = [e for e in events if e.case_id in out.locked]
        try:
            return self._apply(events, out)
        except BaseException:
            # The store step releases the locks after its commit; a batch that fails before it
            # releases them here, or their cases would wait out the lease for every worker.
            if self.hot is not None and out.locked:
                self.hot.unlock_cases(out.locked, out.lock_token)
            raise

    def _apply(self, events: Sequence[CaseEvent], out: CaseOutcome) -> CaseOutcome:
        # SQL decides what was stored: the Redis marks can be lost, or not yet set when a crash
        # came between the commit and them. Under the case's lock, so no other worker is adding
        # an event of this case meanwhile.
        stored = stored_events(self.engine, (e.event_id for e in events))
        book = self._load(e.case_id for e in events)
        for event in sorted(events, key=lambda e: e.ts):
            known = stored.get(event.event_id)
            if known is not None:
                if known.digest is None or known.digest == event_digest(event):
                    out.duplicates.append(event)
                else:
                    out.conflicts.append((event, known.event))
                continue
            w = book[event.case_id]
            try:
                w.state = lifecycle.apply(w.state, event, self.rules)
            except UnknownAction as exc:
                out.refused.append((event, Rejected(Reason.UNKNOWN_ACTION, exc.reason)))
                continue
            except IllegalTransition as exc:
                target = out.early if is_early(w.state, event) else out.refused
                target.append((event, Rejected(Reason.ILLEGAL_TRANSITION, exc.reason)))
                continue
            except InvalidCaseData as exc:
                out.refused.append((event, Rejected(Reason.WRONG_TYPE, exc.reason)))
                continue
            except ValueError as exc:  # the book refused the event for a reason of its own: refuse it alone
                out.refused.append((event, Rejected(Reason.WRONG_TYPE, f"the case book refused it: {exc}"[:300])))
                continue
            w.extra.update({k: event.case[k] for k in EXTRA_FIELDS if event.case.get(k) is not None})
            w.last_event_id, w.changed = event.event_id, True
            out.applied.append(event)
        changed = [w for w in book.values() if w.changed and w.state is not None]
        out.rows = [case_row(w.state, w.extra, w.last_event_id or "") for w in changed]  # type: ignore[arg-type]
        out.docs = [hot_doc(w.state, w.extra, self.rules, self.policy) for w in changed]  # type: ignore[arg-type]
        out.stats = [case_columns(w.state) for w in changed]  # type: ignore[arg-type]
        out.steps = [step for w in changed for step in step_rows(w.state)]  # type: ignore[arg-type]
        out.changes = [(w.before, w.state) for w in changed]  # type: ignore[misc]
        return out


CaseApplier = Callable[[Sequence[CaseEvent]], CaseOutcome]


def _ts(event: CaseEvent) -> float:
    return event.ts


class ApplyCases:
    """The step: the batch's case events, in time order, through the case book."""

    def __init__(self, apply: CaseApplier) -> None:
        self.apply = apply

    def run(self, batch: Batch) -> None:
        events = sorted((r for r in batch.records if isinstance(r, CaseEvent)), key=_ts)
        if events:
            batch.outcome = self.apply(events)
