"""dashboard/access/scope.py: which docs a district-limited principal sees, and how a delta and
the whole picture are cut to its districts."""

from __future__ import annotations

from dashboard.access.principal import Principal
from dashboard.access.scope import CITY_SCOPE, Scope

MINE, OTHER = "33990200100101", "33990300100101"


def test_the_whole_city_sees_everything_and_an_empty_list_is_the_whole_city() -> None:
    assert Scope.of(None) is CITY_SCOPE and Scope.of([]) is CITY_SCOPE and Scope.of([""]) is CITY_SCOPE
    assert CITY_SCOPE.sees({}) and CITY_SCOPE.key == "city"
    payload = {"devices": [{"id": "C1"}], "cases": [{"case_id": "K1"}]}
    assert CITY_SCOPE.live(payload) is payload


def test_a_doc_is_placed_by_its_district_or_its_grid() -> None:
    scope = Scope.of(["339902"])
    assert scope.sees({"case_id": "K1", "district": "339902", "grid_code": OTHER}), "a case's own district first"
    assert scope.sees({"id": "C1", "grid_code": MINE}) and not scope.sees({"id": "C2", "grid_code": OTHER})
    assert not scope.sees({"id": "C3"}), "a device with no grid is nowhere: not in the scope"
    assert not scope.sees({"id": "C4", "grid_code": "not a grid"})
    assert scope.sees_area("339902") and scope.sees_area("339902001") and not scope.sees_area("339903001")


def test_the_key_names_the_set_of_districts_not_their_order() -> None:
    assert Scope.of(["339902", "339903"]).key == Scope.of(["339903", "339902", "339903"]).key != Scope.of(["339902"]).key
    assert len(Scope.of(["339902"]).key) == 12 and Scope.of(["339903", "339902"]).codes == ["339902", "339903"]


def test_a_delta_keeps_the_scopes_docs_and_removes_the_devices_that_left() -> None:
    scope = Scope.of(["339902"])
    delta = {"devices": [{"id": "C1", "grid_code": MINE}, {"id": "C2", "grid_code": OTHER}],
             "devices_gone": ["C9"],
             "cases": [{"case_id": "K2", "district": "339903"}], "cases_gone": ["K7"],
             "alerts": [{"alert_id": "A1", "grid_code": MINE}, {"alert_id": "A2", "grid_code": OTHER}]}
    assert scope.live(delta) == {"devices": [{"id": "C1", "grid_code": MINE}], "devices_gone": ["C9", "C2"],
                                 "cases_gone": ["K7"], "alerts": [{"alert_id": "A1", "grid_code": MINE}]}
    assert scope.live({"devices": [{"id": "C2", "grid_code": OTHER}]}) == {"devices_gone": ["C2"]}
    assert scope.live({"reset": True}) == {"reset": True}


def test_the_whole_picture_keeps_the_scopes_docs_and_their_trails() -> None:
    scope = Scope.of(["339902"])
    picture = {"v": 3, "full": [{"id": "C1", "grid_code": MINE}, {"id": "C2", "grid_code": OTHER}],
               "cases": [{"case_id": "K2", "district": "339903"}], "alerts": [], "trails": {"C1": "1,2", "C2": "3,4"}}
    assert scope.live(picture) == {"v": 3, "full": [{"id": "C1", "grid_code": MINE}], "cases": [], "alerts": [],
                                   "trails": {"C1": "1,2"}}


def test_a_principal_carries_its_scope() -> None:
    assert Principal("user", 1, "a", None, ("339902",)).scope == Scope.of(["339902"])
    assert Principal("user", 1, "a", None, None).scope is CITY_SCOPE
