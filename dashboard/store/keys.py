"""Every Redis key gridwall uses, defined once. No other module spells a key.

All keys carry the hash tag ``{gw}`` so a Redis Cluster keeps them in one slot (the multi-key
Lua scripts need that).

The live picture (dashboard/store/hot.py):
  {gw}:dev            HASH  device id -> latest state, JSON (one hash: reading 10k devices is one
                            HGETALL instead of 10k round trips)
  {gw}:dev:ts         HASH  device id -> fix time of that state ("newer wins" compares here)
  {gw}:geo            GEO   device positions, for radius queries
  {gw}:geo:collector  GEO   the positions of the devices whose latest fix says kind "collector",
                            and only those: what the nearest-collector search reads
                            (dashboard/store/nearby.py), so it never walks past the vehicles
  {gw}:trail:<id>     LIST  "lon,lat,ts" newest first, capped; expires device_retention_s after
                            its last write
  {gw}:seen:<kind>    ZSET  device id -> last fix time, per kind: ZCOUNT gives who is online
  {gw}:alert          HASH  active alert id -> JSON
  {gw}:alert:recent   LIST  the latest alerts (any state), JSON, capped: the ticker
  {gw}:case           HASH  open case id -> JSON (what the map and the counters need)
  {gw}:case:due       ZSET  open, running case id -> ``due`` (epoch s): red once now > due
  {gw}:case:warn      ZSET  open, running case id -> ``warn_at``: yellow once now >= warn_at
  {gw}:seen:<key>     STR   dedupe mark of a stored case event (its digest) or alert ("1"), set
                            after the SQL commit; SQL stays the authority (feeds/steps/dedupe.py)
  {gw}:stats:<feed>   HASH  accepted, rejected, rejected:<reason>, duplicates, last_ts
  {gw}:lock:case:<id> STR   the worker applying this case's events now (token, short TTL)
  {gw}:snap:ver       INT   version of the live picture; bumped once per tick with changes
  {gw}:snap:delta:<v> STR   JSON of what changed in version v (expires)
  {gw}:snap:kpi       STR   JSON of the counters, rewritten every tick
  {gw}:workers        HASH  ingest worker id -> {connected, ts}: the broker as the workers see it
  {gw}:alive          STR   set when the hot state was built; gone = Redis lost its data, and
                            ingest rebuilds it from SQL (feeds/rebuild.py)
  {gw}:rebuild:lock   STR   the worker rebuilding or reconciling the hot state (NX, TTL)
  {gw}:spool:lock     STR   the worker draining the broker's spool session (feeds/spool.py)
  {gw}:handled:<digest> STR a QoS 1 message the live subscriptions took (stored or refused), by
                            the digest of its topic and payload: its spool copy is skipped (short TTL)
  {gw}:history:catchup HASH since, latest, received, events: a stream of old case events is
                            being applied (a backfill, a backlog); expires when it stops
  {gw}:dev:last       ZSET  device id -> its newest fix time: every device in the hot state (or
                            admitted to it by a batch being stored), so ZCARD is what
                            ``max_devices`` bounds and the oldest scores are the devices
                            silent longest (HotStore.prune_devices)

The wall's board (dashboard/store/board.py):
  {gw}:snap:board        STR  the board, JSON
  {gw}:snap:board:ver    INT  bumped each time the board's JSON changes
  {gw}:board:base:<day>  STR  JSON: the overdue counts at local midnight of that day
  {gw}:board:hourly      STR  JSON: today's reports and closures by local hour (cached)
  {gw}:board:lock        STR  the worker computing the board this second (NX, short TTL)

Supervision (dashboard/store/watch_state.py, feeds/steps/watch.py):
  {gw}:watch             HASH  device id -> its watch state, JSON with a version "v" (the rules'
                               pending conditions and raised alarms): compare-and-set per device, so
                               two ingest workers given fixes of one device never both raise
  {gw}:watch:v           HASH  device id -> its watch state's version (what the compare reads)
  {gw}:watch:silent      ZSET  device id -> when it is off the air if nothing more comes (its last
                               fix + offline_after_s): the offline sweep's queue
  {gw}:duty:<day>        HASH  "<collector>|s" -> seconds on duty in its area, "<collector>|m" ->
                               metres walked, that local day (expires after 45 days)
  {gw}:duty:<day>:grids  SET   "<collector>|<grid>": the grids it was in on duty that day
  {gw}:watch:tasks       HASH  "<collector>|<task id>" -> "lat,lon,sent": the places the desk sent
                               collectors to (standing still there is not idleness); pruned by
                               the watch step once they stop counting (task_place_s)

The briefing (dashboard/store/briefing.py):
  {gw}:briefing:case     STR   JSON {case_id, by, at}: the case story the desk chose for the
                               briefing (none: the briefing's rule picks one)

The live rankings (dashboard/store/liverank.py):
  {gw}:rank:<pid>        HASH  "<kind>|<code>|<counter>" -> count, pid = day:2026-11-21 | month:2026-11
  {gw}:rank:<pid>:ready  STR   when the SQL starting point was read (epoch s)
  {gw}:rank:timers       ZSET  case id -> its next deadline after its last contribution
  {gw}:rank:lock:<pid>   STR   the worker reading the starting point (NX, short TTL)

The evaluation reports' schedule (dashboard/store/report_claims.py, dashboard/reports/schedule.py):
  {gw}:report:<name>     STR   the ingest worker writing report <name> (report-month-2026-11-zh)
                               now (SET NX, expires if it dies), then "done" once the files are
                               in the data directory (kept two periods): exactly one writes each
"""

