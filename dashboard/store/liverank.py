"""The wall's live rankings: counters per department, district and street (and for the whole
city) for today and this month, kept in Redis and updated incrementally.

A case's contribution to a period's counters, C(case, t), changes only when the case changes
(an event) or when the clock passes one of its deadlines (a pending outcome becomes overdue).
So:

- each applied batch adds C(after, now) − C(before, now) for the cases it changed;
- a timer per case (the next deadline still ahead of it) adds C(case, now) − C(case, due) once
  the clock passes it, with no message at all;
- a period's starting point is read from SQL (``dashboard.store.evaluation``) when the period begins or
  the live state is missing, and again every ``reconcile_s`` (default 1 h) to heal the few
  milliseconds around such a read in which a batch may be counted twice or not at all.

A code the city does not list (``known``: its departments, districts, streets) is counted under
``ranking.UNKNOWN``, one field per counter whatever the code: never a ranking row, never a Redis
field per invented code; its cases still count for the whole city.

Nothing is recomputed per tick: a tick costs one ZRANGEBYSCORE when no deadline passed.

Keys: dashboard/store/keys.py (RANK_*).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import redis

from dashboard.casework.casestate import CaseState
from dashboard.casework.counters import COUNTER_FIELDS, Counters, Period
from dashboard.casework.period_labels import label_of
from dashboard.casework.periods import PERIOD_KINDS, period_range
from dashboard.casework.ranking import UNKNOWN
from dashboard.store.keys import RANK_TIMERS, rank_key, rank_lock_key, rank_ready_key

TIMERS = RANK_TIMERS
KINDS: tuple[str, ...] = ("department", "district", "street", "city")
# Today's tiles read the day, the desk's rankings the month; a city's wall may add any other
# (Settings.ranking_periods): each one kept costs a little more per case change and its own
# reconcile from SQL (a year's is the longest read).
ALWAYS: tuple[str, ...] = ("day", "month")
CITY = "city"
RECONCILE_S = 3600.0  # how often a period's counts are read from SQL again (see the module doc)

Loader = Callable[[Sequence[str]], Mapping[str, CaseState]]
# (period, now) -> kind -> code -> counters, from SQL
StartingPoint = Callable[[Period, float], Mapping[str, Mapping[str, Counters]]]
# now -> case id -> its next deadline at or after now, from SQL
Deadlines = Callable[[float], Mapping[str, float]]


ready_key = rank_ready_key
lock_key = rank_lock_key


@dataclass(frozen=True, slots=True)
class LivePeriod:
    pid: str
    period: Period


def live_kinds(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The period kinds kept live: the day and month, and ``extra`` (the wall's), in the order
    of ``periods.PERIOD_KINDS``."""
    wanted = set(ALWAYS) | set(extra)
    return tuple(k for k in PERIOD_KINDS if k in wanted)


def current_periods(now: float, timezone: str, kinds: Sequence[str] = ALWAYS) -> list[LivePeriod]:
    """The current period of each kind; its id names it as reports do (``label_of``)."""
    day = datetime.fromtimestamp(now, ZoneInfo(timezone)).date()
    return [LivePeriod(f"{kind}:{label_of(kind, day)}", period_range(kind, day, timezone)) for kind in kinds]


def objects_of(case: CaseState) -> dict[str, str | None]:
    return {"department": case.department, "district": case.district, "street": case.street, "city": CITY}


def contribution(case: CaseState | None, period: Period, t: float) -> Counters:
    return Counters() if case is None else Counters.of(case, period, t)


def next_timer(case: CaseState, after: float) -> float | None:
    """The next instant after ``after`` at which the case's counters change by the clock alone:
    one of its deadlines passing with the step still undone."""
    times = [case.deadline, case.close_deadline]
    if case.is_open:
        times.append(case.stage_deadline)
    ahead = [t for t in times if t is not None and t >= after]
    return min(ahead) if ahead else None


