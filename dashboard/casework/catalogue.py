"""The component/event catalogue (docs/domain.md §3), its code crosswalk (§3.4) and the video-AI
alert types (§7), built from plain data (dashboard/data/catalogue.toml, read by casedata)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.casework.timelimits import normalise_category

CODE_SYSTEMS = ("gbt30428", "llss", "gbt47678")


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    category: str  # "component" | "event"
    code: str  # 2 digits for a large class, 4 for a small class
    zh: str
    en: str
    is_local_extension: bool = False

    @property
    def class_code(self) -> str:
        return self.code[:2]

    @property
    def is_class(self) -> bool:
        return len(self.code) == 2


@dataclass(frozen=True, slots=True)
class CrosswalkRow:
    zh: str
    en: str
    gbt30428: str | None  # primary code (4 digits)
    llss: str | None  # "LL-SS"
    gbt47678: str | None  # 5 digits
    note: str | None = None


@dataclass(frozen=True, slots=True)
class AlertType:
    type: str
    aliases: tuple[str, ...]
    small_code: str | None  # primary event small class, None when nothing fits
    gbt47678: str | None
    fit: str  # "same" | "nearest" | "none"
    note: str | None = None


def _item(category: str, row: Mapping[str, Any], digits: int) -> CatalogueItem:
    code = str(row["code"])
    if len(code) != digits or not code.isdigit():
        raise ValueError(f"{category} code {code!r} must have {digits} digits")
    return CatalogueItem(
        category, code, str(row["zh"]), str(row.get("en", "")), bool(row.get("is_local_extension", False))
    )


class Catalogue:
    def __init__(
        self,
        items: Iterable[CatalogueItem],
        crosswalk: Iterable[CrosswalkRow] = (),
        alerts: Iterable[AlertType] = (),
        standard_ref: str = "GB/T 30428.2-2013",
    ) -> None:
        self.standard_ref = standard_ref
        self._items: dict[tuple[str, str], CatalogueItem] = {}
        for item in items:
            key = (item.category, item.code)
            if key in self._items:
                raise ValueError(f"{item.category} code {item.code} appears twice")
            self._items[key] = item
        for category, code in self._items:
            if len(code) == 4 and (category, code[:2]) not in self._items:
                raise ValueError(f"{category} {code} belongs to no known large class {code[:2]}")
        self.crosswalk: tuple[CrosswalkRow, ...] = tuple(crosswalk)
        self._by_code: dict[tuple[str, str], CrosswalkRow] = {}
        for row in self.crosswalk:
            for system in CODE_SYSTEMS:
                code = getattr(row, system)
                if code is not None:
                    self._by_code[(system, code)] = row
        self.alerts: tuple[AlertType, ...] = tuple(alerts)
        self._alerts: dict[str, AlertType] = {}
        for alert in self.alerts:
            for name in (alert.type, *alert.aliases):
                self._alerts[name] = alert

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Catalogue:
        items = [_item("component", row, 2) for row in data.get("component_class", ())]
        items += [_item("component", row, 4) for row in data.get("component", ())]
        items += [_item("event", row, 2) for row in data.get("event_class", ())]
        items += [_item("event", row, 4) for row in data.get("event", ())]
        crosswalk = [
            CrosswalkRow(
                str(row["zh"]),
                str(row.get("en", "")),
                row.get("gbt30428"),
                row.get("llss"),
                row.get("gbt47678"),
                row.get("note"),
            )
            for row in data.get("crosswalk", ())
        ]
        alerts = [
            AlertType(
                str(row["type"]),
                tuple(row.get("aliases", ())),
                row.get("small_code"),
                row.get("gbt47678"),
                str(row.get("fit", "none")),
                row.get("note"),
            )
            for row in data.get("ai_alert", ())
        ]
        return cls(items, crosswalk, alerts, str(data.get("standard_ref", "GB/T 30428.2-2013")))

    def item(self, category: str, code: str) -> CatalogueItem | None:
        return self._items.get((normalise_category(category), code))

    def large_class(self, category: str, code: str) -> CatalogueItem | None:
        return self.item(category, code[:2])

    def items(self, category: str | None = None) -> list[CatalogueItem]:
        wanted = None if category is None else normalise_category(category)
        return [i for i in self._items.values() if wanted is None or i.category == wanted]

    def name(self, category: str, code: str, language: str = "zh") -> str | None:
        found = self.item(category, code)
        if found is None:
            return None
        return found.en if language == "en" else found.zh

    def translate(self, code: str, source: str, target: str) -> str | None:
        """A code in another generation (gbt30428 ↔ llss ↔ gbt47678), None if not mapped."""
        if source not in CODE_SYSTEMS or target not in CODE_SYSTEMS:
            raise ValueError(f"code systems are {CODE_SYSTEMS}")
        row = self._by_code.get((source, code))
        return None if row is None else getattr(row, target)

    def alert(self, alert_type: str) -> AlertType | None:
        """The mapping of a video-AI alert type (or one of its aliases)."""
        return self._alerts.get(alert_type.strip())
