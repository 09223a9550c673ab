"""What the hot state keeps of a case: the document the map, the counters and every screen read
from Redis (``{gw}:case``), built from a case state. Its ``due``, ``warn_at`` and ``suspended``
are the light's boundaries as dashboard.casework.overdue decides them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.casework.casestate import CaseState
from dashboard.casework.overdue import Light, LightPolicy, disposal_boundaries, light_at
from dashboard.casework.timelimits import Rules

# Location and wording are not part of the lifecycle; they ride along for the map and lists.
EXTRA_FIELDS = ("lat", "lon", "title", "address")


def hot_doc(case: CaseState, extra: dict[str, Any], rules: Rules, policy: LightPolicy) -> dict[str, Any]:
    """What the wall keeps of a case in Redis: the map marker and the counters' keys."""
    clock = disposal_boundaries(case, rules, policy)
    doc: dict[str, Any] = {
        "case_id": case.case_id,
        "open": case.is_open,
        "state": case.state.value,
        "source": case.source.value,
        "category": case.category,
        "small_code": case.small_code,
        "grid_code": case.grid_code,
        "district": case.district,
        "street": case.street,
        "department": case.department,
        "urgent": case.urgent,
        "reported_at": case.reported_at,
        "deadline": case.deadline,
        # The light's boundaries (casework.overdue decides them; every screen applies them).
        "suspended": clock.paused,
        "due": clock.due,
        "warn_at": clock.warn_at,
    }
    if case.supervisions:  # 督办: the badge on the desk's list and the wall's ticker
        doc["supervised"] = case.supervisions
        doc["supervised_at"] = case.supervised_at
    doc.update({k: extra[k] for k in EXTRA_FIELDS if extra.get(k) is not None})
    return doc


def doc_light(doc: Mapping[str, Any], now: float) -> Light | None:
    """The disposal light of a case's hot doc at ``now``: the one rule (casework.overdue.light_at)
    applied to the boundaries the doc carries."""
    return light_at(doc.get("due"), doc.get("warn_at"), bool(doc.get("suspended")), now)
