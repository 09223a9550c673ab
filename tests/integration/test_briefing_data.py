"""The briefing's bytes (docs/briefing.md, docs/masking.md), on both stacks: a masked briefing's
page, its scenes' data and its poll hold no name, phone, device id or exact address of the
fixtures (tests/briefing_support.py), whoever asks; ``[briefing] masked = false`` for an
unmasked role does show them (so the check can fail); the scenes carry what they show; the
briefing screen's role sees the briefing and nothing else; the desk chooses the case story; a bad
scene list stops the start with what and where."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest
from briefing_support import NAME, PERSONAL, STORY, Site, seed
from desk_support import Desk
from helpers import TEST_TOKEN, grant

from dashboard.app import create_app
from dashboard.briefing_config import BriefingConfigError

pytestmark = pytest.mark.parametrize("stack", ["embedded", "production"], indirect=True)
BRIEFING_TOKEN = "gridwall-tests-briefing-3c5e7a9b1d2f4e6a"
WALL_TOKEN = "gridwall-tests-wall-8d6f4b2a0c9e7a5b"


def five(settings):
    """The city's rule names the top and bottom five ([casework] bottom_units; 3 [D])."""
    return dataclasses.replace(settings, sections={**settings.sections,
                                                   "casework": {**settings.section("casework"), "bottom_units": 5}})


@pytest.fixture
def site(stack, tmp_path: Path) -> Site:
    s = seed(five(stack.settings(tmp_path)), cases_per_day=60)
    grant(s.settings.resolved_database_url)  # admin: an unmasked role
    grant(s.settings.resolved_database_url, role="briefing", token=BRIEFING_TOKEN)
    grant(s.settings.resolved_database_url, role="wall", token=WALL_TOKEN)
    return s


def fetch(client, token: str, path: str, html: bool = False) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}", **({"Accept": "text/html"} if html else {})}
    resp = client.get(path, headers=headers)
    return resp.status_code, resp.data


def briefing_bytes(client, token: str) -> dict[str, bytes]:
    """Everything a briefing screen is sent: the page, its layout, its data, its poll."""
    out = {}
    for path, html in (("/briefing", True), ("/_dash-layout", False), ("/briefing/data", False),
                       ("/briefing/poll?v=&b=", False)):
        status, body = fetch(client, token, path, html)
        assert status == 200, (path, status, body[:200])
        out[path] = body
    return out


def leaks(blobs: dict[str, bytes]) -> list[tuple[str, str]]:
    return [(path, value) for path, body in blobs.items() for value in PERSONAL
            if value.encode() in body or orjson.dumps(value)[1:-1] in body]


def test_a_masked_briefing_sends_nothing_personal(site: Site) -> None:
    client = create_app(site.settings).server.test_client()
    for token in (BRIEFING_TOKEN, TEST_TOKEN):  # masked by the role, and by [briefing] masked for an admin
        blobs = briefing_bytes(client, token)
        # (/_dash-layout is the briefing's only for the page Dash was last asked for: ask it after.)
        assert leaks(blobs) == []
        data = orjson.loads(blobs["/briefing/data"])
        assert data["masked"] is True
        poll = orjson.loads(blobs["/briefing/poll?v=&b="])
        ids = [d["id"] for d in poll["live"]["full"]]
        assert ids and all("-" in i for i in ids), ids  # aliases, never the ids
        story = data["data"]["case-week"]
        assert story["found"] and "title" not in story and story["media"] == []
        assert story["address"].endswith("解放路") and "123" not in story["address"]


def test_the_unmasked_briefing_shows_them_so_the_check_can_fail(site: Site) -> None:
    settings = dataclasses.replace(site.settings, sections={**site.settings.sections, "briefing": {"masked": False}})
    client = create_app(settings).server.test_client()
    status, body = fetch(client, TEST_TOKEN, "/briefing/data")
    assert status == 200 and NAME.encode() in body  # the story's title, for an unmasked role
    status, body = fetch(client, BRIEFING_TOKEN, "/briefing/data")
    assert status == 200 and NAME.encode() not in body  # a masked role stays masked