from __future__ import annotations

from typing import Final

P: Final = "{gw}"

# --- the live picture ----------------------------------------------------------------------
DEV: Final = f"{P}:dev"
DEV_TS: Final = f"{P}:dev:ts"
GEO: Final = f"{P}:geo"
GEO_COLLECTOR: Final = f"{P}:geo:collector"
ALERT: Final = f"{P}:alert"
ALERT_RECENT: Final = f"{P}:alert:recent"
# Alerts a person acknowledged, dismissed or turned into a case on the desk (dashboard/store/
# alert_handling.py): id -> the handling's doc, and id -> when (to forget them after a while).
# A handled alert is out of ALERT and the ticker for good, whatever its camera sends later.
ALERT_HANDLED: Final = f"{P}:alert:handled"
ALERT_HANDLED_AT: Final = f"{P}:alert:handled:at"
# Alerts the web changed, for the ingest worker's next tick to send to the screens as changes.
ALERT_TOUCHED: Final = f"{P}:alert:touched"
CASE: Final = f"{P}:case"
CASE_DUE: Final = f"{P}:case:due"
CASE_WARN: Final = f"{P}:case:warn"
ALIVE: Final = f"{P}:alive"
REBUILD_LOCK: Final = f"{P}:rebuild:lock"
SPOOL_LOCK: Final = f"{P}:spool:lock"
SNAP_VER: Final = f"{P}:snap:ver"
SNAP_KPI: Final = f"{P}:snap:kpi"
DELTA_PREFIX: Final = f"{P}:snap:delta:"
WORKERS: Final = f"{P}:workers"
HISTORY_CATCHUP: Final = f"{P}:history:catchup"
DEV_LAST: Final = f"{P}:dev:last"
WATCH: Final = f"{P}:watch"
WATCH_VERSION: Final = f"{P}:watch:v"
WATCH_SILENT: Final = f"{P}:watch:silent"
# The places of the tasks the desk sent to collectors (field "device|task_id" -> "lat,lon,sent"):
# standing still there is the work, not idleness. The watch step prunes what no longer counts.
TASK_PLACES: Final = f"{P}:watch:tasks"
# Flask-Limiter's counters (dashboard/access/web.py): logins per address and per user name, polls
# per token; the limits library names the keys under this prefix and expires them itself.
LIMIT_PREFIX: Final = f"{P}:limit"
# The briefing's case story chosen on the desk (dashboard/store/briefing.py).
BRIEFING_CASE: Final = f"{P}:briefing:case"


def duty_key(day: str) -> str:
    return f"{P}:duty:{day}"


def duty_grids_key(day: str) -> str:
    return f"{P}:duty:{day}:grids"


def trail_key(device_id: str) -> str:
    return f"{P}:trail:{device_id}"


def seen_key(kind: str) -> str:
    return f"{P}:seen:{kind}"


def dedupe_key(key: str) -> str:
    return f"{P}:seen:{key}"


def handled_key(digest: str) -> str:
    return f"{P}:handled:{digest}"


def delta_key(version: int) -> str:
    return f"{DELTA_PREFIX}{version}"


def stats_key(feed: str) -> str:
    return f"{P}:stats:{feed}"


def case_lock_key(case_id: str) -> str:
    return f"{P}:lock:case:{case_id}"


# --- the wall's board ------------------------------------------------------------------------
BOARD: Final = f"{P}:snap:board"
BOARD_VER: Final = f"{P}:snap:board:ver"
BOARD_HOURLY: Final = f"{P}:board:hourly"
BOARD_LOCK: Final = f"{P}:board:lock"
# The district lists (comma-joined codes) that district-limited screens asked for, scored by when:
# the board's builder makes a board and a KPI for each one asked for lately (dashboard/access/scope.py).
BOARD_SCOPES: Final = f"{P}:board:scopes"


def scoped_key(key: str, scope_key: str) -> str:
    """A board or KPI key for a district-limited scope; the whole city's is the key itself."""
    return key if scope_key == "city" else f"{key}:{scope_key}"


def board_base_key(day: str) -> str:
    return f"{P}:board:base:{day}"


# --- the live rankings -----------------------------------------------------------------------
RANK_TIMERS: Final = f"{P}:rank:timers"


def rank_key(pid: str) -> str:
    return f"{P}:rank:{pid}"


def rank_ready_key(pid: str) -> str:
    return f"{P}:rank:{pid}:ready"


def rank_lock_key(pid: str) -> str:
    return f"{P}:rank:lock:{pid}"


# --- the evaluation reports' schedule --------------------------------------------------------
def report_claim_key(name: str) -> str:
    return f"{P}:report:{name}"
