"""The contract between the Python side and the browser: values both sides must agree on,
written once here. (The browser receives them as data; docs/contract.md describes them.)

Three kinds of entries:

- values the browser uses as they are (the offline age, the vehicle subtypes, its words): the
  page carries them as JSON in the ``data-contract`` attribute of ``#gw-canvas``
  (``page_contract``), and assets/gridwall-core.js hands them to the other scripts;
- names both sides spell (element ids, data-* attributes, the poll's fields): listed here so
  that tests/unit/test_contract.py can hold the layouts (layouts/) and the scripts (assets/) to
  them, and so that renaming one side without the other fails a test, not a wall;
- the light boundary rule itself lives in dashboard/casework/overdue.py (``light_at``); the
  browser's copy (assets/gridwall-live.js) is held to it by tests/js/fixtures/lights.json.

Nothing here imports Dash: feeds/ reads the values too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from dashboard.i18n import t

# A device with no fix for this long is offline: the vehicle counts and the map's grey marker.
OFFLINE_AFTER_S: Final = 300.0  # [D] docs/domain.md §7: offline after 5 minutes
# The vehicle kinds the wall names and draws apart; any other subtype is "other".
VEHICLE_SUBTYPES: Final = ("enforcement", "muck_truck", "sanitation")

# --- element ids ---------------------------------------------------------------------------------
# Single elements the browser finds by id (each rendered by layouts/wall.py or layouts/panels.py).
ELEMENT_IDS: Final = (
    "gw-canvas",          # the fixed design canvas; carries the page's settings and this contract
    "gw-map-box",         # around the map; carries the map's settings
    "gw-map",             # the Leaflet map (dash-leaflet), found by L.Map.addInitHook
    "gw-date", "gw-clock", "gw-fresh", "gw-fresh-text",        # the title bar
    "gw-panels-conf",     # the alert sound's URL
    "gw-p-today", "gw-today-loading",
    "gw-p-overdue", "gw-ov-loading", "gw-ov-since", "gw-ov-d-red", "gw-ov-d-yellow", "gw-ov-grey",
    "gw-ov-district", "gw-ov-department",
    "gw-p-rank-dept", "gw-rank-dept", "gw-rank-dept-loading",
    "gw-p-rank-region", "gw-rank-region", "gw-rank-region-loading",
    "gw-ticker", "gw-ticker-box", "gw-sound-hint",
    "gw-cat-component", "gw-cat-event", "gw-chart-hourly", "gw-chart-cats",
    "gw-p-rot",           # the rotating side views
    "gw-coll", "gw-coll-total",  # the collectors per team (rows made by the browser)
)  # fmt: skip

# Families of ids: one element per key ("gw-kpi-overdue"); the browser builds them from the
# prefix and the key.
KPI_KEYS: Final = ("open_cases", "overdue", "warn", "collectors", "vehicles")
TODAY_KEYS: Final = ("reported", "filed", "dispatched", "closed", "close_rate", "on_time_close_rate")
VEHICLE_ROWS: Final = (*VEHICLE_SUBTYPES, "total")
VEHICLE_COLS: Final = ("registered", "online", "moving", "parked")
ID_FAMILIES: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "gw-kpi-": (KPI_KEYS,),
    "gw-today-": (TODAY_KEYS,),
    "gw-veh-": (VEHICLE_ROWS, VEHICLE_COLS),  # gw-veh-<row>-<col>
}

# Panels that show the loading state while the history streams in (board "history"), each with
# the id of its loading box.
LOADING_PANELS: Final = {
    "gw-p-today": "gw-today-loading",
    "gw-p-overdue": "gw-ov-loading",
    "gw-p-rank-dept": "gw-rank-dept-loading",
    "gw-p-rank-region": "gw-rank-region-loading",
}


def family_ids(prefix: str) -> Iterator[str]:
    """Every id of one family: "gw-veh-" gives gw-veh-enforcement-registered, ..."""
    parts = ID_FAMILIES[prefix]
    if len(parts) == 1:
        yield from (prefix + key for key in parts[0])
    else:
        yield from (f"{prefix}{a}-{b}" for a in parts[0] for b in parts[1])


def element_ids() -> list[str]:
    """Every id the browser looks up, families expanded."""
    return [*ELEMENT_IDS, *(i for prefix in ID_FAMILIES for i in family_ids(prefix))]


# --- data-* attributes -------------------------------------------------------------------------
# Read by the browser, on the element named (set by layouts/).
DATA_ATTRS_READ: Final[Mapping[str, tuple[str, ...]]] = {
    "gw-canvas": ("data-lang", "data-tz", "data-aspect", "data-poll-ms", "data-feed-quiet", "data-contract"),
    "gw-map-box": ("data-layers", "data-cluster-above", "data-trail-points", "data-grids-min-zoom", "data-shift"),
    "gw-panels-conf": ("data-sound",),
    "gw-p-rot": ("data-rotate-s", "data-view"),  # data-view: on each view and each dot inside
}
# Written by the browser (tests and a console read them): a ticker row's id and kind, a list
# row's code, a map alert's id, the view shown, a rate tile's last text.
DATA_ATTRS_WRITTEN: Final = ("data-id", "data-kind", "data-code", "data-alert-id", "data-active", "data-v",
                              "data-case", "data-desk")  # the desk: a list row's case, a link the desk follows itself

# --- the poll's fields ---------------------------------------------------------------------------
# GET /wall/poll (dashboard/poll.py) and the JSON inside it; the browser reads these fields.
POLL_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "poll": ("now", "kpi", "live", "board", "b", "build"),
    "kpi": ("cases", "devices", "feeds"),            # the KPI snapshot
    "kpi.cases": ("open", "overdue", "warn"),
    "kpi.devices": ("collector", "vehicle"),
    "kpi.feeds.<feed>": ("last_ts",),
    "live": ("v", "now", "full", "cases", "alerts", "trails", "deltas"),
    "delta": ("reset", "devices", "cases", "alerts", "devices_gone", "cases_gone", "alerts_gone"),
    "device": ("id", "kind", "subtype", "lat", "lon", "ts", "online"),
    "case": ("case_id", "open", "lat", "lon", "due", "warn_at", "suspended"),
    "alert": ("alert_id", "severity", "state", "lat", "lon"),
    "board": ("day", "today", "overdue", "rank", "rank_more", "ticker", "hourly", "categories", "vehicles", "collectors", "history"),
    "board.history": ("ready", "pct"),
}

# --- words ---------------------------------------------------------------------------------------
# Every word the browser writes itself (the layouts write theirs through dashboard.i18n.t).
JS_WORDS: Final = (
    "sev_critical", "sev_alert", "sev_detection", "sev_urgent", "ended", "no_alerts", "not_ready", "rank_city_only", "sup_badge",
    "since_day_start", "reported", "closed",                     # panels and ticker
    "seconds_ago", "minutes_ago", "hours_ago", "no_data",        # the data age
    "fresh_stale", "waiting_data",                               # ... with no answer; no picture yet
    "feed_gps", "feed_video", "feed_case",                       # ... naming a quiet feed
    "hour_tick", "history_loading", "history_loading_any", "date_locale",
    "coll_total",                                                # the collectors' total row
    # the rankings' titles, one per object and period (Settings.ranking_periods)
    *(f"rank_{o}_{k}" for o in ("department", "district", "street") for k in ("day", "week", "month", "quarter", "year")),
)  # fmt: skip


# --- the desk (layouts/desk.py, assets/gridwall-desk.js) --------------------------------------------
DESK_TILES: Final = ("open", "red", "yellow", "grey")  # the title bar's numbers, each a link
DESK_TODAY: Final = ("reported", "filed", "closed")
DESK_FILTERS: Final = ("light", "district", "department", "category", "source", "urgent", "text", "sort")
DESK_ELEMENT_IDS: Final = (
    "gw-desk",            # the page's root; carries the desk's contract and time zone
    "gw-d-crumbs", "gw-d-filters", "gw-d-error", "gw-d-rows", "gw-d-total", "gw-d-lights",
    "gw-d-pageno", "gw-d-prev", "gw-d-next",
    "gw-d-case", "gw-d-case-body", "gw-d-case-close",   # the case panel
    "gw-d-alerts-count", "gw-d-alerts-list", "gw-d-alerts-done",  # the video alerts
    "gw-d-rank-department-title", "gw-d-rank-region-title",       # the rankings' captions
    "gw-d-rank-period",                                           # ... and their period
    "gw-d-mapbtn", "gw-d-listmap",                                # the list's map and its switch
)
# Rendered only for a role that may export (see.reports); the script fills them when they are there.
DESK_OPTIONAL_FAMILIES: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "gw-d-export-": (("xlsx", "csv"),),
    "gw-d-report-": (("period", "at", "pdf", "xlsx"),),  # the evaluation report's download (see.reports)
}
DESK_ID_FAMILIES: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {
    "gw-d-kpi-": (DESK_TILES,),    # the number
    "gw-d-tile-": (DESK_TILES,),   # its link
    "gw-d-ov-": (("district", "department"),),
    "gw-d-f-": (DESK_FILTERS,),    # the filter's control
    "gw-d-today-": (DESK_TODAY,),  # today's numbers (the wall's), each a link to its cases
    "gw-d-todaylink-": (DESK_TODAY,),
    "gw-d-rank-": (("department", "region"),),  # the month's rankings, each row's numbers links
}


DESK_DATA_ATTRS_READ: Final[Mapping[str, tuple[str, ...]]] = {"gw-desk": ("data-contract", "data-tz")}


def desk_element_ids() -> list[str]:
    return [*DESK_ELEMENT_IDS, *(prefix + key for prefix, parts in DESK_ID_FAMILIES.items() for key in parts[0])]


# Every word the desk's JS writes itself (assets/gridwall-desk.js).
DESK_WORDS: Final = (
    "desk_city", "desk_cases", "desk_total", "desk_page", "desk_none", "desk_bad_filter", "desk_unavailable",
    "light_red", "light_yellow", "light_green", "light_grey", "light_none", "overdue_for", "due_in",
    "unit_day", "unit_hour", "unit_minute", "desk_urgent", "district", "department", "overdue", "warn",
    "open_cases", "suspended",
    "case_close", "case_steps", "case_timeline", "case_nearby", "case_history", "case_media", "case_none",
    "case_not_found", "case_deadline", "case_reported", "case_spent", "case_on_time", "case_late", "case_waiting",
    "case_walk", "case_before", "case_after",
    "mark_return", "mark_extend", "mark_suspend", "mark_resume", "mark_rework", "mark_void", "mark_supervise",
    "sup_button", "sup_badge", "sup_note", "sup_deadline", "sup_send", "sup_sent", "sup_dept_confirm", "sup_failed",
    "alerts_none", "alert_ack", "alert_dismiss", "alert_case", "alert_snapshot", "alert_reason", "alert_case_note",
    "alert_handled", "alert_done_ack", "alert_done_dismiss", "alert_done_case", "alert_failed",
    "sev_detection", "sev_alert", "sev_critical",
    "send_verify", "send_check", "send_confirm", "send_sent", "send_failed",
    "period_day", "period_week", "period_month", "period_quarter", "period_year", "rank_department", "rank_district",
    "rank_street", "rank_city_only",
    *(f"rank_{o}_{k}" for o in ("department", "district", "street") for k in ("day", "week", "month", "quarter", "year")),
    "cnt_reported", "cnt_filed", "cnt_closed", "cnt_due_disposal", "cnt_disposed_on_time", "cnt_disposed_late",
    "cnt_overdue_pending", "cnt_due_close", "cnt_reworked", "case_closed", "case_map", "desk_map", "desk_list",
    "case_vehicles", "case_metres", "veh_enforcement", "veh_muck_truck", "veh_sanitation",
    "desk_briefing_pick", "desk_briefing_picked",  # the briefing's case story (docs/briefing.md)
)


# The rights the desk's page asks about, to show an action's button (the server refuses the
# request itself to whoever lacks the right: the button is a convenience, not the check).
DESK_ACTION_RIGHTS: Final = ("act.supervise", "act.dispatch", "see.reports")


def desk_contract(lang: str, may: Iterable[str] = ()) -> dict[str, Any]:
    """What the desk's page carries for the browser (``data-contract`` on ``#gw-desk``)."""
    return {"lang": lang, "words": {key: t(key, lang) for key in DESK_WORDS},
            "may": [r for r in DESK_ACTION_RIGHTS if r in set(may)]}


