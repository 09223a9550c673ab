"""Keep the wall's live rankings current (dashboard.store.liverank): once per tick, read a new
period's starting point from SQL when needed and count the deadlines that passed.

Any worker may do either: the period read takes a Redis lock, and each passed deadline is
claimed by one worker. The starting point folds the codes the city does not list as the live
counters do (``LiveRank.known``), so the two always agree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from sqlalchemy import Engine

from dashboard.casework.casestate import CaseState
from dashboard.casework.counters import Counters, Period
from dashboard.store.evaluation import counters_by, next_deadlines
from dashboard.store.liverank import KINDS, LiveRank


class CaseStates(Protocol):
    """Where the stored case states come from (the case step's book)."""

    def states(self, case_ids: Iterable[str]) -> dict[str, CaseState]: ...


class RankKeeper:
    def __init__(self, live: LiveRank, engine: Engine, book: CaseStates, grid_codes: list[str], worker: str = "") -> None:
        self.live = live
        self.engine = engine
        self.book = book
        self.grid_codes = grid_codes
        self.worker = worker

    def starting_point(self, period: Period, now: float) -> Mapping[str, Mapping[str, Counters]]:
        with self.engine.connect() as conn:
            return {kind: counters_by(conn, kind, period, now, grid_codes=self.grid_codes, known=self.live.known.get(kind))
                    for kind in KINDS}

    def deadlines(self, now: float) -> Mapping[str, float]:
        with self.engine.connect() as conn:
            return next_deadlines(conn, now)

    def tick(self, now: float) -> None:
        self.live.fire_timers(now, self.book.states)  # before a starting point resets the timers
        self.live.ensure_ready(now, self.starting_point, self.deadlines, self.worker)
