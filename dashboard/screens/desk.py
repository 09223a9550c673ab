"""The dispatch desk's screen model: from a number on the wall to the cases behind it.

The wall's live numbers (the overdue counters per district and department, the title bar's open,
overdue and due-soon counts) are counted from the open cases' hot docs by the one light rule
(dashboard.casework.overdue, through ``doc_light``). The desk's drill-down lists the same docs
through the same rule and the same grouping values, so a list is exactly the set its number
counted: tests/integration/test_desk.py holds the two together against SQL's case states.

A query is data (``CaseQuery``, parsed from the request's arguments and refused with a reason
when it is not one the desk can answer); the list is sorted (most overdue first by default) and
paged, with the light counts of the whole filtered set for the filter bar. Personal data is
masked by the caller's masking (dashboard/access/masking.py) and the list is cut to the
caller's districts (dashboard/access/scope.py), both here on the server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.access.masking import Masking
from dashboard.access.scope import CITY_SCOPE, Scope
from dashboard.casework.nearest import Nearest
from dashboard.casework.overdue import UNKNOWN, Light
from dashboard.exports import Column
from dashboard.i18n import TEXT, t
from dashboard.screens.names import Names
from dashboard.store.case_page import CasePage
from dashboard.store.hotdoc import doc_light

# The values a list can be narrowed by: each is a field of the hot doc (dashboard/store/hotdoc.py).
# ``unknown`` asks for the docs without one, as the counters group them (casework.overdue UNKNOWN).
MATCH_FIELDS: tuple[str, ...] = ("district", "street", "grid_code", "department", "category", "small_code",
                                 "source", "state")
LIGHTS: tuple[str, ...] = tuple(light.value for light in Light)
SORTS: tuple[str, ...] = ("overdue", "reported", "reported_asc", "due")
PAGE_MAX = 100  # rows per page at the most: a phone shows 20, a desk monitor 50
PAGE_DEFAULT = 50
TEXT_MAX = 64  # the free-text box: a case number or a few words of an address
VALUE_MAX = 64
OFFSET_MAX = 100_000  # deeper than any list the desk shows; bounds the work of a crafted request


class QueryError(ValueError):
    """A query the desk refuses; ``reason`` is the word the page shows (dashboard/i18n.py)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class CaseQuery:
    light: str | None = None
    district: str | None = None
    street: str | None = None
    grid_code: str | None = None
    department: str | None = None
    category: str | None = None
    small_code: str | None = None
    source: str | None = None
    state: str | None = None
    urgent: bool | None = None
    text: str | None = None
    sort: str = "overdue"
    offset: int = 0
    limit: int = PAGE_DEFAULT

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseQuery:
        """The query a request names (``?light=red&district=339902&offset=50``). Anything the
        desk cannot answer is refused with a reason, never guessed: an unknown light or sort,
        a value too long, a page out of bounds, an argument it does not know."""
        known = {f.name for f in fields(cls)}
        # (the page's own: its language, the case open, the map shown, the map's pins asked for)
        unknown = sorted(set(args) - known - {"lang", "case", "map", "pins"})
        if unknown:
            raise QueryError("bad_filter", f"unknown argument {unknown[0][:32]!r}")
        values: dict[str, Any] = {}
        for name in MATCH_FIELDS:
            value = (args.get(name) or "").strip()
            if value:
                if len(value) > VALUE_MAX or not value.isprintable():
                    raise QueryError("bad_filter", f"{name} is not a code")
                values[name] = value
        light = (args.get("light") or "").strip()
        if light:
            if light not in LIGHTS:
                raise QueryError("bad_filter", f"light must be one of {', '.join(LIGHTS)}")
            values["light"] = light
        text = (args.get("text") or "").strip()
        if text:
            if len(text) > TEXT_MAX or not text.isprintable():
                raise QueryError("bad_filter", f"text: at most {TEXT_MAX} printable characters")
            values["text"] = text
        urgent = (args.get("urgent") or "").strip()
        if urgent:
            if urgent not in ("0", "1"):
                raise QueryError("bad_filter", "urgent must be 0 or 1")
            values["urgent"] = urgent == "1"
        sort = (args.get("sort") or "overdue").strip()
        if sort not in SORTS:
            raise QueryError("bad_filter", f"sort must be one of {', '.join(SORTS)}")
        values["sort"] = sort
        values["offset"] = _whole(args.get("offset"), "offset", 0, OFFSET_MAX, 0)
        values["limit"] = _whole(args.get("limit"), "limit", 1, PAGE_MAX, PAGE_DEFAULT)
        return cls(**values)

    def matches(self, doc: Mapping[str, Any], light: Light | None) -> bool:
        if self.light is not None and (light.value if light is not None else None) != self.light:
            return False
        for name in MATCH_FIELDS:
            wanted = getattr(self, name)
            if wanted is not None:
                value = doc.get(name)
                key = UNKNOWN if value is None or value == "" else str(value)
                if key != wanted:
                    return False
        if self.urgent is not None and bool(doc.get("urgent")) != self.urgent:
            return False
        if self.text is not None:
            needle = self.text.casefold()
            hay = " ".join(str(doc.get(k) or "") for k in ("case_id", "address", "title")).casefold()
            if needle not in hay:
                return False
        return True

    def args(self) -> dict[str, str]:
        """The query as the arguments that name it (the page's address, the breadcrumb's links)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            default = f.default
            if value is not None and value != default:
                out[f.name] = ("1" if value else "0") if isinstance(value, bool) else str(value)
        return out


def _whole(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 7 or not low <= int(raw) <= high:
        raise QueryError("bad_filter", f"{name} must be a whole number from {low} to {high}")
    return int(raw)


# Most overdue first: red by how long past due (the oldest due first), then yellow by the
# nearest due, then green, then the suspended (挂账: no clock runs), then cases without a clock.
_LIGHT_ORDER = {Light.RED: 0, Light.YELLOW: 1, Light.GREEN: 2, Light.GREY: 3, None: 4}


def _sort_key(sort: str, doc: Mapping[str, Any], light: Light | None) -> tuple[Any, ...]:
    due = doc.get("due")
    due_key = float(due) if isinstance(due, int | float) else float("inf")
    reported = float(doc.get("reported_at") or 0.0)
    if sort == "overdue":
        return _LIGHT_ORDER[light], due_key, str(doc.get("case_id"))
    if sort == "due":
        return due_key, str(doc.get("case_id"))
    if sort == "reported_asc":
        return reported, str(doc.get("case_id"))
    return -reported, str(doc.get("case_id"))


PINS_MAX = 5_000  # the map of a list: a city's open cases many times over


def case_list(docs: Iterable[Mapping[str, Any]], query: CaseQuery, now: float, names: Names,
              masking: Masking, scope: Scope = CITY_SCOPE, pins: bool = False) -> dict[str, Any]:
    """One page of the open cases the query names, as the desk's list shows them:
    ``{"total", "offset", "limit", "lights": {light: n}, "rows": [...]}``. ``total`` and
    ``lights`` are of the whole filtered set (before paging)."""
    picked: list[tuple[Mapping[str, Any], Light | None]] = []
    lights: Counter[str] = Counter()
    for doc in docs:
        if not scope.sees(doc):
            continue
        light = doc_light(doc, now)
        if not query.matches(doc, light):
            continue
        picked.append((doc, light))
        lights[light.value if light is not None else "none"] += 1
    picked.sort(key=lambda dl: _sort_key(query.sort, dl[0], dl[1]))
    page = picked[query.offset:query.offset + query.limit]
    out = {"total": len(picked), "offset": query.offset, "limit": query.limit, "lights": dict(lights),
           "rows": [_row(doc, light, now, names, masking) for doc, light in page]}
    if pins:  # the whole filtered set on the map (the desk's 地图), each pin opening its case
        out["pins"] = [[doc.get("case_id"), round(float(doc["lat"]), 6), round(float(doc["lon"]), 6),
                        light.value if light is not None else None]
                       for doc, light in picked[:PINS_MAX]
                       if isinstance(doc.get("lat"), int | float) and isinstance(doc.get("lon"), int | float)]
    return out


def _row(doc: Mapping[str, Any], light: Light | None, now: float, names: Names, masking: Masking) -> dict[str, Any]:
    shown = masking.case(dict(doc)) if masking.active else doc
    due = doc.get("due")
    district, street = names.area(doc.get("district")), names.area(doc.get("street"))
    department = names.department(doc.get("department"))
    problem = names.problem_class(doc.get("category"), doc.get("small_code"))
    return {
        "case_id": doc.get("case_id"), "light": light.value if light is not None else None,
        "state": doc.get("state"), "urgent": bool(doc.get("urgent")), "source": doc.get("source"),
        "supervised": int(doc.get("supervised") or 0),
        "district": doc.get("district"), "district_zh": district[0], "district_en": district[1],
        "street": doc.get("street"), "street_zh": street[0], "street_en": street[1],
        "department": doc.get("department"), "department_zh": department[0], "department_en": department[1],
        "category": doc.get("category"), "small_code": doc.get("small_code"),
        "problem_zh": problem[0], "problem_en": problem[1],
        "title": shown.get("title"), "address": shown.get("address"),
        "reported_at": doc.get("reported_at"), "due": due,
        # How long past due, in seconds of the wall clock (the light itself is on the case's own clock).
        "overdue_s": round(now - float(due)) if light is Light.RED and isinstance(due, int | float) else None,
        "lat": doc.get("lat"), "lon": doc.get("lon"),
    }


# --- the case page -------------------------------------------------------------------------------

def case_view(page: CasePage, nearby: Sequence[Nearest], now: float, names: Names, masking: Masking,
              vehicles: Sequence[tuple[str, float, Mapping[str, Any]]] = ()) -> dict[str, Any]:
    """What the desk's case panel shows: the case page (dashboard/store/case_page.py) with names
    for its codes, and the nearest on-duty collectors (dashboard/store/nearby.py), masked by the
    caller's role: the case's texts and names through the one table (masking.py ``PERSONAL``),
    each actor's name, each collector's name and id; media left out (a photo may show faces)."""
    case = masking.case(dict(page.case)) if masking.active else dict(page.case)
    district, street = names.area(case.get("district")), names.area(case.get("street"))
    department = names.department(case.get("department"))
    problem = names.problem_class(case.get("category"), case.get("small_code"))
    case.update({"district_zh": district[0], "district_en": district[1], "street_zh": street[0],
                 "street_en": street[1], "department_zh": department[0], "department_en": department[1],
                 "problem_zh": problem[0], "problem_en": problem[1]})

    def actor(name: str | None) -> str | None:
        return masking.case({"actor": name}).get("actor") if masking.active and name else name

    steps = [replace(s, actor=actor(s.actor)) for s in page.steps]
    entries = [replace(e, actor=actor(e.actor), step=replace(e.step, actor=actor(e.step.actor)) if e.step else None)
               for e in page.entries]
    collectors = collectors_view(nearby, names, masking)
    return {
        "now": now, "case_id": page.case_id, "case": case, "status": page.status, "steps": steps,
        "entries": entries, "media": [] if masking.active else list(page.media),
        "history": [{**dict(zip(("zh", "en"), names.problem_class(h.category, h.small_code), strict=True)),
                     **_history_fields(h)} for h in page.history],
        "events_cut": page.events_cut, "complete": page.complete, "nearby": collectors,
        "grid": names.grid_ring(case.get("grid_code")),  # the case's unit grid, for its map
        "vehicles": [_vehicle(device_id, metres, doc, names, masking) for device_id, metres, doc in vehicles],
    }


def _vehicle(device_id: str, metres: float, doc: Mapping[str, Any], names: Names, masking: Masking) -> dict[str, Any]:
    shown = masking.device(dict(doc)) if masking.active else doc
    dept = names.department(doc.get("department"))
    return {"id": masking.device_id(device_id), "name": shown.get("name"), "subtype": doc.get("subtype"),
            "department_zh": dept[0], "department_en": dept[1], "distance_m": round(metres),
            "speed": doc.get("speed"), "last_fix": doc.get("ts"),
            **({} if masking.active else {"lat": doc.get("lat"), "lon": doc.get("lon")})}


def collectors_view(nearby: Sequence[Nearest], names: Names, masking: Masking) -> list[dict[str, Any]]:
    """The nearest on-duty collectors as the desk lists them (a case's, an alert's), masked."""
    collectors = []
    for n in nearby:
        doc = masking.device(dict(n.doc)) if masking.active else n.doc
        dept = names.department(doc.get("department"))
        collectors.append({"id": masking.device_id(n.device_id), "name": doc.get("name"),
                           "department_zh": dept[0], "department_en": dept[1],
                           "distance_m": round(n.distance_m), "walk_s": round(n.walk_s), "last_fix": n.last_fix,
                           # Where a person is, for the case's map: not for a masked role.
                           **({} if masking.active else {"lat": n.doc.get("lat"), "lon": n.doc.get("lon")})})
    return collectors


def _history_fields(row: Any) -> dict[str, Any]:
    out = {f.name: getattr(row, f.name) for f in fields(row)}
    out.pop("title", None)  # free text of another case: the list names its problem instead
    return out


# --- the list's export ---------------------------------------------------------------------------

EXPORT_MAX = 10_000  # rows in one export: a district's open cases several times over


def export_table(rows: Sequence[Mapping[str, Any]], lang: str, timezone: str) -> tuple[list[Column], list[list[Any]]]:
    """The list's rows (``case_list``'s, already masked) as an export's columns and cells, in
    ``lang``, times in the city's zone."""
    zone = ZoneInfo(timezone)

    def when(t: Any) -> str | None:
        return datetime.fromtimestamp(float(t), zone).strftime("%Y-%m-%d %H:%M") if isinstance(t, int | float) else None

    def word(key: str, fallback: Any) -> Any:
        return t(key, lang) if key in TEXT else fallback

    en = lang == "en"
    columns = [Column(t(k, lang), w) for k, w in (
        ("col_case", 16), ("col_light", 8), ("col_state", 10), ("col_urgent", 6), ("col_source", 10),
        ("col_district", 10), ("col_street", 12), ("col_department", 14), ("col_problem", 14), ("col_title", 36),
        ("col_address", 28), ("col_reported", 17), ("col_due", 17), ("col_overdue_h", 10))]
    cells = [[
        r["case_id"], word(f"light_{r['light'] or 'none'}", r["light"]), word(f"state_{r['state']}", r["state"]),
        t("yes", lang) if r["urgent"] else None, word(f"source_{r['source']}", r["source"]),
        r["district_en" if en else "district_zh"], r["street_en" if en else "street_zh"],
        r["department_en" if en else "department_zh"], r["problem_en" if en else "problem_zh"],
        r["title"], r["address"], when(r["reported_at"]), when(r["due"]),
        round(r["overdue_s"] / 3600, 1) if r["overdue_s"] is not None else None,
    ] for r in rows]
    return columns, cells