def page_contract(lang: str) -> dict[str, Any]:
    """What the page carries for the browser (``data-contract`` on ``#gw-canvas``)."""
    return {
        "offline_after_s": OFFLINE_AFTER_S,
        "vehicle_subtypes": list(VEHICLE_SUBTYPES),
        "words": {key: t(key, lang) for key in JS_WORDS},
    }


# --- the replay (layouts/replay.py, assets/gridwall-replay*.js; docs/desk.md "Replay") ------------
REPLAY_FIELDS: Final = ("what", "department", "devices", "from", "to", "stop_min")  # the choice's controls
REPLAY_SPEEDS: Final = (1, 2, 5, 10, 30, 60)  # times real time; the select's choices
REPLAY_TRAILS_S: Final = (0, 120, 600, 1800, -1)  # the trail behind each device, seconds (-1: the whole track)
REPLAY_ELEMENT_IDS: Final = (
    "gw-replay",          # the page's root; carries the replay's contract and time zone
    "gw-r-form", "gw-r-lastnight", "gw-r-lasthour",            # the choice
    "gw-r-map-box", "gw-r-map",                                # the map (dash-leaflet; the JS draws over it)
    "gw-r-play", "gw-r-slider", "gw-r-time", "gw-r-speed", "gw-r-trail",   # the player
    "gw-r-summary", "gw-r-error", "gw-r-follow", "gw-r-list", "gw-r-stops-title", "gw-r-stops",
)  # fmt: skip
REPLAY_ID_FAMILIES: Final[Mapping[str, tuple[tuple[str, ...], ...]]] = {"gw-r-f-": (REPLAY_FIELDS,)}
REPLAY_DATA_ATTRS_READ: Final[Mapping[str, tuple[str, ...]]] = {"gw-replay": ("data-contract", "data-tz"),
                                                                "gw-r-map-box": ("data-shift",)}


