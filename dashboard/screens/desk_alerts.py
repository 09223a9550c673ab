"""The desk's alerts: the video alerts still active and not yet handled, newest first, and those
handled in the last day with who, how and why (docs/desk.md "Alerts").

Pure: the hot docs, the handling marks and the names come in; ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.access.masking import Masking
from dashboard.access.scope import Scope
from dashboard.screens.names import Names

HANDLED_SHOWN_S = 86400.0  # the desk lists the last day's handled alerts
ACTIVE_MAX = 200


def alert_row(a: Mapping[str, Any], names: Names, masking: Masking) -> dict[str, Any]:
    zh, en = names.alert_type(str(a.get("type", "")))
    place = names.place(a.get("grid_code"), a.get("camera_id"))
    return {
        "alert_id": a.get("alert_id"), "camera_id": a.get("camera_id"), "type_zh": zh, "type_en": en,
        "severity": a.get("severity", "detection"), "start": a.get("start"), "state": a.get("state"),
        "confidence": a.get("confidence"), "lat": a.get("lat"), "lon": a.get("lon"),
        "place_zh": place[0], "place_en": place[1],
        # A snapshot may show faces and plates: not for a masked role (as the case page's media).
        "snapshot_url": None if masking.active else a.get("snapshot_url"),
    }


def alert_list(active: Sequence[Mapping[str, Any]], handled: Mapping[str, Mapping[str, Any]],
               recent: Sequence[Mapping[str, Any]], names: Names, masking: Masking, scope: Scope,
               now: float) -> dict[str, Any]:
    """``active``: the hot docs of the active alerts; ``handled``: id -> its handling mark;
    ``recent``: the latest docs of alerts (to name the handled ones)."""
    rows = [alert_row(a, names, masking) for a in scope.only(active) if str(a.get("alert_id")) not in handled]
    rows.sort(key=lambda r: -(r["start"] or 0.0))
    latest: dict[str, Mapping[str, Any]] = {}
    for a in recent:  # newest first: the first copy is the current one
        latest.setdefault(str(a.get("alert_id")), a)
    done = []
    for alert_id, mark in handled.items():
        if now - float(mark.get("at") or 0.0) > HANDLED_SHOWN_S:
            continue
        doc = mark.get("alert") or latest.get(alert_id)
        if doc is None or not scope.sees(doc):
            continue
        who = mark.get("by")
        done.append({**alert_row(doc, names, masking), "handled": {
            "action": mark.get("action"), "reason": mark.get("reason"), "at": mark.get("at"),
            "by": masking.case({"actor": who}).get("actor") if masking.active and who else who,
            "case_id": mark.get("case_id")}})
    done.sort(key=lambda r: -(r["handled"]["at"] or 0.0))
    return {"now": now, "active": rows[:ACTIVE_MAX], "active_total": len(rows), "handled": done[:ACTIVE_MAX]}
