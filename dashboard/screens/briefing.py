"""The briefing's screen model (docs/briefing.md): what each scene of the tour shows, as one
JSON document for every briefing screen, read again from SQL every ``refresh_s``.

- city: the area the system covers, its districts, streets and unit grids (the city's files),
  the collectors and vehicles it knows (the hot state), and this year's cases (SQL, the city's
  counters of the year, ``evaluate(..., "city", ...)``);
- today: nothing here: the page takes today's numbers live from the wall's board, through the
  same poll as the map behind (dashboard/poll.py);
- trend: ``store.trend.trend`` (the 12 weeks or months up to now), with the targets of the
  configuration;
- evaluation: this month's and this quarter's department ranking (``evaluate`` with the city's
  departments, ``rank``'s grades), the top and bottom ``highlight`` marked by
  ``ranking.bottom_positions``;
- case: one closed case from report to close (``store.case_page.case_page``: its steps against
  their limits), the desk's choice or the rule's (the fastest urgent case of the period);
- supervision: the supervision's alarms of the period per rule (``store.alarm_counts``); the
  muck trucks watched come live with the board;
- video: the cameras' alerts of the period per type and severity (``store.briefing``).

A briefing is shown to outsiders, so by default it carries nothing personal at all: no title
or description (free text names people and doors), no actor, no reporter, no device id, the
address cut to the street by the masking layer (dashboard/access/masking.py), no photo unless
the city says its photos are fit to show (``photos``). Only ``[briefing] masked = false`` (an
internal room) adds the case's title and full address.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Engine

from dashboard import casedata
from dashboard.access.masking import Masking
from dashboard.briefing_config import Briefing, Scene
from dashboard.casework.periods import period_bounds, period_range
from dashboard.casework.rates import percent
from dashboard.casework.supervision import RULE_TYPES, RULES
from dashboard.casework.timelimits import Stage
from dashboard.config import Settings
from dashboard.screens.names import Names
from dashboard.screens.rankings import Rankings
from dashboard.store import briefing as store
from dashboard.store.alarm_counts import alarm_counts
from dashboard.store.board import board_store
from dashboard.store.case_page import case_page
from dashboard.store.evaluation import city_objects, evaluate
from dashboard.store.hot import REDIS_DOWN, HotStore
from dashboard.store.trend import trend

log = logging.getLogger("gridwall.briefing")

TREND_PERIODS = 12
VIDEO_TOP = 8  # alert types listed; the rest are summed as "others"
STAGES = tuple(s.value for s in Stage)


def _pct(value: float | None) -> float | None:
    """A rate (a fraction, casework.rates) as a percentage for the chart."""
    return None if value is None else round(float(value) * 100.0, 2)


def _rate_text(value: float | None) -> str:
    return percent(value)  # '93.72 %' rounded as printed reports round, '—' for none


class BriefingModel:
    def __init__(self, engine: Engine, hot: HotStore, settings: Settings, config: Briefing, names: Names,
                 masking: Masking, photos: bool = False) -> None:
        self.engine = engine
        self.hot = hot
        self.config = config
        self.names = names
        self.masking = masking
        self.photos = photos
        self.timezone = settings.timezone
        self.zone = ZoneInfo(settings.timezone)
        self.preset = settings.section("casework").get("preset", "cjt292")
        self.rules, self.policy = casedata.city_rules(settings.section("casework"))
        self.departments = city_objects(settings.city_dir).get("department")
        # The ranking table the wall and desk show, and the city's rule of how many top and
        # bottom units are named ([casework] bottom_units).
        self.rankings = Rankings(settings, names)
        self._cached: tuple[float, bytes] | None = None

    # --- the document ------------------------------------------------------------------------
    def answer(self, now: float | None = None, encode: Callable[[Any], bytes] | None = None) -> bytes:
        """The document as JSON bytes, built at most once every ``refresh_s`` per process (every
        briefing screen of this process gets the same bytes)."""
        now = time.time() if now is None else now
        if self._cached is not None and now - self._cached[0] < self.config.refresh_s:
            return self._cached[1]
        body = (encode or orjson.dumps)(self.build(now))
        self._cached = (now, body)
        return body

    def build(self, now: float) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for scene in self.config.scenes:
            if scene.key in data:
                continue
            try:
                data[scene.key] = self._scene(scene, now)
            except (*REDIS_DOWN, OSError) as exc:  # one scene's source down: the others still show
                log.warning("the briefing's %s scene: %s", scene.key, exc)
                data[scene.key] = None
        return {
            "now": now,
            "day": datetime.fromtimestamp(now, self.zone).date().isoformat(),
            "masked": self.masking.active,
            "highlight": self.rankings.bottom,
            "scenes": [{"key": s.key, "kind": s.kind, "seconds": s.seconds, "period": s.period,
                        "district": s.district} for s in self.config.scenes],
            "data": data,
        }

    def _scene(self, scene: Scene, now: float) -> dict[str, Any] | None:
        kind = scene.kind
        if kind == "city":
            return self.city(now)
        if kind == "today":
            return {}  # live, from the board (the page's poll)
        if kind == "trend":
            return self.trend(str(scene.period), now)
        if kind == "evaluation":
            return self.evaluation(now)
        if kind == "case":
            return self.case_story(str(scene.period), scene.district, now)
        if kind == "supervision":
            return self.supervision(str(scene.period), now)
        return self.video(str(scene.period), now)

    def _days(self, period: str, now: float) -> tuple[date, date, float, float]:
        """The period holding ``now``: its first and last local days, and its instants."""
        first, after = period_bounds(period, datetime.fromtimestamp(now, self.zone).date())
        start, end = period_range(period, first, self.timezone)
        return first, after - timedelta(days=1), start, end

    # --- the scenes --------------------------------------------------------------------------
    def city(self, now: float) -> dict[str, Any]:
        city = self.names.city
        start, end = period_range("year", now, self.timezone)
        year = evaluate(self.engine, "city", (start, end), now, self.preset)
        counters = year.rows[0].counters if year.rows else None
        store_ = board_store(self.hot)
        try:
            collectors = len(store_.seen_since("collector", 0.0))
            vehicles = len(store_.seen_since("vehicle", 0.0))
        except REDIS_DOWN:
            collectors = vehicles = None
        return {
            "name_zh": city.name_zh if city else "", "name_en": city.name_en if city else "",
            "area_km2": round(sum(d.area_m2 for d in city.districts) / 1e6, 1) if city else None,
            "districts": len(city.districts) if city else None,
            "streets": len(city.streets) if city else None,
            "grids": len(city.grid_info) if city else None,
            "collectors": collectors, "vehicles": vehicles,
            "year": datetime.fromtimestamp(now, self.zone).year,
            "year_reported": counters.reported if counters else 0,
            "year_closed": counters.closed if counters else 0,
            "year_close_rate": _rate_text(year.rows[0].rates.get("close_rate")) if year.rows else "—",
        }

    def trend(self, unit: str, now: float) -> dict[str, Any]:
        points = trend(self.engine, unit, TREND_PERIODS, now, self.timezone, self.preset)
        return {
            "unit": unit,
            "points": [{"label": p.label, "reported": p.reported, "closed": p.closed,
                        "close_rate": _pct(p.close_rate), "on_time_close_rate": _pct(p.on_time_close_rate),
                        "partial": p.partial} for p in points],
            "targets": dict(self.config.targets),
        }

    def evaluation(self, now: float) -> dict[str, Any]:
        tables = []
        for period in ("month", "quarter"):
            first, last, start, end = self._days(period, now)
            result = evaluate(self.engine, "department", (start, end), now, self.preset, known=self.departments)
            table = self.rankings.table("department", {r.code: r.counters for r in result.rows})
            tables.append({"period": period, "first": first.isoformat(), "last": last.isoformat(),
                           "rows": [{**{k: row[k] for k in ("code", "pos", "zh", "en", "score", "grade", "rate")},
                                     "mark": "bottom" if row["bottom"] else "top" if row["top"] else ""}
                                    for row in table["rows"]]})
        return {"highlight": self.rankings.bottom, "tables": tables}

    def case_story(self, period: str, district: str | None, now: float) -> dict[str, Any]:
        _first, _last, start, end = self._days(period, now)
        by = "rule"
        case_id = None
        try:
            chosen = store.chosen_case(self.hot)
        except REDIS_DOWN:
            chosen = None
        if chosen is not None:
            case_id, by = chosen["case_id"], "desk"
        page = case_page(self.engine, case_id, self.rules, self.policy, now) if case_id else None
        if page is None or page.case.get("closed_at") is None:
            by = "rule"
            case_id = None
            if self.config.case_rule == "fastest_urgent":
                case_id = store.fastest_closed(self.engine, start, end, True, district)
            case_id = case_id or store.fastest_closed(self.engine, start, end, False, district)
            page = case_page(self.engine, case_id, self.rules, self.policy, now) if case_id else None
        if page is None:
            return {"found": False, "by": by, "period": period}
        c = page.case
        masked = self.masking.case({"address": c.get("address"), "title": c.get("title")}) \
            if self.masking.active else {"address": c.get("address"), "title": c.get("title")}
        problem = self.names.problem_class(c.get("category"), c.get("small_code"))
        street = self.names.area(c.get("street")) if c.get("street") else self.names.place(c.get("grid_code"))
        district_name = self.names.area(c.get("district"))
        department = self.names.department(c.get("department"))
        reported, closed = c.get("reported_at"), c.get("closed_at")
        steps = [{"stage": s.stage, "ended_at": s.ended_at, "spent_s": round(s.spent_s), "basis": s.basis,
                  "limit_s": None if s.limit_s is None else round(s.limit_s), "on_time": s.on_time}
                 for s in page.steps if s.ended_at is not None and s.stage in STAGES]
        media = [{"url": m.url, "phase": m.phase} for m in page.media] if self.photos else []
        story: dict[str, Any] = {
            "found": True, "by": by, "period": period,
            "problem_zh": problem[0], "problem_en": problem[1],
            "street_zh": street[0], "street_en": street[1],
            "district_zh": district_name[0], "district_en": district_name[1],
            "department_zh": department[0], "department_en": department[1],
            "urgent": bool(c.get("urgent")), "source": c.get("source"),
            "reported_at": reported, "closed_at": closed,
            "took_s": None if reported is None or closed is None else round(closed - reported),
            "address": masked.get("address") or "",
            "steps": steps, "media": media, "photos": self.photos,
        }
        if not self.masking.active:
            story["title"] = masked.get("title") or ""
        return story

    def supervision(self, period: str, now: float) -> dict[str, Any]:
        first, last, _start, _end = self._days(period, now)
        counts = alarm_counts(self.engine, first, last, self.timezone)
        per_rule: Counter[str] = Counter()
        per_type: Counter[str] = Counter()
        per_day: Counter[str] = Counter()
        for (day, rule, device_type, _dep), n in counts.items():
            per_rule[rule] += n
            per_type[device_type or "other"] += n
            per_day[day.isoformat()] += n
        rows = [{"rule": r, "zh": RULE_TYPES[r], "en": self.names.alert_type(RULE_TYPES[r])[1], "n": per_rule[r]}
                for r in RULES if per_rule[r]]
        rows.sort(key=lambda r: -r["n"])
        days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
        return {"period": period, "first": first.isoformat(), "last": last.isoformat(),
                "total": sum(per_rule.values()), "rules": rows,
                "muck_truck": per_type.get("muck_truck", 0), "collector": per_type.get("collector", 0),
                "days": [{"day": d, "n": per_day.get(d, 0)} for d in days]}

    def video(self, period: str, now: float) -> dict[str, Any]:
        first, last, start, end = self._days(period, now)
        by_type, by_severity = store.video_counts(self.engine, start, end)
        top = by_type.most_common(VIDEO_TOP)
        rows = []
        for kind, n in top:
            zh, en = self.names.alert_type(kind)
            rows.append({"type": kind, "zh": zh, "en": en, "n": n})
        others = sum(by_type.values()) - sum(n for _k, n in top)
        return {"period": period, "first": first.isoformat(), "last": last.isoformat(),
                "total": sum(by_type.values()), "types": rows, "others": others,
                "severity": {s: by_severity.get(s, 0) for s in ("critical", "alert", "detection")}}