def replay_element_ids() -> list[str]:
    return [*REPLAY_ELEMENT_IDS, *(prefix + key for prefix, parts in REPLAY_ID_FAMILIES.items() for key in parts[0])]


# Every word the replay's JS writes itself (assets/gridwall-replay.js; durations through
# assets/gridwall-desk-lib.js, hence the units).
REPLAY_WORDS: Final = (
    "replay_play", "replay_pause", "replay_loading", "replay_none", "replay_failed", "replay_summary",
    "replay_device_line", "replay_no_fix", "replay_follow", "replay_unfollow", "replay_following", "replay_stops_of",
    "replay_stops_hint", "replay_stop_line", "replay_open_start", "replay_open_end", "replay_seek", "replay_pick",
    "replay_all_vehicles", "replay_collectors", "veh_enforcement", "veh_muck_truck", "veh_sanitation",
    "unit_day", "unit_hour", "unit_minute",
)


def replay_contract(lang: str, defaults: Mapping[str, str]) -> dict[str, Any]:
    """What the replay's page carries for the browser (``data-contract`` on ``#gw-replay``): its
    words, the vehicle subtypes (each drawn with its own symbol) and the first window."""
    return {"lang": lang, "words": {key: t(key, lang) for key in REPLAY_WORDS},
            "vehicle_subtypes": list(VEHICLE_SUBTYPES), "defaults": dict(defaults)}


