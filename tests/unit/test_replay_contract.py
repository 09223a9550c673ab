"""The replay page's side of the contract (dashboard/contract.py REPLAY_*, docs/contract.md):
every id it names is rendered by layouts/replay.py and used by the scripts, the page carries its
words and they are all the scripts write, the attributes the scripts read are on the elements,
and the words are there in both languages."""

from __future__ import annotations

import orjson
import pytest
from test_contract import JS, LITERALS, by_id, walk, words_used

from dashboard import contract
from dashboard.access.principal import Principal
from dashboard.config import load_settings
from dashboard.i18n import LANGS, TEXT
from layouts import replay

NOW = 1_795_132_800.0  # 2026-11-20 08:00 in Shanghai
REPLAY_JS = "\n".join(src for name, src in JS.items() if name.startswith("gridwall-replay"))


def rendered(lang: str) -> list[dict]:
    settings = load_settings(path=None, environ={})
    return list(walk(replay.layout(settings, lang, Principal("user", 1, "王值班", None), NOW)))


@pytest.mark.parametrize("lang", LANGS)
def test_every_replay_id_is_rendered_and_used(lang: str) -> None:
    ids = by_id(rendered(lang))
    assert [i for i in contract.replay_element_ids() if i not in ids] == []
    unused = [i for i in contract.replay_element_ids() if i not in LITERALS and f"#{i}" not in REPLAY_JS
              and not any(i.startswith(p) and p in LITERALS for p in contract.REPLAY_ID_FAMILIES)]
    assert unused == []
    for element_id, attrs in contract.REPLAY_DATA_ATTRS_READ.items():
        assert all(a in ids[element_id] for a in attrs), element_id
    carried = orjson.loads(ids["gw-replay"]["data-contract"])
    assert set(carried["words"]) == set(contract.REPLAY_WORDS) and carried["lang"] == lang
    assert carried["vehicle_subtypes"] == list(contract.VEHICLE_SUBTYPES)
    # The first window: the last hour, and last night 21:00-06:00, in the city's time.
    assert carried["defaults"]["night_from"] == "2026-11-19T21:00" and carried["defaults"]["night_to"] == "2026-11-20T06:00"
    assert carried["defaults"]["from"] == "2026-11-20T07:00" and carried["defaults"]["to"] == "2026-11-20T08:00"
    # The player offers 1-60x.
    speeds = [p["value"] for p in walk(ids["gw-r-speed"]["children"])]
    assert speeds == [str(s) for s in contract.REPLAY_SPEEDS] and speeds[0] == "1" and speeds[-1] == "60"


def test_the_replay_scripts_write_only_the_replay_words() -> None:
    used = words_used(REPLAY_JS)
    assert {"replay_play", "replay_pause", "replay_summary"} <= used, "the patterns find the scripts' words"
    assert used <= set(contract.REPLAY_WORDS), sorted(used - set(contract.REPLAY_WORDS))
    for key in contract.REPLAY_WORDS:
        assert set(TEXT[key]) == set(LANGS), key
    # The layout's own words, both languages.
    for key in (k for k in TEXT if k.startswith("replay_")):
        assert set(TEXT[key]) == set(LANGS), key


def test_the_desk_links_to_the_replay() -> None:
    from layouts import desk

    settings = load_settings(path=None, environ={})
    for lang, href in (("zh", "/desk/replay"), ("en", "/desk/replay?lang=en")):
        links = [p.get("href") for p in walk(desk.layout(settings, lang, Principal("user", 1, "王值班", None)))]
        assert href in links
