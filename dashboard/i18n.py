"""Every word the screens show, in Chinese (default) and English. Layouts never hold literals."""

from __future__ import annotations

LANGS = ("zh", "en")

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"zh": "数字城管指挥大屏", "en": "Urban Management Command Wall"},
    "open_cases": {"zh": "在办案件", "en": "Open cases"},
    "overdue": {"zh": "超期", "en": "Overdue"},
    "warn": {"zh": "即将超期", "en": "Due soon"},
    "collectors": {"zh": "监督员在线", "en": "Collectors online"},
    "vehicles": {"zh": "车辆在线", "en": "Vehicles online"},
    "freshness": {"zh": "数据", "en": "Data"},
    "fresh_ok": {"zh": "实时", "en": "live"},
    "fresh_stale": {"zh": "中断", "en": "stale"},
    "seconds_ago": {"zh": "秒前", "en": "s ago"},
    "map": {"zh": "城市实时态势", "en": "Live city map"},
}


def t(key: str, lang: str = "zh") -> str:
    entry = TEXT[key]
    return entry.get(lang) or entry["zh"]


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else "zh"
