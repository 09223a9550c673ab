"""督办 from the desk (dashboard/desk_api.py, dashboard/screens/desk_actions.py), on the real
stack (both): the request is checked (role, CSRF, the case's version, the note), audited, put in
the outbox, published over MQTT by a real ingest worker, received back by it as a case event,
and then shows: in the case's stored events (the timeline), as the badge on the desk's list and
the wall's ticker. Every refusal changes nothing."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from desk_support import Desk, seeded_site
from helpers import eventually, grant, running_ingest

from dashboard.app import create_app
from dashboard.screens.wall import BoardMaker
from dashboard.store.accounts import Accounts
from dashboard.store.hot import HotStore
from dashboard.store.liverank import LiveRank
from dashboard.store.models import CaseEventRow
from dashboard.store.outbox import Outbox


@pytest.fixture
def site(stack, tmp_path: Path):
    yield from seeded_site(stack, tmp_path)


def test_supervise_goes_out_over_mqtt_comes_back_and_shows(site) -> None:
    settings, hot, engine = site
    app = create_app(settings).server
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "李领导", token=""))
    docs = hot.open_cases()
    case = next(d for d in docs if d.get("urgent") and d.get("state") == "in_disposal") if any(
        d.get("urgent") and d.get("state") == "in_disposal" for d in docs) else next(d for d in docs if d.get("state") == "in_disposal")
    status, page = leader.get(f"/desk/api/case/{case['case_id']}")
    assert status == 200
    version = page["case"]["version"]
    outbox = Outbox(engine)
    before = outbox.counts()

    status, body = leader.post("/desk/api/act/supervise", {"case_id": case["case_id"], "note": "今天下班前处理完，拍照反馈",
                                                           "deadline_request": time.time() + 3 * 3600, "version": version})
    assert status == 202 and body["queued"] == 1, body
    assert outbox.counts()["pending"] == before.get("pending", 0) + 1
    audit = [e for e in Accounts(engine).audit_log(10) if e.action == "supervise"]
    assert audit and audit[0].who.startswith("token:") and audit[0].detail["case_id"] == case["case_id"]

    with running_ingest(settings):
        # Published by the worker, received back by it as a case event, stored and applied.
        def stored() -> bool:
            from sqlalchemy import select
            with engine.connect() as conn:
                return conn.execute(select(CaseEventRow.action).where(CaseEventRow.event_id == body["event_id"])).first() is not None
        eventually(stored, 20, "the 督办 back through the case feed, in SQL")
        eventually(lambda: (hot_doc(hot, case["case_id"]) or {}).get("supervised") == 1, 10, "the hot doc's 督办 count")
        eventually(lambda: outbox.counts()["pending"] == before.get("pending", 0), 5, "marked sent on its PUBACK")
    # The timeline, the desk's list and (an urgent case) the wall's ticker show it.
    status, page = leader.get(f"/desk/api/case/{case['case_id']}")
    entry = page["entries"][-1]
    assert (entry["action"], entry["action_zh"], entry["note"], entry["marks"]) == (
        "supervise", "督办", "今天下班前处理完，拍照反馈", ["supervise"])
    assert entry["actor"] == "李领导" and page["case"]["supervisions"] == 1
    status, listed = leader.get(f"/desk/api/cases?text={case['case_id']}")
    assert listed["rows"][0]["supervised"] == 1
    if case.get("urgent"):
        board = BoardMaker(hot, engine, settings, LiveRank(hot.r, settings.timezone)).build(time.time())
        assert next(i for i in board["ticker"] if i["id"] == case["case_id"])["sup"] == 1


def hot_doc(hot: HotStore, case_id: str) -> dict | None:
    return next((d for d in hot.open_cases() if d["case_id"] == case_id), None)


def test_every_refusal_is_clear_and_changes_nothing(site) -> None:
    settings, hot, engine = site
    app = create_app(settings).server
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "leader", token=""))
    viewer = Desk(app, grant(settings.resolved_database_url, "viewer", "viewer", token=""))
    docs = hot.open_cases()
    case = docs[0]
    version = leader.get(f"/desk/api/case/{case['case_id']}")[1]["case"]["version"]
    good = {"case_id": case["case_id"], "note": "请尽快处理", "version": version}
    outbox = Outbox(engine)
    before = outbox.counts()

    refusals = [
        (viewer.post("/desk/api/act/supervise", good), 403, "forbidden"),  # the request itself, not only the button
        (leader.post("/desk/api/act/supervise", good, csrf=False), 400, "csrf"),
        (leader.post("/desk/api/act/supervise", {**good, "note": ""}), 400, "bad_note"),
        (leader.post("/desk/api/act/supervise", {**good, "note": "x" * 501}), 400, "bad_note"),
        (leader.post("/desk/api/act/supervise", {**good, "note": "a\x00b"}), 400, "bad_note"),
        (leader.post("/desk/api/act/supervise", {**good, "version": version - 1}), 409, "stale"),
        (leader.post("/desk/api/act/supervise", {**good, "case_id": "NO-SUCH"}), 404, "no_such_case"),
        (leader.post("/desk/api/act/supervise", {**good, "case_id": "x" * 300}), 400, "bad_case_id"),
        (leader.post("/desk/api/act/supervise", {**good, "deadline_request": time.time() - 60}), 400, "bad_deadline"),
        (leader.post("/desk/api/act/supervise", {**good, "deadline_request": time.time() + 400 * 86400}), 400, "bad_deadline"),
        (leader.post("/desk/api/act/supervise", {**good, "sql": "drop"}), 400, "bad_action"),
        (leader.post("/desk/api/act/supervise", ["not", "an", "object"]), 400, "bad_case_id"),
        (leader.post("/desk/api/act/supervise-department", {"department": "NOPE", "note": "x"}), 409, "nothing_overdue"),
    ]
    for (status, body), want_status, want_reason in refusals:
        assert (status, body.get("reason")) == (want_status, want_reason), body
    assert outbox.counts() == before, "no refusal queued anything"
    refused = [e for e in Accounts(engine).audit_log(50) if e.action == "csrf_refused"]
    assert refused


def test_a_department_is_pressed_on_for_exactly_its_overdue_cases(site) -> None:
    settings, hot, engine = site
    app = create_app(settings).server
    leader = Desk(app, grant(settings.resolved_database_url, "leader", "leader", token=""))
    status, listed = leader.get("/desk/api/cases?light=red&limit=100")
    department = next(r["department"] for r in listed["rows"] if r["department"])
    overdue = leader.get(f"/desk/api/cases?light=red&department={department}&limit=100")[1]
    outbox = Outbox(engine)
    before = outbox.counts().get("pending", 0)
    status, body = leader.post("/desk/api/act/supervise-department", {"department": department, "note": "本周清零"})
    assert status == 202 and body["queued"] == overdue["total"] > 0
    pending = outbox.pending(1000)
    assert len(pending) == before + overdue["total"]
    sent = {orjson.loads(m.payload)["case_id"] for m in pending}
    assert sent >= {r["case_id"] for r in overdue["rows"]}
    assert all(m.topic == f"gridwall/case/{orjson.loads(m.payload)['case_id']}" for m in pending)
