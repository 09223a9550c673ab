"""Video-AI alerts per camera, planned one local hour at a time from the seed.

An alert is a scene that lasts a while (a stall, garbage, a parked car): a "new" message when
the camera first sees it, "update"s at growing intervals as the confidence moves, and an "end".
About a quarter are fleeting false detections of under three minutes, which the wall's dwell
filter (docs/domain.md §7, min_dwell_s = 180) should drop. Some real alerts are reported as cases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from feeds.simulator.clock import HOUR_S, local_hour, local_stamp
from feeds.simulator.problem_mix import ALERT_TYPES, PROFILES, AlertType
from feeds.simulator.rand import poisson, weighted

FALSE_SHARE = 0.25
_PROFILE_MEAN = {k: sum(v) / 24.0 for k, v in PROFILES.items()}
_TOTAL_WEIGHT = sum(t.weight for t in ALERT_TYPES)


@dataclass(frozen=True, slots=True)
class CameraSpot:
    """A camera as the simulator uses it: where it is, the grid it watches, how busy it is."""

    id: str
    lat: float
    lon: float
    cell: int
    busyness: float


@dataclass(slots=True)
class AlertPlan:
    alert_id: str
    camera: CameraSpot
    type: AlertType
    start: float
    end: float
    real: bool
    updates: list[tuple[float, float]] = field(default_factory=list)  # (ts, confidence)
    confidence: float = 0.6

    def severity(self, confidence: float) -> str:
        if self.type.critical:
            return "critical"
        return "alert" if confidence >= 0.7 else "detection"

    def messages(self) -> list[tuple[float, dict]]:
        """(ts, payload) of new, updates, end."""
        base = {
            "alert_id": self.alert_id,
            "camera_id": self.camera.id,
            "lat": self.camera.lat,
            "lon": self.camera.lon,
            "type": self.type.name,
            "start": round(self.start, 3),
            "snapshot_url": f"sim://snapshots/{self.camera.id}/{self.alert_id}.jpg",
        }
        out = [(self.start, {**base, "state": "new", "end": None, "confidence": self.confidence,
                             "severity": self.severity(self.confidence)})]
        for ts, conf in self.updates:
            out.append((ts, {**base, "state": "update", "end": None, "confidence": conf,
                             "severity": self.severity(conf)}))
        last = self.updates[-1][1] if self.updates else self.confidence
        out.append((self.end, {**base, "state": "end", "end": round(self.end, 3),
                               "confidence": last, "severity": self.severity(last)}))
        return out


def expected_cases_per_day(cameras: int, per_camera_day: float) -> float:
    """How many video-sourced cases the alert plan yields per day, before any scaling."""
    share = sum(t.weight * t.p_case for t in ALERT_TYPES) / _TOTAL_WEIGHT
    return cameras * per_camera_day * (1 - FALSE_SHARE) * share


def plan_hour(
    seed: int, hour: float, cameras: list[CameraSpot], per_camera_day: float
) -> list[AlertPlan]:
    """All alerts that start in the local hour beginning at ``hour``."""
    if not cameras or per_camera_day <= 0:
        return []
    rng = random.Random(f"{seed}:alerts:{int(hour)}")
    h = local_hour(hour)
    type_w = [t.weight * PROFILES[t.profile][h] / _PROFILE_MEAN[t.profile] for t in ALERT_TYPES]
    mean = per_camera_day / 24.0 * sum(type_w) / _TOTAL_WEIGHT * sum(c.busyness for c in cameras)
    n = poisson(rng, mean)
    cam_w = [c.busyness for c in cameras]
    plans = []
    for k in range(n):
        kind = weighted(rng, ALERT_TYPES, type_w)
        cam = weighted(rng, cameras, cam_w)
        start = hour + rng.uniform(0, HOUR_S)
        real = rng.random() >= FALSE_SHARE
        lo, hi = kind.dwell_min if real else (0.3, 2.5)
        end = start + rng.uniform(lo, hi) * 60
        plan = AlertPlan(
            alert_id=f"VA{local_stamp(hour)}{k + 1:04d}",
            camera=cam,
            type=kind,
            start=start,
            end=end,
            real=real,
            confidence=round(rng.uniform(0.55, 0.8) if real else rng.uniform(0.45, 0.65), 2),
        )
        # Updates when something changes: quickly at first, then every few minutes.
        conf, gap, t = plan.confidence, 20.0, start
        while True:
            t += gap * rng.uniform(0.7, 1.3)
            if t >= end - 5:
                break
            conf = round(min(0.99, max(0.4, conf + rng.gauss(0.04 if real else -0.03, 0.05))), 2)
            plan.updates.append((t, conf))
            gap = min(600.0, gap * 2)
        plans.append(plan)
    return plans
