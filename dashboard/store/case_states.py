"""The case projection read back as case states: the SQL ``case`` rows (``doc`` holds the full
CaseState and the fields that ride along with it) of some cases, or of every open one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from dashboard.casework.actions import TERMINAL_STATES
from dashboard.casework.casestate import CaseState
from dashboard.store.casedoc import from_doc
from dashboard.store.models import CaseEventRow, CaseRow

_CHUNK = 500  # ids per IN (...): well under every driver's parameter limit


@dataclass(frozen=True, slots=True)
class StoredCase:
    state: CaseState
    extra: dict[str, Any]  # location and wording (hotdoc.EXTRA_FIELDS): not part of the lifecycle
    last_event_id: str | None


def _stored(doc: dict[str, Any], last_event_id: str | None) -> StoredCase:
    return StoredCase(from_doc(doc["state"]), dict(doc.get("extra") or {}), last_event_id)


def load_cases(engine: Engine, case_ids: Iterable[str]) -> dict[str, StoredCase]:
    """The stored cases among these ids (an unknown id is left out)."""
    ids = sorted(set(case_ids))
    out: dict[str, StoredCase] = {}
    with engine.connect() as conn:
        for i in range(0, len(ids), _CHUNK):
            rows = conn.execute(select(CaseRow.case_id, CaseRow.doc, CaseRow.last_event_id)
                                .where(CaseRow.case_id.in_(ids[i:i + _CHUNK])))
            for cid, doc, last in rows:
                out[cid] = _stored(doc, last)
    return out


def open_cases(conn: Connection) -> list[StoredCase]:
    """Every case not in a terminal state (on the caller's connection: dashboard/store/last_known.py
    reads it with the alerts and positions)."""
    terminal = [s.value for s in TERMINAL_STATES]
    rows = conn.execute(select(CaseRow.doc, CaseRow.last_event_id).where(CaseRow.state.not_in(terminal)))
    return [_stored(doc, last) for doc, last in rows]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A case event as SQL holds it: enough to tell a redelivery from a different event that
    reused its id."""

    event_id: str
    digest: str | None  # None: stored before digests were kept
    event: dict[str, Any]  # case_id, action, ts (epoch s), actor, source, case


def stored_events(engine: Engine, event_ids: Iterable[str]) -> dict[str, StoredEvent]:
    """The stored case events among these ids."""
    ids = sorted(set(event_ids))
    out: dict[str, StoredEvent] = {}
    with engine.connect() as conn:
        for i in range(0, len(ids), _CHUNK):
            rows = conn.execute(select(CaseEventRow).where(CaseEventRow.event_id.in_(ids[i:i + _CHUNK])))
            for r in rows:
                out[r.event_id] = StoredEvent(r.event_id, r.digest, {
                    "event_id": r.event_id, "case_id": r.case_id, "action": r.action, "ts": r.ts.timestamp(),
                    "actor": r.actor, "source": r.source, "case": dict(r.payload or {})})
    return out
