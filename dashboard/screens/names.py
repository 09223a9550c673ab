"""Display names, in both languages, for what the screens list: areas, departments, problem
classes, alert types and places. One home, so the wall, the desk and the briefing name a thing
the same way.

The names are the short ones (简称): screens have column headers that say "District" or
"Street", so "Gulou" rather than "Gulou Subdistrict", and 环卫处 rather than 市环境卫生管理处.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dashboard import casedata
from dashboard.casework.catalogue import Catalogue
from dashboard.casework.overdue import UNKNOWN
from dashboard.city.model import City, load_city, short_area_en
from dashboard.i18n import TEXT

Names2 = tuple[str, str]  # (zh, en)


def word(key: str) -> Names2:
    entry = TEXT[key]
    return entry["zh"], entry.get("en") or entry["zh"]


class Names:
    def __init__(self, city: City | None, catalogue: Catalogue) -> None:
        self.city = city  # None: no city files, codes instead of names
        self.catalogue = catalogue
        self._cameras = {c.id: c for c in city.cameras} if city is not None else {}
        self._rings: dict[str, Any] | None = None  # grid code -> ring, built at the first ask

    def area(self, code: str | None) -> Names2:
        if not code or code == UNKNOWN:
            return word("area_unknown")
        if self.city is None:
            return code, code
        return self.city.names.get(code, code), short_area_en(self.city.names_en.get(code, code))

    def department(self, code: str | None) -> Names2:
        if code == UNKNOWN or not code:
            return word("not_dispatched")
        found = self.city.department(code) if self.city is not None else None
        return (found.short_zh, found.short_en) if found is not None else (code, code)

    def problem_class(self, category: str | None, code: str | None) -> Names2:
        if not category or not code:
            return word("no_value")
        item = self.catalogue.item(category, code)
        return (item.zh, item.en or item.zh) if item is not None else (code, code)

    def place(self, grid_code: str | None, camera_id: str | None = None) -> Names2:
        """The street: what a narrow column holds (a camera's crossing does not)."""
        if not grid_code and camera_id:
            camera = self._cameras.get(camera_id)
            grid_code = camera.grid_code if camera is not None else None
        if grid_code and len(grid_code) >= 9:
            return self.area(grid_code[:9])
        return word("no_value")

    def grid_ring(self, code: str | None) -> list[list[float]] | None:
        """A unit grid's outline as [lat, lon] points (Leaflet's order), for the desk's case map."""
        if not code or self.city is None:
            return None
        if self._rings is None:
            self._rings = dict(self.city.grids)
        ring = self._rings.get(code)
        return [[round(lat, 6), round(lon, 6)] for lon, lat in ring] if ring else None

    def alert_type(self, alert_type: str) -> Names2:
        mapped = self.catalogue.alert(alert_type)
        if mapped is not None and mapped.small_code:
            item = self.catalogue.item("event", mapped.small_code)
            if item is not None and item.en:
                return alert_type, item.en
        entry = TEXT.get(f"alert_type_{alert_type}")
        return alert_type, (entry["en"] if entry is not None else alert_type)


def load_names(city_dir: Path) -> Names:
    """The names of the city in ``city_dir`` and of the problem catalogue; without city files,
    the codes themselves."""
    try:
        city: City | None = load_city(city_dir)
    except (OSError, KeyError, ValueError):
        city = None
    return Names(city, casedata.load_catalogue())
