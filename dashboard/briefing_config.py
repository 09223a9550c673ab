"""The briefing's configuration (docs/briefing.md): the defaults of dashboard/data/briefing.toml
under the city's ``[briefing]`` section, checked whole when the app starts.

A scene list that cannot run (an unknown kind, a duration that is not a number of seconds, a
period the scene does not have, a district the city does not list) is refused with what and
where, as dashboard/supervision_config.py refuses a bad ``[supervision]``: a tour that stops in
front of a delegation is worse than a server that does not start.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from dashboard.config import Settings

DEFAULTS_FILE: Final = Path(__file__).resolve().parent / "data" / "briefing.toml"
# kind -> the periods it takes (the first is its default); () takes none.
KINDS: Final[Mapping[str, tuple[str, ...]]] = {
    "city": (),
    "today": (),
    "trend": ("month", "week"),
    "evaluation": (),
    "case": ("week", "month"),
    "supervision": ("week", "month"),
    "video": ("week", "month"),
}
DISTRICT_KINDS: Final = ("case",)  # the scenes that can be given a district
SECONDS_MIN, SECONDS_MAX = 5.0, 600.0
CASE_RULES: Final = ("fastest_urgent", "fastest")
_TOP_KEYS: Final = {"masked", "photos", "refresh_s", "case_rule", "targets", "scenes"}
_SCENE_KEYS: Final = {"kind", "seconds", "period", "district"}
_TARGETS: Final = ("close_rate", "on_time_close_rate")


class BriefingConfigError(ValueError):
    """The [briefing] section cannot be used, and why."""


@dataclass(frozen=True, slots=True)
class Scene:
    kind: str
    seconds: float
    period: str | None = None
    district: str | None = None

    @property
    def key(self) -> str:
        """The scene's id on the page and in the data: kind, period and district."""
        return "-".join(p for p in (self.kind, self.period, self.district) if p)


@dataclass(frozen=True, slots=True)
class Briefing:
    scenes: tuple[Scene, ...]
    masked: bool = True
    refresh_s: float = 60.0
    case_rule: str = "fastest_urgent"
    targets: Mapping[str, float] = field(default_factory=dict)
    photos: bool = False  # the case story's photos (a photo may show faces: off unless the city vets them)


def _defaults() -> dict[str, Any]:
    return tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))


def _number(where: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise BriefingConfigError(f"{where} = {value!r}: a number from {low:g} to {high:g}")
    return float(value)


def _scene(i: int, raw: Any, districts: Collection[str] | None) -> Scene:
    where = f"[briefing] scenes[{i}]"
    if not isinstance(raw, Mapping):
        raise BriefingConfigError(f"{where}: a table like {{kind = \"trend\", seconds = 20}}")
    extra = sorted(set(raw) - _SCENE_KEYS)
    if extra:
        raise BriefingConfigError(f"{where}: unknown key {extra[0]!r}; the keys are {', '.join(sorted(_SCENE_KEYS))}")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise BriefingConfigError(f"{where}: kind = {kind!r}: one of {', '.join(KINDS)}")
    seconds = _number(f"{where} seconds", raw.get("seconds"), SECONDS_MIN, SECONDS_MAX)
    periods = KINDS[kind]
    period = raw.get("period")
    if period is None:
        period = periods[0] if periods else None
    elif period not in periods:
        allowed = ", ".join(periods) if periods else "none (leave it out)"
        raise BriefingConfigError(f"{where}: a {kind} scene's period = {period!r}: {allowed}")
    district = raw.get("district")
    if district is not None:
        if kind not in DISTRICT_KINDS:
            raise BriefingConfigError(f"{where}: a {kind} scene shows the whole city; district is for "
                                      f"{', '.join(DISTRICT_KINDS)} scenes")
        if not isinstance(district, str) or (districts is not None and district not in districts):
            raise BriefingConfigError(f"{where}: district = {district!r}: not one of the city's districts")
    return Scene(kind, seconds, period, district)


def parse(section: Mapping[str, Any], districts: Collection[str] | None = None) -> Briefing:
    """The briefing of the defaults under ``section`` (the city's ``[briefing]``); ``districts``:
    the city's district codes, to check a scene's (None: not checked)."""
    if not isinstance(section, Mapping):
        raise BriefingConfigError("[briefing] must be a table")
    extra = sorted(set(section) - _TOP_KEYS)
    if extra:
        raise BriefingConfigError(f"[briefing]: unknown key {extra[0]!r}; the keys are {', '.join(sorted(_TOP_KEYS))}")
    data = {**_defaults(), **section}
    masked = data.get("masked")
    if not isinstance(masked, bool):
        raise BriefingConfigError(f"[briefing] masked = {masked!r}: true or false")
    photos = data.get("photos")
    if not isinstance(photos, bool):
        raise BriefingConfigError(f"[briefing] photos = {photos!r}: true or false")
    refresh_s = _number("[briefing] refresh_s", data.get("refresh_s"), 5.0, 3600.0)
    case_rule = data.get("case_rule")
    if case_rule not in CASE_RULES:
        raise BriefingConfigError(f"[briefing] case_rule = {case_rule!r}: one of {', '.join(CASE_RULES)}")
    if not isinstance(section.get("targets", {}), Mapping):
        raise BriefingConfigError("[briefing.targets] must be a table")
    targets_raw = {**_defaults().get("targets", {}), **section.get("targets", {})}
    unknown = sorted(set(targets_raw) - set(_TARGETS))
    if unknown:
        raise BriefingConfigError(f"[briefing.targets]: unknown rate {unknown[0]!r}; the rates are {', '.join(_TARGETS)}")
    targets = {k: _number(f"[briefing.targets] {k}", v, 0.0, 100.0) for k, v in targets_raw.items()}
    scenes_raw = data.get("scenes")
    if not isinstance(scenes_raw, list) or not scenes_raw:
        raise BriefingConfigError("[briefing] scenes: a list of at least one scene ([[briefing.scenes]] tables)")
    scenes = tuple(_scene(i, raw, districts) for i, raw in enumerate(scenes_raw))
    keys = [s.key for s in scenes]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise BriefingConfigError(f"[briefing] scenes: {twice[0]!r} is listed twice (the same kind, period and "
                                  "district); give it a longer seconds instead")
    return Briefing(scenes, masked, refresh_s, str(case_rule), targets, photos)


def from_settings(settings: Settings, districts: Collection[str] | None = None) -> Briefing:
    return parse(settings.section("briefing"), districts)
