"""What the wall keeps of an alert in Redis: the ticker and the map read this doc."""

from __future__ import annotations

from typing import Any

from dashboard.records import Alert


def alert_doc(a: Alert) -> dict[str, Any]:
    doc = {"alert_id": a.alert_id, "camera_id": a.camera_id, "type": a.type, "state": a.state,
           "severity": a.severity, "start": a.start, "end": a.end, "lat": a.lat, "lon": a.lon,
           "confidence": a.confidence, "snapshot_url": a.snapshot_url, "source": a.source,
           "grid_code": a.grid_code, "rule": a.rule, "alarm_key": a.alarm_key, "device_type": a.device_type,
           "department": a.department}
    return {k: v for k, v in doc.items() if v is not None}
