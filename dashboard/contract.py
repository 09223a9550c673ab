"""The contract between the Python side and the browser: values both sides must agree on,
written once here. (The browser receives them as data; docs/contract.md describes them.)"""

from __future__ import annotations

from typing import Final

# A device with no fix for this long is offline: the vehicle counts and the map's grey marker.
OFFLINE_AFTER_S: Final = 300.0  # [D] docs/domain.md §7: offline after 5 minutes
# The vehicle kinds the wall names and draws apart; any other subtype is "other".
VEHICLE_SUBTYPES: Final = ("enforcement", "muck_truck", "sanitation")