def _fields(diff: Counters) -> dict[str, int]:
    return {name: value for name in COUNTER_FIELDS if (value := getattr(diff, name)) != 0}


# Deltas land only in periods whose starting point is there; otherwise that read will count them.
_APPLY_LUA = """
local a = 1
for i = 1, #KEYS, 2 do
  local n = tonumber(ARGV[a]); a = a + 1
  local ready = redis.call('EXISTS', KEYS[i + 1]) == 1
  for j = 1, n do
    if ready then redis.call('HINCRBY', KEYS[i], ARGV[a], tonumber(ARGV[a + 1])) end
    a = a + 2
  end
end
return 0
"""

# Take the timers that are due, so only one worker handles each.
_CLAIM_LUA = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
for i = 1, #ids, 2 do redis.call('ZREM', KEYS[1], ids[i]) end
return ids
"""


class LiveRank:
    def __init__(self, client: redis.Redis, timezone: str = "Asia/Shanghai", reconcile_s: float = RECONCILE_S,
                 known: Mapping[str, Collection[str]] | None = None, kinds: Sequence[str] = ALWAYS) -> None:
        self.r = client
        self.timezone = timezone
        self.kinds = live_kinds(kinds)  # the period kinds kept (every writer must keep the same)
        self.reconcile_s = reconcile_s
        # kind -> the city's codes of that kind (evaluation.city_objects); a kind not in it (the
        # city, or every kind when the city has no files) keeps the codes as they come.
        self.known: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in (known or {}).items()}
        self._apply = client.register_script(_APPLY_LUA)
        self._claim = client.register_script(_CLAIM_LUA)

    # --- writes: the pipeline (per batch) and the keeper (per tick) ----------------------------
    def apply(self, changes: Iterable[tuple[CaseState | None, float, CaseState, float]], periods: Sequence[LivePeriod]) -> None:
        """Add C(after, t_after) − C(before, t_before) for each change, in every live period."""
        per_period: list[dict[str, int]] = []
        for lp in periods:
            total: dict[str, int] = {}
            for before, t_before, after, t_after in changes:
                old = contribution(before, lp.period, t_before)
                new = contribution(after, lp.period, t_after)
                old_objects = objects_of(before) if before is not None else {}
                new_objects = objects_of(after)
                for kind in KINDS:
                    a, b = self.code(kind, old_objects.get(kind)), self.code(kind, new_objects.get(kind))
                    # Moved (re-dispatched to another department): out of one, into the other.
                    parts = [(a, new - old)] if a == b else [(a, Counters() - old), (b, new)]
                    for code, diff in parts:
                        if code is None:
                            continue
                        for name, value in _fields(diff).items():
                            field = f"{kind}|{code}|{name}"
                            total[field] = total.get(field, 0) + value
            per_period.append({k: v for k, v in total.items() if v})
        keys: list[str] = []
        args: list[str | int] = []
        for lp, fields in zip(periods, per_period, strict=True):
            keys += [rank_key(lp.pid), ready_key(lp.pid)]
            args.append(len(fields))
            for field, value in fields.items():
                args += [field, value]
        if any(per_period):
            self._apply(keys=keys, args=args)

    def code(self, kind: str, code: str | None) -> str | None:
        """Where a case's code of ``kind`` counts: itself, or UNKNOWN when the city does not list it."""
        known = self.known.get(kind)
        return code if code is None or known is None or code in known else UNKNOWN

    def note_changes(self, changes: Sequence[tuple[CaseState | None, CaseState]], now: float) -> None:
        """A batch applied these (before, after) case states at ``now``."""
        if not changes:
            return
        # What the live counters hold for a case is C(before, t) for t up to its pending timer:
        # a deadline that passed since the last tick has not been counted yet.
        pipe = self.r.pipeline(transaction=False)
        for _before, after in changes:
            pipe.zscore(TIMERS, after.case_id)
        pending = pipe.execute()
        self.apply([(before, now if due is None else min(now, float(due)), after, now)
                    for (before, after), due in zip(changes, pending, strict=True)],
                   current_periods(now, self.timezone, self.kinds))
        pipe = self.r.pipeline(transaction=False)
        for _before, after in changes:
            due = next_timer(after, now)
            if due is None:
                pipe.zrem(TIMERS, after.case_id)
            else:
                pipe.zadd(TIMERS, {after.case_id: due})
        pipe.execute()

    def fire_timers(self, now: float, load: Loader, limit: int = 2000) -> int:
        """Count the deadlines that passed since the last tick; returns how many cases moved."""
        raw = self._claim(keys=[TIMERS], args=[now, limit])
        if not raw:
            return 0
        due = {raw[i].decode(): float(raw[i + 1]) for i in range(0, len(raw), 2)}
        states = load(list(due))
        changes = [(state, due[cid], state, now) for cid, state in states.items() if cid in due]
        self.apply(changes, current_periods(now, self.timezone, self.kinds))
        pipe = self.r.pipeline(transaction=False)
        for _s, _t, state, _n in changes:
            ahead = next_timer(state, now)
            if ahead is not None:
                pipe.zadd(TIMERS, {state.case_id: ahead})
        pipe.execute()
        return len(changes)

    def ensure_ready(self, now: float, starting_point: StartingPoint, deadlines: Deadlines, worker: str = "") -> list[str]:
        """Read a period's starting point from SQL when it is missing or due for a reconcile;
        one worker at a time. Returns the periods (re)built.

        Fire the due timers first: the timers are then reset from SQL to each case's next
        deadline after ``now``, which is exactly what the starting point has not counted."""
        built = []
        for lp in current_periods(now, self.timezone, self.kinds):
            ready = self.r.get(ready_key(lp.pid))
            if ready is not None and now - float(ready) < self.reconcile_s:
                continue
            if not self.r.set(lock_key(lp.pid), worker or "1", nx=True, ex=60):
                continue
            try:
                rows = starting_point(lp.period, now)
                mapping = {f"{kind}|{code}|{name}": value
                           for kind, per_code in rows.items() for code, counters in per_code.items()
                           for name, value in counters.as_dict().items() if value}
                pipe = self.r.pipeline(transaction=True)
                pipe.delete(rank_key(lp.pid))
                if mapping:
                    pipe.hset(rank_key(lp.pid), mapping=mapping)
                pipe.set(ready_key(lp.pid), now, ex=int(35 * 86400))
                pipe.expire(rank_key(lp.pid), int(35 * 86400))
                pipe.execute()
                built.append(lp.pid)
            finally:
                self.r.delete(lock_key(lp.pid))
        if built:  # one read of the deadlines serves every period built at this instant
            self._reset_timers(deadlines(now))
        return built

    def _reset_timers(self, due: Mapping[str, float]) -> None:
        pipe = self.r.pipeline(transaction=True)
        pipe.delete(TIMERS)
        items = list(due.items())
        for i in range(0, len(items), 5000):
            pipe.zadd(TIMERS, dict(items[i:i + 5000]))
        pipe.execute()

    # --- reads: the wall ----------------------------------------------------------------------
    def read(self, period_kind: str, kind: str, now: float) -> dict[str, Counters] | None:
        """Counters per object of ``kind`` for the current period of ``period_kind``; None until
        ready, or when that kind is not kept live."""
        if period_kind not in self.kinds:
            return None
        [lp] = current_periods(now, self.timezone, (period_kind,))
        if not self.r.exists(ready_key(lp.pid)):
            return None
        values: dict[str, dict[str, int]] = {}
        prefix = f"{kind}|"
        for raw_field, raw_value in self.r.hgetall(rank_key(lp.pid)).items():
            field = raw_field.decode()
            if field.startswith(prefix):
                _kind, code, name = field.split("|", 2)
                # Never below zero, even in the instant a race around a reconcile leaves.
                values.setdefault(code, {})[name] = max(int(raw_value), 0)
        return {code: Counters(**fields) for code, fields in values.items()}