# --- the briefing (layouts/briefing.py, assets/gridwall-briefing*.js; docs/briefing.md) --------------
# The briefing's canvas is the wall's (#gw-canvas, scaled by gridwall-core.js), its map the wall's
# (#gw-map-box, #gw-map: gridwall-map.js draws it from the same poll), and its live figures the
# wall's ids (gw-today-*, gw-kpi-*: written by gridwall-panels.js and gridwall-kpi.js). Its own
# elements are found by class and data-scene inside .gw-bf, so it names no id of its own but these:
BRIEFING_ELEMENT_IDS: Final = ("gw-bf-dots",)
BRIEFING_CHART_PREFIX: Final = "gw-bf-chart-"  # + a trend scene's key: its dcc.Graph
BRIEFING_DATA_ATTRS_READ: Final[Mapping[str, tuple[str, ...]]] = {
    "gw-canvas": ("data-briefing", "data-poll-url"),
    "gw-bf-scene": ("data-scene", "data-kind"),  # a class: one section per scene
}
BRIEFING_POLL_URL: Final = "/briefing/poll"
BRIEFING_DATA_URL: Final = "/briefing/data"
# Every word the briefing's scripts write themselves.
BRIEFING_WORDS: Final = (
    "bf_paused", "bf_top", "bf_bottom", "bf_month", "bf_quarter", "bf_week", "bf_period_range",
    "bf_no_case", "bf_by_desk", "bf_by_rule", "bf_urgent", "bf_took", "bf_limit", "bf_on_time", "bf_late",
    "bf_before", "bf_after", "bf_photo_hidden", "bf_reported_at", "bf_closed_at", "bf_target",
    "bf_reports", "bf_close_rate", "bf_on_time_close_rate", "bf_others", "bf_no_data", "bf_pos",
    "bf_alarms", "bf_unit_km2", "bf_trend_week", "bf_trend_month",
    "stage_accept", "stage_verify", "stage_file", "stage_dispatch", "stage_disposal", "stage_check", "stage_close",
    "unit_day", "unit_hour", "unit_minute", "sev_critical", "sev_alert", "sev_detection", "date_locale",
)  # fmt: skip


def briefing_contract(lang: str, scenes: Iterable[Mapping[str, Any]], masked: bool) -> dict[str, Any]:
    """What the briefing's page carries (``data-briefing`` on ``#gw-canvas``): its scenes in
    order with their seconds, its data route and its words."""
    return {"lang": lang, "scenes": list(scenes), "masked": masked, "data_url": BRIEFING_DATA_URL,
            "chart_prefix": BRIEFING_CHART_PREFIX, "words": {key: t(key, lang) for key in BRIEFING_WORDS}}
