"""The desk's actions and lists as data (dashboard/screens/desk_actions.py, weekly.py, desk.py's
CountedQuery): what each request may say, what each refusal says, and the messages they make."""

from __future__ import annotations

import orjson
import pytest

from dashboard.screens.desk import COUNTED, CountedQuery, QueryError
from dashboard.screens.desk_actions import (
    ActionError,
    AlertAct,
    alert_case_report,
    alert_message,
    case_id_for_alert,
    parse_alert_act,
    parse_send,
    parse_supervise,
    supervise_messages,
    task_message,
)
from dashboard.screens.weekly import WeekError, shift_week, week_bounds
from dashboard.store.counters_sql import case_conditions

NOW = 1_796_450_000.0  # 2026-12-04 (a Friday) 21:33 +08:00
TZ = "Asia/Shanghai"


def reason(call) -> str:
    with pytest.raises(ActionError) as exc:
        call()
    return exc.value.reason


def test_supervise_requests() -> None:
    ok = parse_supervise({"note": " 请尽快处理 ", "deadline_request": NOW + 3600, "version": 3}, NOW, needs_version=True)
    assert (ok.note, ok.deadline_request, ok.version) == ("请尽快处理", NOW + 3600, 3)
    assert reason(lambda: parse_supervise({"note": "x"}, NOW, needs_version=True)) == "bad_action"
    assert reason(lambda: parse_supervise({"note": "x", "version": True}, NOW, needs_version=True)) == "bad_action"
    assert reason(lambda: parse_supervise({"note": "x" * 501, "version": 1}, NOW, needs_version=True)) == "bad_note"
    assert reason(lambda: parse_supervise({"note": "x", "deadline_request": NOW - 1, "version": 1}, NOW,
                                          needs_version=True)) == "bad_deadline"
    [(topic, payload)] = supervise_messages(["K1"], ok, "李领导", NOW)
    event = orjson.loads(payload)
    assert topic == "gridwall/case/K1" and event["action"] == "supervise" and event["event_id"].startswith("desk-")
    assert event["case"] == {"note": "请尽快处理", "deadline_request": NOW + 3600}
    assert reason(lambda: supervise_messages(["a/b"], ok, "x", NOW)) == "bad_case_id"


def test_alert_requests_and_messages() -> None:
    act = parse_alert_act({"alert_id": "A1", "action": "dismiss", "reason": "误报"}, to_case=False)
    assert act == AlertAct("A1", "dismiss", "误报")
    assert parse_alert_act({"alert_id": "A1", "note": "堆放垃圾"}, to_case=True) == AlertAct("A1", "case", "堆放垃圾")
    assert reason(lambda: parse_alert_act({"alert_id": "A1", "action": "ack", "reason": " "}, to_case=False)) == "bad_reason"
    assert reason(lambda: parse_alert_act({"alert_id": "A1", "action": "end", "reason": "x"}, to_case=False)) == "bad_action"
    assert reason(lambda: parse_alert_act({"alert_id": "", "action": "ack", "reason": "x"}, to_case=False)) == "bad_alert_id"
    assert reason(lambda: parse_alert_act({"alert_id": "A1", "note": "x", "x": 1}, to_case=True)) == "bad_action"
    topic, payload = alert_message(act, "CAM01", "张值班", NOW)
    assert topic == "gridwall/alert/CAM01" and orjson.loads(payload)["action"] == "dismiss"
    assert reason(lambda: alert_message(act, "CAM/1", "x", NOW)) == "bad_alert_id"


def test_an_alert_becomes_a_video_event_case() -> None:
    case_id = case_id_for_alert("frigate-1718000000.1-abc", "20261204213320")
    assert case_id.startswith("V20261204213320") and len(case_id) == 19
    assert case_id == case_id_for_alert("frigate-1718000000.1-abc", "20261204213320"), "one alert, one number"
    alert = {"type": "暴露垃圾", "lat": 31.2, "lon": 121.4, "snapshot_url": "https://nvr/x.jpg"}
    topic, payload = alert_case_report(alert, case_id, "路口东侧", "张值班", NOW, "0102")
    event = orjson.loads(payload)
    assert topic == f"gridwall/case/{case_id}" and event["action"] == "report"
    assert event["case"] == {"source": "video", "category": "event", "title": "暴露垃圾", "description": "路口东侧",
                             "small_code": "0102", "lat": 31.2, "lon": 121.4, "media_url": "https://nvr/x.jpg"}


def test_a_supervision_alarm_becomes_a_case_from_a_sensor() -> None:
    alarm = {"type": "超时停车(疑似偷倒)", "rule": "stop", "lat": 30.26, "lon": 120.15}
    _topic, payload = alert_case_report(alarm, "V20261205120000ABCD", "", "张值班", NOW, None)
    assert orjson.loads(payload)["case"]["source"] == "sensor"


def test_send_requests_and_the_task() -> None:
    send = parse_send({"device_id": "C0012", "kind": "check", "case_id": "K1", "note": ""})
    assert (send.device_id, send.kind, send.note, send.case_id, send.alert_id) == ("C0012", "check", None, "K1", None)
    assert reason(lambda: parse_send({"device_id": "C0012", "kind": "verify"})) == "bad_action"
    assert reason(lambda: parse_send({"device_id": "C0012", "kind": "verify", "case_id": "K1", "alert_id": "A1"})) == \
        "bad_action"
    assert reason(lambda: parse_send({"device_id": "C+1", "kind": "verify", "case_id": "K1"})) == "bad_device"
    topic, payload = task_message(send, {"case_id": "K1", "lat": 31.2, "lon": 121.4, "title": None}, "张值班", NOW)
    task = orjson.loads(payload)
    assert topic == "gridwall/task/C0012" and task["kind_zh"] == "核查" and "title" not in task
    assert task["task_id"].startswith("desk-")


def test_weeks() -> None:
    label, start, end = week_bounds(None, NOW, TZ)
    assert label == "2026-W49" and end - start == 7 * 86400
    assert week_bounds("2026-W49", NOW, TZ) == (label, start, end)
    assert shift_week("2026-W01", -1) == "2025-W52" and shift_week("2026-W53", 1) == "2027-W01"
    for bad in ("2026-49", "2026-W54", "2026-W50"):
        with pytest.raises(WeekError):
            week_bounds(bad, NOW, TZ)


def test_a_counted_query_names_a_counter_a_period_and_one_object_or_none() -> None:
    assert set(part for parts in COUNTED.values() for part in parts) <= set(case_conditions())
    q = CountedQuery.from_args({"counter": "overdue_pending", "period": "month", "by": "department", "code": "HWC"})
    assert q.args() == {"counter": "overdue_pending", "period": "month", "by": "department", "code": "HWC"}
    for args, why in [({"counter": "x"}, "bad_counter"), ({"counter": "reported", "period": "decade"}, "bad_period"),
                      ({"counter": "reported", "by": "department"}, "bad_by"),
                      ({"counter": "reported", "by": "grid_code", "code": "1"}, "bad_by")]:
        with pytest.raises(QueryError) as exc:
            CountedQuery.from_args(args)
        assert exc.value.reason == why
