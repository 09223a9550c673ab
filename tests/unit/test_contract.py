"""The contract between the Python side and the browser (dashboard/contract.py, docs/contract.md),
checked on both sides: every element id and data-* attribute it names is rendered by the layout
(layouts/) and used by the scripts (assets/*.js); the scripts look up no id and read no
attribute it does not name; the page carries the contract's values and words; the poll's fields
are the ones the scripts read; and no word on screen bypasses dashboard/i18n.py."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from dashboard import contract
from dashboard.access.principal import Principal
from dashboard.access.roles import load_roles
from dashboard.config import load_settings
from dashboard.i18n import LANGS, TEXT
from dashboard.store.hot import FEEDS
from layouts import desk, wall

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def js_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(ASSETS.glob("*.js"))}


def strip_comments(source: str) -> str:
    """JS without its comments (good enough for our own files: no "//" or "/*" inside strings
    other than URLs, which this keeps)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    return re.sub(r"(?<![:\"'])//.*", "", source)


JS = {name: strip_comments(text) for name, text in js_files().items()}
ALL_JS = "\n".join(JS.values())
LITERALS = set(re.findall(r'"([^"\\\n]*)"', ALL_JS)) | set(re.findall(r"'([^'\\\n]*)'", ALL_JS))


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every component's props in a rendered layout, depth first."""
    if isinstance(node, list | tuple):
        for child in node:
            yield from walk(child)
        return
    if not hasattr(node, "to_plotly_json"):
        return
    props = node.to_plotly_json()["props"]
    yield props
    yield from walk(props.get("children"))


def rendered(lang: str = "zh", aspect: str | None = None) -> list[dict[str, Any]]:
    settings = load_settings(path=None, environ={})
    return list(walk(wall.layout(settings, lang, {"name_zh": "江城市", "name_en": "Jiangcheng"}, aspect)))


LAYOUTS = {(lang, aspect): rendered(lang, aspect) for lang in LANGS for aspect in (None, "32x9")}


def by_id(props: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in props if isinstance(p.get("id"), str)}


def subtree(props: list[dict[str, Any]], element_id: str) -> list[dict[str, Any]]:
    root = by_id(props)[element_id]
    return list(walk(root.get("children"))) + [root]


# --- ids --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", list(LAYOUTS), ids=lambda k: f"{k[0]}-{k[1] or 'auto'}")
def test_every_contract_id_is_rendered(key: tuple[str, str | None]) -> None:
    ids = by_id(LAYOUTS[key])
    missing = [i for i in contract.element_ids() if i not in ids]
    assert missing == [], missing


def test_every_contract_id_is_used_by_the_scripts() -> None:
    unused = []
    for element_id in contract.element_ids():
        prefix = next((p for p in contract.ID_FAMILIES if element_id.startswith(p)), None)
        if element_id not in LITERALS and not (prefix and prefix in LITERALS) and f"#{element_id}" not in ALL_JS:
            unused.append(element_id)
    assert unused == [], unused


def test_the_scripts_look_up_no_id_outside_the_contract() -> None:
    contract_ids = (set(contract.element_ids()) | set(contract.ID_FAMILIES) | set(contract.desk_element_ids())
                    | set(contract.DESK_ID_FAMILIES) | set(contract.DESK_OPTIONAL_FAMILIES)
                    | set(contract.replay_element_ids()) | set(contract.REPLAY_ID_FAMILIES)  # tests/unit/test_replay_contract.py
                    | set(contract.BRIEFING_ELEMENT_IDS))  # tests/unit/test_briefing_contract.py
    looked_up = set(re.findall(r'(?:byId|getElementById)\(\s*"([^"]+)"', ALL_JS))
    assert looked_up, "the pattern finds the scripts' look-ups"
    assert looked_up <= contract_ids, sorted(looked_up - contract_ids)
    # Any other literal that is an id of the page (a table of ids, a selector) is the contract's too.
    page_ids = set().union(*(by_id(p) for p in LAYOUTS.values()))
    used = {lit for lit in LITERALS if lit in page_ids} | {m for m in re.findall(r"#(gw-[\w-]+)", ALL_JS) if m in page_ids}
    assert used <= contract_ids, sorted(used - contract_ids)


