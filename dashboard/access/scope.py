"""Which part of the city a principal sees: all of it, or some districts.

A user or token may be limited to districts (``--districts`` of ``gridwall user add`` and
``gridwall token create``; Traccar's per-user device visibility, by place rather than by a list of
devices, because a district command centre answers for what happens on its ground). Limited, it
sees:

- the devices that are in its districts now, by the unit grid of their last fix (a device that
  drives out is taken off its screen, one that drives in appears);
- the cases and alerts whose grid is in its districts;
- counters of those alone: the KPI and the board are built for the scope by the ingest worker,
  once a second for every scope a screen has asked for (dashboard/screens/wall.py), never per
  client.

Like masking (dashboard/access/masking.py) it is applied on the server, to the bytes of the poll:
a limited screen never receives another district's doc. What it may still receive is bare ids in
``devices_gone`` and ``cases_gone`` (a removal cannot be checked against a place it no longer
has); under masking the device ids are aliases. docs/access.md says so.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.casework.gridcode import region_code


@dataclass(frozen=True, slots=True)
class Scope:
    districts: frozenset[str] | None = None  # None: the whole city

    @classmethod
    def of(cls, districts: Iterable[str] | None) -> Scope:
        """The scope of a principal's ``districts`` (None or empty: the whole city)."""
        codes = frozenset(d for d in districts or () if d)
        return cls(codes) if codes else CITY_SCOPE

    @property
    def whole(self) -> bool:
        return self.districts is None

    @property
    def key(self) -> str:
        """A short stable name for Redis keys and caches: "city", or a hash of the codes."""
        if self.districts is None:
            return "city"
        return hashlib.sha1(",".join(sorted(self.districts)).encode(), usedforsecurity=False).hexdigest()[:12]

    @property
    def codes(self) -> list[str]:
        return sorted(self.districts or ())

    # --- the rule --------------------------------------------------------------------------
    @staticmethod
    def district_of(doc: Mapping[str, Any]) -> str | None:
        """A hot doc's district: a case carries its own; a device or an alert has its grid."""
        district = doc.get("district")
        if isinstance(district, str) and district:
            return district
        grid = doc.get("grid_code")
        return region_code(grid, "district") if isinstance(grid, str) else None

    def sees(self, doc: Mapping[str, Any]) -> bool:
        return self.districts is None or self.district_of(doc) in self.districts

    def sees_area(self, code: str) -> bool:
        """A district, street or community code (the rankings' rows) is inside the scope."""
        return self.districts is None or code[:6] in self.districts

    def only(self, docs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [d for d in docs if self.sees(d)] if self.districts is not None else list(docs)

    # --- the live picture ------------------------------------------------------------------
    def live(self, payload: dict[str, Any]) -> dict[str, Any]:
        """A delta or the whole picture cut to the scope. In a delta a device seen outside is a
        removal (it may have been on this screen a moment ago); in the whole picture it is
        simply left out, with its trail."""
        if self.districts is None:
            return payload
        out = dict(payload)
        if "devices" in out:
            inside, outside = _split(out["devices"], self.sees)
            out["devices"] = inside
            if outside:
                out["devices_gone"] = [*out.get("devices_gone", ()), *(d.get("id") for d in outside)]
            if not inside:
                del out["devices"]
        if "full" in out:
            out["full"] = [d for d in out["full"] if self.sees(d)]
            if "trails" in out:
                kept = {d.get("id") for d in out["full"]}
                out["trails"] = {k: v for k, v in out["trails"].items() if k in kept}
        for key in ("cases", "alerts"):
            if key in out:
                out[key] = [d for d in out[key] if self.sees(d)]
                if not out[key] and "full" not in out:
                    del out[key]
        return out


def _split(docs: Sequence[Mapping[str, Any]], test: Any) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    inside: list[Mapping[str, Any]] = []
    outside: list[Mapping[str, Any]] = []
    for d in docs:
        (inside if test(d) else outside).append(d)
    return inside, outside


CITY_SCOPE = Scope(None)