def test_the_scenes_carry_their_figures(site: Site) -> None:
    client = create_app(site.settings).server.test_client()
    data = orjson.loads(fetch(client, BRIEFING_TOKEN, "/briefing/data")[1])
    keys = [s["key"] for s in data["scenes"]]
    assert keys == ["city", "today", "trend-month", "evaluation", "case-week", "supervision-week", "video-week"]
    d = data["data"]
    assert d["city"]["grids"] == 4988 and d["city"]["streets"] == 12 and d["city"]["area_km2"] > 0
    assert d["city"]["collectors"] >= 1 and d["city"]["vehicles"] >= 1 and d["city"]["year_reported"] > 0
    trend = d["trend-month"]
    assert len(trend["points"]) == 12 and trend["points"][-1]["partial"] and trend["targets"]["close_rate"] == 90.0
    tables = d["evaluation"]["tables"]
    assert [t["period"] for t in tables] == ["month", "quarter"]
    for table in tables:
        ranked = [r for r in table["rows"] if r["pos"] is not None]
        marks = [r["mark"] for r in ranked]
        k = d["evaluation"]["highlight"]
        assert marks[:k] == ["top"] * k and marks[-k:] == ["bottom"] * k, marks  # 15 departments: five and five
    assert d["supervision-week"]["total"] == 6 and d["supervision-week"]["muck_truck"] == 6
    assert d["video-week"]["total"] == 9 and d["video-week"]["severity"] == {"critical": 3, "alert": 3, "detection": 3}
    story = d["case-week"]
    assert story["found"] and story["urgent"] and story["took_s"] == 3300
    assert [s["stage"] for s in story["steps"]][:2] == ["accept", "file"]


def test_the_briefing_role_sees_the_briefing_only(site: Site) -> None:
    client = create_app(site.settings).server.test_client()
    assert fetch(client, BRIEFING_TOKEN, "/wall/poll")[0] == 403
    assert fetch(client, BRIEFING_TOKEN, "/desk/api/board")[0] == 403
    assert fetch(client, WALL_TOKEN, "/briefing/data")[0] == 403
    assert fetch(client, WALL_TOKEN, "/briefing/poll")[0] == 403
    assert fetch(client, "", "/briefing/data")[0] == 401


def test_the_desk_chooses_the_case_story(site: Site) -> None:
    app = create_app(site.settings)
    desk = Desk(app.server, TEST_TOKEN)
    assert desk.post("/desk/api/act/briefing-case", {"case_id": STORY}, csrf=False)[0] == 400  # CSRF
    status, body = desk.post("/desk/api/act/briefing-case", {"case_id": STORY})
    assert status == 200 and body == {"case_id": STORY}
    open_case = next(d["case_id"] for d in site.hot.open_cases())
    assert desk.post("/desk/api/act/briefing-case", {"case_id": open_case})[0] == 409
    assert desk.post("/desk/api/act/briefing-case", {"case_id": "NO-SUCH"})[0] == 404
    story = orjson.loads(fetch(app.server.test_client(), BRIEFING_TOKEN, "/briefing/data")[1])["data"]["case-week"]
    assert story["by"] == "desk" and story["took_s"] == 3300
    assert desk.post("/desk/api/act/briefing-case", {"case_id": None})[0] == 200
    briefing = Desk(app.server, BRIEFING_TOKEN)
    assert briefing.post("/desk/api/act/briefing-case", {"case_id": STORY})[0] == 403


@pytest.mark.parametrize("section, says", [
    ({"scenes": [{"kind": "weather", "seconds": 10}]}, "kind = 'weather'"),
    ({"scenes": [{"kind": "trend", "seconds": 2}]}, "seconds = 2"),
    ({"scenes": [{"kind": "trend", "seconds": 10, "period": "day"}]}, "period = 'day'"),
    ({"scenes": [{"kind": "case", "seconds": 10, "district": "999999"}]}, "district = '999999'"),
    # How many top and bottom units are named is the city's one rule, [casework] bottom_units.
    ({"highlight": 5}, "unknown key 'highlight'"),
    ({"scenes": []}, "at least one scene"),
])
def test_a_bad_scene_list_stops_the_start(site: Site, section: dict, says: str) -> None:
    with pytest.raises(BriefingConfigError, match=says.replace("(", r"\(")):
        create_app(dataclasses.replace(site.settings, sections={**site.settings.sections, "briefing": section}))