@pytest.mark.parametrize("lang", LANGS)
def test_every_desk_id_is_rendered_and_used(lang: str) -> None:
    """The desk's ids (dashboard/contract.py DESK_*): each rendered by layouts/desk.py, each used
    by the scripts, and the contract on the root."""
    settings = load_settings(path=None, environ={})
    principal = Principal("user", 1, "王值班", None)
    props = list(walk(desk.layout(settings, lang, principal)))
    ids = by_id(props)
    assert [i for i in contract.desk_element_ids() if i not in ids] == []
    unused = [i for i in contract.desk_element_ids() if i not in LITERALS and f"#{i}" not in ALL_JS
              and not any(i.startswith(p) and p in LITERALS for p in contract.DESK_ID_FAMILIES)]
    assert unused == []
    for element_id, attrs in contract.DESK_DATA_ATTRS_READ.items():
        assert all(a in ids[element_id] for a in attrs), element_id
    # The export links: rendered for a role that may export, and only then.
    assert not any(i.startswith(tuple(contract.DESK_OPTIONAL_FAMILIES)) for i in ids)
    leader = Principal("user", 2, "李领导", load_roles()["leader"])
    with_exports = by_id(list(walk(desk.layout(settings, lang, leader))))
    assert {p + k for p, parts in contract.DESK_OPTIONAL_FAMILIES.items() for k in parts[0]} <= set(with_exports)
    carried = orjson.loads(ids["gw-desk"]["data-contract"])
    assert set(carried["words"]) == set(contract.DESK_WORDS) and carried["lang"] == lang


def test_every_id_family_covers_its_keys() -> None:
    ids = by_id(LAYOUTS[("zh", None)])
    for prefix in contract.ID_FAMILIES:
        family = list(contract.family_ids(prefix))
        assert family and all(i in ids for i in family), prefix
    assert contract.VEHICLE_ROWS[:-1] == contract.VEHICLE_SUBTYPES
    assert set(contract.LOADING_PANELS) | set(contract.LOADING_PANELS.values()) <= set(contract.ELEMENT_IDS)


# --- data-* attributes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", list(LAYOUTS), ids=lambda k: f"{k[0]}-{k[1] or 'auto'}")
def test_every_attribute_the_scripts_read_is_rendered(key: tuple[str, str | None]) -> None:
    props = LAYOUTS[key]
    for element_id, attrs in contract.DATA_ATTRS_READ.items():
        own = by_id(props)[element_id]
        inside = subtree(props, element_id)
        for attr in attrs:
            # On the element itself; data-view also on the views and dots inside it.
            assert attr in own or any(attr in p for p in inside), (element_id, attr)


def test_every_attribute_is_used_by_the_scripts() -> None:
    named = ({a for attrs in contract.DATA_ATTRS_READ.values() for a in attrs} | set(contract.DATA_ATTRS_WRITTEN)
             | {a for attrs in contract.DESK_DATA_ATTRS_READ.values() for a in attrs}
             | {a for attrs in contract.BRIEFING_DATA_ATTRS_READ.values() for a in attrs})  # test_briefing_contract.py
    missing = sorted(a for a in named if a not in LITERALS)
    assert missing == [], missing
    read = set(re.findall(r'getAttribute\(\s*"(data-[\w-]+)"', ALL_JS)) | set(re.findall(r'canvasAttr\(\s*"(data-[\w-]+)"', ALL_JS))
    written = set(re.findall(r'setAttribute\(\s*"(data-[\w-]+)"', ALL_JS))
    assert read and written
    assert read <= named, sorted(read - named)
    assert written <= set(contract.DATA_ATTRS_WRITTEN), sorted(written - set(contract.DATA_ATTRS_WRITTEN))


def test_the_layout_sets_no_data_attribute_outside_the_contract() -> None:
    named = {a for attrs in contract.DATA_ATTRS_READ.values() for a in attrs}
    for props in LAYOUTS.values():
        for p in props:
            extra = {k for k in p if k.startswith("data-")} - named - {"data-dash-is-loading"}
            assert not extra, (p.get("id"), extra)


# --- values and words ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_the_page_carries_the_contract(lang: str) -> None:
    canvas = by_id(LAYOUTS[(lang, None)])["gw-canvas"]
    carried = orjson.loads(canvas["data-contract"])
    assert carried == orjson.loads(orjson.dumps(contract.page_contract(lang)))
    assert carried["offline_after_s"] == contract.OFFLINE_AFTER_S
    assert carried["vehicle_subtypes"] == list(contract.VEHICLE_SUBTYPES)
    assert set(carried["words"]) == set(contract.JS_WORDS)
    assert all(isinstance(w, str) and w for w in carried["words"].values())


