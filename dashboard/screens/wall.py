"""The wall's screen model: everything the wall shows around the map, as one JSON document
(the board), built about once a second by an ingest worker for every screen at once.

- the overdue counters (超期, 即将超期, 挂账) by district and department, from the open cases'
  hot docs by the one overdue rule (dashboard.casework.overdue, applied to the boundaries each
  doc carries: red after ``due``, yellow from ``warn_at``, grey while suspended), with the
  change since local midnight (dashboard/screens/daystart.py rebuilds the counts at midnight
  from the case history);
- today's counts and rates for the whole city and this month's department and region rankings,
  from the live counters (dashboard.store.liverank) through casework.rates and casework.ranking;
  the rows of a ranking and of the overdue lists are the city's departments and regions, and
  only those: what cases with a code the city does not list add up to is shown apart
  (``unknown``), and counts in the city's totals;
- the alert ticker: the video alerts of the last day and the urgent open cases, newest first;
- the rotating views: reports and closures by hour today (SQL, at most once a minute), open
  cases by category, vehicles online / moving / parked by subtype; the collectors per team (在岗,
  在岗率, coverage, km, alarms: dashboard/screens/collector_board.py);
- ``history``: whether the case history is still streaming in (dashboard/store/catchup.py);
  until it is, the wall shows a loading state instead of figures that are not yet right.

A screen limited to some districts (dashboard/access/scope.py) gets a board of its own, and a
KPI of its own: the same build on the cases, alerts and devices of its districts, today's counts
summed over its districts, the region ranking's rows inside it. The department ranking stays the
whole city's business: the live counters are kept per department, not per district and
department, so a limited board marks it ``city_only`` instead of showing other districts' work.
Those boards are built in the same tick, for every scope a screen asked for in the last
SCOPE_WANTED_S (dashboard/store/board.py), and never per client.

Names come from dashboard/screens/names.py; every Redis read and write from
dashboard/store/board.py, the SQL from dashboard/store/case_history.py. Several workers may
run: a short Redis lock lets one of them build each second, and the board is stored only when
its JSON changed (then its version goes up and the screens fetch it). docs/wall.md has the
fields.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard import casedata
from dashboard.access.scope import CITY_SCOPE, Scope
from dashboard.casework.catalogue import Catalogue
from dashboard.casework.counters import Counters
from dashboard.casework.overdue import UNKNOWN, Light, tally_lights
from dashboard.casework.periods import period_range
from dashboard.casework.rates import percent, rate_fraction
from dashboard.city.model import City
from dashboard.config import Settings
from dashboard.contract import OFFLINE_AFTER_S, VEHICLE_SUBTYPES
from dashboard.screens import collector_board, daystart
from dashboard.screens.names import load_names
from dashboard.screens.rankings import Rankings
from dashboard.store import case_history
from dashboard.store.alarm_counts import alarm_counts
from dashboard.store.board import BoardInputs, BoardStore, board_store
from dashboard.store.hot import HotStore
from dashboard.store.hotdoc import doc_light
from dashboard.store.liverank import CITY, RECONCILE_S, LiveRank
from dashboard.supervision_config import Supervision
from dashboard.supervision_config import from_settings as supervision_settings

log = logging.getLogger("gridwall.board")

BOARD_S = 1.0  # how often the board is computed
BUDGET = 10.0  # ... but never more than 1/BUDGET of the worker's time
HOURLY_S = 60.0  # how often today's hours are read from SQL
HOURLY_CATCH_UP_S = 5.0  # ... or this often while they do not add up to today's 上报
BASE_CHECK_S = 10.0  # how often to look for late events that change the counts at midnight
MOVING_KMH = 2.0  # faster is moving (the same threshold as the position history's stop/start)
TICKER_MAX = 30
TICKER_ALERT_WINDOW_S = 86400.0  # 实时告警: the alerts of the last day, not a backfill's old ones
TOP_CLASSES = 8
LIGHTS = (Light.RED.value, Light.YELLOW.value, Light.GREY.value)
BOARD_DIMENSIONS = ("district", "department")


def count_lights(docs: Sequence[Mapping[str, Any]], now: float) -> dict[str, dict[str, dict[Light, int]]]:
    """Red / yellow / grey counts of hot docs per district and department, and for the whole
    city (``{"all": {"all": {...}}, "district": {code: {...}}, "department": {...}}``)."""
    return tally_lights(docs, lambda d: doc_light(d, now), lambda d, dim: d.get(dim), BOARD_DIMENSIONS,
                        skip=(Light.GREEN,))


def case_light(doc: Mapping[str, Any], now: float) -> str | None:
    """An open case's light from its hot doc, as a string (the board's JSON)."""
    light = doc_light(doc, now)
    return None if light is None else light.value


def local_hour(t: float, zone: ZoneInfo) -> int:
    return datetime.fromtimestamp(t, zone).hour


class WallBoard:
    def __init__(self, hot: HotStore, engine: Engine, settings: Settings, live: LiveRank | None = None,
                 worker: str = "", supervision: Supervision | None = None) -> None:
        self.hot = hot
        self.store: BoardStore = board_store(hot)
        self.catchup = hot.catchup()
        self.engine = engine
        self.timezone = settings.timezone
        self.zone = ZoneInfo(settings.timezone)
        self.rank_periods = settings.ranking_period_kinds
        self.live = live or hot.live_rank(settings.timezone, RECONCILE_S, kinds=self.rank_periods)
        self.offline_after_s = OFFLINE_AFTER_S
        self.worker = worker or "1"
        self.names = load_names(settings.city_dir)  # no city files: codes instead of names
        self.rankings = Rankings(settings, self.names)
        self.city: City | None = self.names.city
        self.catalogue: Catalogue = self.names.catalogue
        self.rules, self.policy = casedata.city_rules(settings.section("casework"))
        # The collector board (dashboard/screens/collector_board.py): its inputs change slowly
        # and cost a read of every collector's day, so it is made every COLLECTORS_S.
        self.sup = supervision or supervision_settings(settings)  # the ingest worker passes the one it loaded
        self.duty = hot.watch_states()
        self._collectors: dict[str, tuple[float, dict[str, Any]]] = {}  # scope key -> (until, board)
        self._next = 0.0
        self._base_checked: dict[str, float] = {}  # by scope key

    # --- the tick ------------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> bool:
        """Compute and store the board if a second has passed and no other worker is at it.
        Never raises: a failed board must not stop the ingest loop."""
        now = time.time() if now is None else now
        if now < self._next:
            return False
        self._next = now + BOARD_S
        try:
            if not self.store.take_turn(self.worker, int(BOARD_S * 900)):
                return False
            started = time.perf_counter()
            inputs = self.store.inputs(self._day(now))  # read once for the city and every scope
            self.update(now, inputs=inputs)
            for districts in self.store.wanted(now):
                self.update(now, Scope.of(districts), inputs)
            # The board shares the worker's thread with the messages: at most a tenth of it
            # (tens of thousands of open cases make the board slower, and then less frequent).
            self._next = now + max(BOARD_S, BUDGET * (time.perf_counter() - started))
            return True
        except Exception:
            log.exception("board failed")
            return False

    def update(self, now: float, scope: Scope = CITY_SCOPE, inputs: BoardInputs | None = None) -> dict[str, Any]:
        """Compute the board of ``scope`` as of ``now``, store it (a district scope's KPI with
        it), and return it."""
        inputs = inputs or self.store.inputs(self._day(now))
        board = self.build(now, scope, inputs)
        self.store.publish(board, scope.key)
        if not scope.whole:
            self.store.put_kpi(scope.key, self.kpi(now, scope, scope.only(inputs.cases)))
        return board

    def _day(self, now: float) -> str:
        return datetime.fromtimestamp(now, self.zone).date().isoformat()

    def build(self, now: float, scope: Scope = CITY_SCOPE, inputs: BoardInputs | None = None) -> dict[str, Any]:
        day = self._day(now)
        midnight = period_range("day", now, self.timezone)[0]
        inputs = inputs or self.store.inputs(day)
        cases = scope.only(inputs.cases)
        lights = count_lights(cases, now)
        today = self._today(now, scope)
        base = inputs.base if scope.whole else self.store.base(day, scope.key)
        return {
            "day": day,
            "history": self.catchup.state(),
            "today": today,
            "overdue": self._overdue(lights, self._day_base(day, midnight, base, inputs.cases, now, scope), len(cases),
                                     scope),
            # The rankings of the first of the city's periods (ranking_periods, month [D]); the
            # others, when there are, in rank_more: the wall shows them in turn.
            "rank": self._rankings(self.rank_periods[0], now, scope),
            "rank_more": [self._rankings(kind, now, scope) for kind in self.rank_periods[1:]],
            "ticker": self._ticker(scope.only(inputs.recent_alerts), cases, now),
            "hourly": self._hourly(day, now, today.get("reported"), scope),
            "categories": self._categories(cases),
            "vehicles": self._vehicles(inputs.vehicles, now, scope),
            "collectors": self._collector_board(now, scope),
        }

    def kpi(self, now: float, scope: Scope, cases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The title bar's counters for a district scope, in the shape of the city's (the
        publish step's, feeds/steps/publish.py): the same light rule on the scope's open cases,
        the devices heard from within the offline window that are inside it now, its active
        alerts. The feeds' health is the city's: it is about the intake, not a place."""
        lights = count_lights(cases, now)["all"].get("all") or {}
        devices = {kind: sum(1 for d in self.store.device_docs(self.store.seen_since(kind, now - self.offline_after_s))
                             if scope.sees(d))
                   for kind in ("collector", "vehicle")}
        city = self.hot.kpi()
        return {"ts": now, "cases": {"open": len(cases), "overdue": lights.get(Light.RED, 0),
                                     "warn": lights.get(Light.YELLOW, 0)},
                "devices": devices, "alerts_active": len(scope.only(self.hot.active_alerts())),
                "feeds": city.get("feeds", {}), "scope": scope.codes}

    # --- today's tiles -------------------------------------------------------------------------
    def _today(self, now: float, scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        rows = self.live.read("day", CITY if scope.whole else "district", now)
        if rows is None:
            return {"ready": False}  # the live counters are not there yet: "—", never a wrong 0
        if scope.whole:
            c = rows.get(CITY, Counters())
        else:
            c = sum((v for code, v in rows.items() if scope.sees_area(code)), Counters())
        return {
            "ready": True,
            "reported": c.reported,
            "filed": c.filed,
            "dispatched": c.dispatched,
            "closed": c.closed,
            "close_rate": percent(rate_fraction(c, "close_rate")),
            "on_time_close_rate": percent(rate_fraction(c, "on_time_close_rate")),
        }

    # --- overdue counters ----------------------------------------------------------------------
    def _day_base(self, day: str, midnight: float, base: dict[str, Any] | None, cases: list[dict[str, Any]],
                  now: float, scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        """The red and yellow counts at local midnight: built from the case history once a day,
        and again when an event from before midnight was stored since (a backlog, a backfill,
        a late handheld). Shared by the workers through Redis. ``cases``: the whole city's
        open cases; the scope's are picked from the history's docs."""
        if base is not None:
            if now < self._base_checked.get(scope.key, 0.0) + BASE_CHECK_S:
                return base
            self._base_checked[scope.key] = now
            late, newest = case_history.late_events_since(self.engine, int(base.get("mark", 0)), midnight)
            if not late:
                if newest != base.get("mark"):
                    base["mark"] = newest  # still right up to there: the next look starts from it
                    self.store.put_base(day, base, scope.key)
                return base
        docs, mark = daystart.docs_at(self.engine, midnight, cases, self.rules, self.policy)
        lights = count_lights(scope.only(docs), midnight)
        base = {"at": midnight, "mark": mark, **{dim: {code: [row["red"], row["yellow"]] for code, row in lights[dim].items()}
                                                  for dim in ("all", "district", "department")}}
        self.store.put_base(day, base, scope.key)
        self._base_checked[scope.key] = now
        return base

    def _overdue(self, lights: dict[str, dict[str, dict[str, int]]], base: dict[str, Any],
                 open_cases: int, scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        def row(dim: str, code: str, names: tuple[str, str]) -> dict[str, Any]:
            counts = lights[dim].get(code) or dict.fromkeys(LIGHTS, 0)
            red0, yellow0 = base.get(dim, {}).get(code, [0, 0])
            return {"code": code, "zh": names[0], "en": names[1], "red": counts["red"], "yellow": counts["yellow"],
                    "grey": counts["grey"], "d_red": counts["red"] - red0, "d_yellow": counts["yellow"] - yellow0}

        def order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return sorted(rows, key=lambda r: (-r["red"], -r["yellow"], r["code"]))

        if self.city is not None:  # the city's own, each listed; other codes only in ``unknown``
            district_codes = {a.code for a in self.city.districts}
            department_codes = {d.code for d in self.city.departments}
        else:  # no list to check against: every code the cases carry
            district_codes = set(lights["district"]) | set(base.get("district", {}))
            department_codes = set(lights["department"]) | set(base.get("department", {}))
        district_codes = {c for c in district_codes if scope.sees_area(c)}
        if not scope.whole:  # the departments that have the scope's cases, not every squad of the city
            department_codes &= set(lights["department"]) | set(base.get("department", {}))
        total = row("all", "all", ("", ""))

        def unknown(dim: str, listed: set[str]) -> dict[str, int]:
            """The lights of cases whose code is missing or not the city's (no row of their own)."""
            counts = [c for code, c in lights[dim].items() if code not in listed]
            return {k: sum(c.get(k, 0) for c in counts) for k in LIGHTS}  # type: ignore[call-overload]

        return {
            "base_at": base["at"],
            "open": open_cases,
            **{k: total[k] for k in ("red", "yellow", "grey", "d_red", "d_yellow")},
            "district": order([row("district", c, self.names.area(c)) for c in district_codes]),
            "department": order([row("department", c, self.names.department(c)) for c in department_codes]),
            "unknown": {"district": unknown("district", district_codes),
                        "department": unknown("department", department_codes)},
        }

    # --- rankings ------------------------------------------------------------------------------
    def _rankings(self, period_kind: str, now: float, scope: Scope) -> dict[str, Any]:
        kind = self.rankings.region_kind
        return self.rankings.pair(period_kind, self.live.read(period_kind, "department", now),
                                  self.live.read(period_kind, kind, now), scope)

    # --- the alert ticker ----------------------------------------------------------------------
    def _ticker(self, recent: Sequence[Mapping[str, Any]], cases: Sequence[Mapping[str, Any]], now: float) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for a in recent:  # newest update first: the first copy of an alert is its current state
            aid = str(a.get("alert_id"))
            if aid in seen:
                continue
            seen.add(aid)
            if now - float(a.get("start") or 0.0) > TICKER_ALERT_WINDOW_S:
                continue
            zh, en = self.names.alert_type(str(a.get("type", "")))
            place = self.names.place(a.get("grid_code"), a.get("camera_id"))
            items.append({"kind": "alert", "id": aid, "at": a.get("start"), "zh": zh, "en": en,
                          "sev": a.get("severity", "detection"), "active": a.get("state") != "end",
                          "place_zh": place[0], "place_en": place[1]})
        for c in cases:
            if not c.get("urgent"):
                continue
            zh, en = self.names.problem_class(c.get("category"), c.get("small_code"))
            place = self.names.area(c.get("street")) if c.get("street") else self.names.place(c.get("grid_code"))
            items.append({"kind": "case", "id": str(c["case_id"]), "at": c.get("reported_at"), "zh": zh, "en": en,
                          "sev": "urgent", "active": True, "light": case_light(c, now),
                          "sup": int(c.get("supervised") or 0),
                          "place_zh": place[0], "place_en": place[1]})
        items.sort(key=lambda i: (-(i["at"] or 0), i["kind"], i["id"]))
        return items[:TICKER_MAX]

    # --- the rotating views --------------------------------------------------------------------
    def _hourly(self, day: str, now: float, reported_today: int | None = None,
                scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        """Reports and closures by local hour, from SQL at most once a minute; sooner (after
        HOURLY_CATCH_UP_S) while the bars do not add up to the 上报 tile, so a wall started
        during a backlog does not show an empty chart for a minute."""
        cached = self.store.hourly(scope.key)
        if cached is not None and cached.get("day") == day and 0 <= now - cached["at"] < HOURLY_S:
            behind = reported_today is not None and sum(cached["reported"]) != reported_today
            if not behind or now - cached["at"] < HOURLY_CATCH_UP_S:
                return cached
        start, end = period_range("day", now, self.timezone)
        cutoff = min(end, now)
        reported, closed = [0] * 24, [0] * 24
        for rep, clo in case_history.report_and_close_times(self.engine, start, cutoff, scope.districts):
            if rep is not None and start <= rep < cutoff:
                reported[local_hour(rep, self.zone)] += 1
            if clo is not None and start <= clo < cutoff:
                closed[local_hour(clo, self.zone)] += 1
        doc = {"day": day, "at": now, "hour": local_hour(now, self.zone), "reported": reported, "closed": closed}
        self.store.put_hourly(doc, int(2 * HOURLY_S), scope.key)
        return doc

    def _categories(self, cases: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        by_category: Counter[str] = Counter()
        by_class: Counter[tuple[str, str]] = Counter()
        for c in cases:
            category = c.get("category") or UNKNOWN
            by_category[category] += 1
            if c.get("small_code"):
                by_class[(category, c["small_code"])] += 1
        top = sorted(by_class.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CLASSES]
        return {
            "component": by_category.get("component", 0),
            "event": by_category.get("event", 0),
            "other": sum(n for k, n in by_category.items() if k not in ("component", "event")),
            "top": [{"category": cat, "code": code, "n": n, **dict(zip(("zh", "en"), self.names.problem_class(cat, code), strict=True))}
                    for (cat, code), n in top],
        }

    def _vehicles(self, seen: Sequence[tuple[bytes, float]], now: float, scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        ids = [i for i, _ in seen]
        docs = self.store.device_docs(ids)
        rows: dict[str, dict[str, int]] = {s: {"total": 0, "online": 0, "moving": 0, "parked": 0} for s in VEHICLE_SUBTYPES}
        for (_id, last), doc in zip(seen, docs, strict=True):
            if not scope.sees(doc):
                continue
            subtype = str(doc.get("subtype") or "other")
            row = rows.setdefault(subtype, {"total": 0, "online": 0, "moving": 0, "parked": 0})
            row["total"] += 1
            if now - float(last) > self.offline_after_s or doc.get("online") is False:
                continue
            row["online"] += 1
            row["moving" if float(doc.get("speed") or 0.0) > MOVING_KMH else "parked"] += 1
        order = [*VEHICLE_SUBTYPES, *sorted(s for s in rows if s not in VEHICLE_SUBTYPES)]
        total = {k: sum(rows[s][k] for s in order) for k in ("total", "online", "moving", "parked")}
        return {"rows": [{"subtype": s, **rows[s]} for s in order], "total": total}


    def _collector_board(self, now: float, scope: Scope = CITY_SCOPE) -> dict[str, Any]:
        until, board = self._collectors.get(scope.key, (0.0, {}))
        if now < until:
            return board
        midnight, next_midnight = period_range("day", now, self.timezone)
        day = datetime.fromtimestamp(now, self.zone).date()
        seen = self.store.seen_since("collector", midnight)
        ids = [i.decode() if isinstance(i, bytes) else str(i) for i in seen]
        docs = self.store.device_docs(ids)
        collectors = [(cid, doc, float(doc.get("ts") or 0.0)) for cid, doc in zip(ids, docs, strict=True)
                      if doc and scope.sees(doc)]
        team_alarms: Counter[str] = Counter()
        for (_day, _rule, device_type, department), n in alarm_counts(self.engine, day, day, self.timezone).items():
            if device_type == "collector":
                team_alarms[department] += n
        board = collector_board.team_board(collectors, day, self.duty.duty_day(day.isoformat()), team_alarms,
                                           (midnight, next_midnight), now, self.sup, self.names, self.timezone,
                                           self.offline_after_s)
        self._collectors[scope.key] = (now + COLLECTORS_S, board)
        return board


COLLECTORS_S = 30.0  # the collector board is made again this often (its figures move by the minute)

BoardMaker = WallBoard  # the name the ingest worker and the tests know it by
