"""The briefing page's side of the contract (dashboard/contract.py BRIEFING_*, docs/briefing.md):
its ids are rendered and used, the attributes its scripts read are on its elements, it carries
its words and they are all its scripts write, in both languages; the default scenes parse."""

from __future__ import annotations

import re

import orjson
import pytest
from test_contract import JS, by_id, walk, words_used

from dashboard import contract
from dashboard.briefing_config import parse
from dashboard.config import load_settings
from dashboard.i18n import LANGS, TEXT
from layouts import briefing

BRIEFING_JS = "\n".join(src for name, src in JS.items() if name.startswith("gridwall-briefing"))
SCENES = [{"key": s.key, "kind": s.kind, "seconds": s.seconds} for s in parse({}).scenes]


def rendered(lang: str) -> list[dict]:
    return list(walk(briefing.layout(load_settings(path=None, environ={}), lang, {"name_zh": "江城市"}, SCENES, True)))


@pytest.mark.parametrize("lang", LANGS)
def test_every_briefing_id_and_attribute_is_rendered_and_used(lang: str) -> None:
    props = rendered(lang)
    ids = by_id(props)
    assert [i for i in contract.BRIEFING_ELEMENT_IDS if i not in ids] == []
    assert [i for i in contract.BRIEFING_ELEMENT_IDS if f'"{i}"' not in BRIEFING_JS] == []
    # The wall's ids it reuses: the canvas, the map, today's tiles and the counters.
    assert {"gw-canvas", "gw-map-box", "gw-map", "gw-today-reported", "gw-kpi-overdue"} <= set(ids)
    for attr in contract.BRIEFING_DATA_ATTRS_READ["gw-canvas"]:
        assert attr in ids["gw-canvas"], attr
    sections = [p for p in props if "gw-bf-scene" in str(p.get("className", ""))]
    assert [s["data-scene"] for s in sections] == [s["key"] for s in SCENES]
    for attr in contract.BRIEFING_DATA_ATTRS_READ["gw-bf-scene"]:
        assert attr in BRIEFING_JS, attr
        assert all(attr in s for s in sections), attr
    carried = orjson.loads(ids["gw-canvas"]["data-briefing"])
    assert set(carried["words"]) == set(contract.BRIEFING_WORDS) and carried["lang"] == lang
    assert carried["scenes"] == SCENES and carried["data_url"] == contract.BRIEFING_DATA_URL
    assert ids["gw-canvas"]["data-poll-url"] == contract.BRIEFING_POLL_URL


def test_the_briefing_scripts_write_only_its_words() -> None:
    used = {w for w in words_used(BRIEFING_JS) | set(re.findall(r'say\(\s*"(\w+)"', BRIEFING_JS)) if not w.endswith("_")}
    assert {"bf_no_case", "bf_took"} <= used, "the patterns find the scripts' words"
    prefixed = {f"stage_{s}" for s in ("accept", "verify", "file", "dispatch", "disposal", "check", "close")}
    prefixed |= {"bf_week", "bf_month", "bf_quarter", "bf_before", "bf_after"}
    assert used | prefixed <= set(contract.BRIEFING_WORDS), sorted(used - set(contract.BRIEFING_WORDS))
    for key in (*contract.BRIEFING_WORDS, *(k for k in TEXT if k.startswith("bf_"))):
        assert set(TEXT[key]) == set(LANGS), key