def words_used(source: str) -> set[str]:
    used = set(re.findall(r'gw\.word\(\s*"(\w+)"\s*[,)]', source)) | set(re.findall(r"\bwords(?:\(\))?\.(\w+)", source))
    return used | set(re.findall(r'words(?:\(\))?\[\s*"(\w+)"\s*\]', source))


def test_every_word_the_scripts_use_is_in_the_contract() -> None:
    # Each page carries its own words: the wall's scripts JS_WORDS, the desk's DESK_WORDS.
    desk_js = "\n".join(src for name, src in JS.items() if name.startswith("gridwall-desk"))
    # (The replay's scripts carry their own words: tests/unit/test_replay_contract.py.)
    # (The briefing's too: tests/unit/test_briefing_contract.py.)
    used = words_used("\n".join(src for name, src in JS.items()
                                 if not name.startswith(("gridwall-desk", "gridwall-replay", "gridwall-briefing"))))
    assert {"not_ready", "no_alerts", "history_loading", "seconds_ago"} <= used, "the patterns find the scripts' words"
    assert used <= set(contract.JS_WORDS), sorted(used - set(contract.JS_WORDS))
    desk_used = words_used(desk_js)
    assert {"desk_total", "overdue_for"} <= desk_used
    assert desk_used <= set(contract.DESK_WORDS), sorted(desk_used - set(contract.DESK_WORDS))
    assert {f"light_{v}" for v in ("red", "yellow", "green", "grey", "none")} <= set(contract.DESK_WORDS)
    for key in contract.DESK_WORDS:
        assert set(TEXT[key]) == set(LANGS), key
    # Built from a prefix: a badge per ticker severity, a name per watched feed.
    assert {f"sev_{s}" for s in ("critical", "alert", "detection", "urgent")} <= set(contract.JS_WORDS)
    assert {f"feed_{f}" for f in FEEDS} <= set(contract.JS_WORDS)
    for key in contract.JS_WORDS:
        assert set(TEXT[key]) == set(LANGS), key


def test_no_word_in_the_scripts_bypasses_i18n() -> None:
    """No Chinese in the scripts' code (their comments may quote the wall): every word they
    write comes from the contract's words."""
    hits = [f"{name}: {line.strip()}" for name, src in JS.items() for line in src.splitlines() if CJK.search(line)]
    assert hits == [], hits
    english = [w for w in ("s ago", "min ago", "h ago", "no data", "Loading", ":00") if w in LITERALS]
    assert english == [], english


def test_no_word_in_the_layouts_bypasses_i18n() -> None:
    """layouts/ writes words only through dashboard.i18n.t: no Chinese string in their code."""
    hits = []
    for path in sorted((ROOT / "layouts").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef) and n.body
                      and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings and CJK.search(node.value):
                hits.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert hits == [], hits


def test_the_scripts_keep_no_copy_of_the_contract_values() -> None:
    """The offline age and the subtype list come from the page, not from a copy in a script;
    the map draws each subtype of the contract with a style of its own."""
    assert not re.search(r"offlineAfterS\s*[:=]\s*\d|STALE_S", ALL_JS), "the offline age (OFFLINE_AFTER_S) copied into a script"
    listed = re.compile(r"\[\s*" + r"\s*,\s*".join(f'"{s}"' for s in contract.VEHICLE_SUBTYPES) + r"\s*\]")
    assert not listed.search(ALL_JS), "the subtype list copied into a script"
    styles = JS["gridwall-map-symbols.js"]
    for subtype in contract.VEHICLE_SUBTYPES:
        assert re.search(rf"\b{subtype}: \{{shape:", styles), f"no map symbol for {subtype}"


# --- the poll's fields ---------------------------------------------------------------------------------

def test_the_scripts_read_the_polls_fields() -> None:
    for group, fields in contract.POLL_FIELDS.items():
        for field in fields:
            assert re.search(rf'(?:\.{field}\b|"{field}"|\b{field}:)', ALL_JS), (group, field)


def test_the_poll_sends_its_top_level_fields() -> None:
    source = (ROOT / "dashboard" / "poll.py").read_text(encoding="utf-8")
    for group in ("poll", "live"):
        for field in contract.POLL_FIELDS[group]:
            if field == "deltas" or field == "full":
                assert f'"{field}":[' in source, field
            else:
                assert f'"{field}":' in source, field