# --- the cases behind a counter (today's numbers, the rankings' rows) ---------------------------

# A number the desk links, as the counters (``counters_sql.case_conditions``) whose cases it
# counts: 结案数 is 按期结案 + 超期结案, 应处置数 is 按期 + 超期处置 + 超期未处置.
COUNTED: dict[str, tuple[str, ...]] = {
    "reported": ("reported",),
    "filed": ("filed",),
    "closed": ("closed_on_time", "closed_late"),
    "due_disposal": ("disposed_on_time", "disposed_late", "overdue_pending"),
    "disposed_on_time": ("disposed_on_time",),
    "disposed_late": ("disposed_late",),
    "overdue_pending": ("overdue_pending",),
    "due_close": ("closed_on_time", "closed_late", "overdue_unclosed"),
    "reworked": ("reworked",),
}
COUNTED_BY = ("department", "district", "street")
COUNTED_PERIODS = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True, slots=True)
class CountedQuery:
    counter: str
    period: str
    by: str | None
    code: str | None
    offset: int = 0
    limit: int = PAGE_DEFAULT

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CountedQuery:
        counter, period = args.get("counter", ""), args.get("period", "day")
        if counter not in COUNTED:
            raise QueryError("bad_counter", f"counter: one of {', '.join(COUNTED)}")
        if period not in COUNTED_PERIODS:
            raise QueryError("bad_period", f"period: one of {', '.join(COUNTED_PERIODS)}")
        by, code = args.get("by") or None, args.get("code") or None
        if (by is None) != (code is None) or (by is not None and by not in COUNTED_BY):
            raise QueryError("bad_by", f"by ({', '.join(COUNTED_BY)}) and code, both or neither")
        if code is not None and len(code) > 64:
            raise QueryError("bad_by", "code: at most 64 characters")
        return cls(counter, period, by, code, _whole(args.get("offset"), "offset", 0, OFFSET_MAX, 0),
                   _whole(args.get("limit"), "limit", 1, PAGE_MAX, PAGE_DEFAULT))

    def args(self) -> dict[str, str]:
        out = {"counter": self.counter, "period": self.period}
        if self.by is not None and self.code is not None:
            out.update(by=self.by, code=self.code)
        return out


def counted_list(total: int, rows: Sequence[Mapping[str, Any]], live: Mapping[str, Mapping[str, Any]],
                 query: CountedQuery, now: float, names: Names, masking: Masking) -> dict[str, Any]:
    """One page of the cases behind a counter, as the desk's list shows them: a case still open
    by its live doc (its light, on the one rule), a finished one by its SQL row (no light)."""
    out = []
    for r in rows:
        doc = live.get(r["case_id"])
        if doc is not None:
            out.append(_row(doc, doc_light(doc, now), now, names, masking))
        else:
            out.append({**_row({**r, "due": None}, None, now, names, masking), "closed_at": r.get("closed_at")})
    return {"total": total, "offset": query.offset, "limit": query.limit, "lights": {}, "rows": out}
