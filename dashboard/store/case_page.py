"""Reads of the case page (docs/desk.md): one case's events, its projection, and its grid's
recent cases; ``case_page`` puts them together with the timeline the casework makes of them.

The SQL home of case events is this module and dashboard/store/case_history.py; the rules that
make a timeline of the rows are dashboard/casework/timeline.py's (this module only reads).

Bounded work whatever is asked: a case id is checked before any query (length and characters,
the bounds of dashboard/limits.py), a case's events are read up to ``EVENTS_MAX`` (a real case
has ten to thirty), the grid history up to ``HISTORY_MAX`` rows over at most ``DAYS_MAX`` days,
and the page reads by primary key or by index: the case row by its id, the events by
``case_event.case_id``. The history filters ``case_stat`` by grid and report time; without an
index on ``(grid_code, reported_at)`` that is a scan of the table (bench/bench_case_page.py
measures both: the scan alone takes the page past its 50 ms on a large history).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, select

from dashboard import limits
from dashboard.casework.actions import TERMINAL_STATES, State
from dashboard.casework.casestate import CaseState
from dashboard.casework.overdue import LightPolicy
from dashboard.casework.timelimits import Rules
from dashboard.casework.timeline import (
    Entry,
    Media,
    Status,
    StepTime,
    build_timeline,
    case_status,
    media,
    waiting_step,
)
from dashboard.records import CaseEvent
from dashboard.store.casedoc import from_doc
from dashboard.store.models import CaseEventRow, CaseRow, CaseStatRow

EVENTS_MAX: Final = 500  # events of one case on a page (a payload is at most 32 KB); beyond, the page says it is cut
HISTORY_DEFAULT: Final = 50  # the grid's cases listed under the case
HISTORY_MAX: Final = 200
DAYS_DEFAULT: Final = 90
DAYS_MAX: Final = 366
_DAY_S: Final = 86400.0
_TIME_SLACK_S: Final = 1e-3  # see same_state
E = CaseEventRow
S = CaseStatRow


def check_case_id(case_id: object) -> str:
    """The id, or ValueError when it cannot name a stored case: not text, empty, longer than
    the ``case_event.case_id`` column (dashboard/limits.py CASE_ID), blanks around it (the
    intake refuses those: feeds/validate.py check_id), or a character that is not printable (a
    NUL, a control character, a lone surrogate: nothing a case number holds)."""
    if not isinstance(case_id, str):
        raise ValueError(f"a case id is text, not {type(case_id).__name__}")
    if not case_id or case_id != case_id.strip():
        raise ValueError(f"case id {case_id[:80]!r} is blank or has blanks around it")
    if len(case_id) > limits.CASE_ID:
        raise ValueError(f"case id is {len(case_id)} characters long, over its bound of {limits.CASE_ID}")
    if not case_id.isprintable():
        raise ValueError(f"case id {case_id[:80]!r} holds a character that is not printable")
    return case_id


def _event(row: Any) -> CaseEvent:
    return CaseEvent(row.event_id, row.case_id, row.action, row.ts.timestamp(), row.actor, dict(row.payload or {}),
                     row.source)


def _events(conn: Connection, case_id: str, limit: int) -> list[CaseEvent]:
    # (ts, id): the order the events applied in (the lifecycle refuses an event older than the
    # case's last, and id is arrival order for two at the same instant), as case_history reads them.
    rows = conn.execute(
        select(E.event_id, E.case_id, E.action, E.ts, E.actor, E.source, E.payload)
        .where(E.case_id == case_id).order_by(E.ts, E.id).limit(limit))
    return [_event(r) for r in rows]


def case_events(engine: Engine, case_id: str, limit: int = EVENTS_MAX) -> list[CaseEvent]:
    """The stored events of one case in the order they applied, at most ``limit``."""
    check_case_id(case_id)
    with engine.connect() as conn:
        return _events(conn, case_id, max(0, min(limit, EVENTS_MAX + 1)))


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """A case of the same grid, as the page lists it under the case."""

    case_id: str
    state: str
    open: bool
    category: str | None
    small_code: str | None
    department: str | None
    urgent: bool
    reported_at: float
    deadline: float | None
    feedback_at: float | None
    closed_at: float | None
    title: str | None


def _bounded(value: int, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {value!r}")
    return value


def _history(conn: Connection, grid_code: str, now: float, days: int, limit: int,
             exclude: str | None) -> list[HistoryRow]:
    since = now - days * _DAY_S
    query = (select(S.case_id, S.state, S.is_open, S.category, S.small_code, S.department, S.urgent,
                    S.reported_at, S.deadline, S.feedback_at, S.closed_at)
             .where(S.grid_code == grid_code, S.reported_at >= since, S.reported_at <= now))
    if exclude is not None:
        query = query.where(S.case_id != exclude)
    rows = conn.execute(query.order_by(S.reported_at.desc(), S.case_id).limit(limit)).all()
    # The titles are the projection's (case_stat keeps only what the counters compare): at most
    # ``limit`` primary-key reads.
    titles = dict(conn.execute(select(CaseRow.case_id, CaseRow.title)
                               .where(CaseRow.case_id.in_([r.case_id for r in rows]))).tuples().all()) if rows else {}
    return [HistoryRow(case_id=r.case_id, state=r.state, open=bool(r.is_open), category=r.category,
                       small_code=r.small_code, department=r.department, urgent=bool(r.urgent),
                       reported_at=r.reported_at, deadline=r.deadline, feedback_at=r.feedback_at,
                       closed_at=r.closed_at, title=titles.get(r.case_id)) for r in rows]


def grid_history(engine: Engine, grid_code: str, now: float, days: int = DAYS_DEFAULT,
                 limit: int = HISTORY_DEFAULT, exclude: str | None = None) -> list[HistoryRow]:
    """The grid's cases reported in the ``days`` before ``now`` (``now`` included), newest first
    (the case number breaks a tie), at most ``limit``; ``exclude`` leaves one case out (the page's
    own). ValueError for a bad grid code, a ``days`` outside 1..DAYS_MAX or a ``limit`` outside
    1..HISTORY_MAX."""
    if not isinstance(grid_code, str) or not grid_code or len(grid_code) > limits.GRID_CODE or not grid_code.isprintable():
        raise ValueError(f"grid code {str(grid_code)[:80]!r} is not one a case can hold")
    _bounded(days, 1, DAYS_MAX, "days")
    _bounded(limit, 1, HISTORY_MAX, "limit")
    with engine.connect() as conn:
        return _history(conn, grid_code, now, days, limit, exclude)


@dataclass(frozen=True, slots=True)
class CasePage:
    """Everything the case page shows (plain values; orjson writes it as it is).

    ``status`` is the stored case's (the projection the wall counts and pins), computed by the
    same casework function as the timeline's own; ``replay_matches`` says whether folding the
    stored events gives that same state (False: the rules changed since, or the page was cut).
    """

    case_id: str
    case: dict[str, Any]  # the case's fields: state, source, category, grid, department, title, place, ...
    status: Status
    entries: tuple[Entry, ...]  # the timeline: one per stored event, in order
    steps: tuple[StepTime, ...]  # each step's time against its limit, the waiting one last
    media: tuple[Media, ...]
    history: tuple[HistoryRow, ...]  # the grid's cases of the last 90 days, newest first
    events_cut: bool  # more than EVENTS_MAX events: the timeline shows the first EVENTS_MAX
    complete: bool  # every event shown applied
    replay_matches: bool


_CASE_FIELDS = ("version", "supervisions", "supervised_at", "state", "source", "channel", "category", "class_code", "small_code", "condition", "grid_code",
                "department", "urgent", "reporter", "reported_at", "closed_at", "district", "street", "community")
_EVENT_TEXTS = ("description", "ticket")  # wording only the events carry (the projection keeps title, address)


def _summary(state: CaseState, extra: dict[str, Any], events: list[CaseEvent]) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(state, name) for name in _CASE_FIELDS}
    out["state"], out["source"] = state.state.value, state.source.value  # the wire words, not enums
    out.update({key: extra.get(key) for key in ("title", "address", "lat", "lon")})
    for key in _EVENT_TEXTS:  # the latest event that says it
        out[key] = next((e.case[key] for e in reversed(events) if isinstance(e.case.get(key), str)), None)
    return out


def case_page(engine: Engine, case_id: str, rules: Rules, policy: LightPolicy, now: float,
              history_days: int = DAYS_DEFAULT, history_limit: int = HISTORY_DEFAULT) -> CasePage | None:
    """The case page of ``case_id`` at ``now``; None for a case SQL does not hold; ValueError for
    an id that cannot be one (``check_case_id``) or a history bound out of range. Three reads on
    one connection: the case row by its key, its events by ``case_event.case_id``, the grid's
    history (by grid and report time; then the history's titles by key)."""
    check_case_id(case_id)
    _bounded(history_days, 1, DAYS_MAX, "history_days")
    _bounded(history_limit, 1, HISTORY_MAX, "history_limit")
    with engine.connect() as conn:
        row = conn.execute(select(CaseRow.doc).where(CaseRow.case_id == case_id)).first()
        if row is None:
            return None
        doc = row.doc or {}
        stored = from_doc(doc["state"])
        events = _events(conn, case_id, EVENTS_MAX + 1)
        cut = len(events) > EVENTS_MAX
        events = events[:EVENTS_MAX]
        history = [] if stored.grid_code is None else _history(conn, stored.grid_code, now, history_days,
                                                                history_limit, case_id)
    timeline = build_timeline(events, rules, policy, now)
    # Where the case stands is the stored state's (what the wall counts), so the waiting step
    # is taken from it too: a cut or refused replay cannot show a step the case is not in.
    ended = tuple(step for step in timeline.steps if step.ended_at is not None)
    waiting = waiting_step(stored, now, rules)
    return CasePage(
        case_id=case_id,
        case=_summary(stored, dict(doc.get("extra") or {}), events),
        status=case_status(stored, rules, policy, now),
        entries=timeline.entries,
        steps=ended if waiting is None else (*ended, waiting),
        media=media(events),
        history=tuple(history),
        events_cut=cut,
        complete=timeline.complete and not cut,
        replay_matches=timeline.state is not None and same_state(timeline.state, stored),
    )


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= _TIME_SLACK_S
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def same_state(replayed: CaseState, stored: CaseState) -> bool:
    """Is the replay of the stored events the stored state? Times are compared to the
    millisecond: SQL keeps an event's time to the microsecond while the projection was folded
    from the time as sent, so a time sent with more digits comes back a fraction of a
    microsecond off (and every deadline computed from it with it)."""
    return _same(replayed, stored)


@dataclass(frozen=True, slots=True)
class CaseHead:
    """What an action on a case is checked against: the version the caller saw, whether it is
    open, and where it is (a limited user acts in its districts only)."""

    case_id: str
    version: int
    open: bool
    district: str | None
    department: str | None
    lat: float | None = None
    lon: float | None = None
    title: str | None = None
    grid_code: str | None = None


def case_head(engine: Engine, case_id: str) -> CaseHead | None:
    """The case's current version and place, by its key; None for a case SQL does not hold."""
    check_case_id(case_id)
    with engine.connect() as conn:
        row = conn.execute(select(CaseRow.version, CaseRow.state, CaseRow.district, CaseRow.department, CaseRow.lat,
                                  CaseRow.lon, CaseRow.title, CaseRow.grid_code)
                           .where(CaseRow.case_id == case_id)).first()
    if row is None:
        return None
    return CaseHead(case_id, int(row.version), State(row.state) not in TERMINAL_STATES, row.district, row.department,
                    row.lat, row.lon, row.title, row.grid_code)
