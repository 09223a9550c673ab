"""The desk's actions as data: what a request asks for, checked, and the case events it sends.

An action leaves through the outbox (dashboard/store/outbox.py): the web writes the messages to
SQL, and the ingest worker publishes them over MQTT (feeds/outbox.py), because nothing in
dashboard/ talks MQTT. A 督办 is a case event (``supervise``, docs/mqtt.md §3.3) on the case's
own topic: the city's case system receives it, and gridwall's own ingest takes it back like any
case event, so the timeline, the case's count of 督办 and the badges on the desk and the wall
come from the one feed (docs/desk.md "督办").

Pure: no I/O; ``now`` is a parameter.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from dashboard.casework.actions import Action
from dashboard.records import CASE_TOPIC

NOTE_MAX = 500  # characters: an instruction, not a report (the case feed's own bound is 2,000)
REQUEST_MAX_S = 90 * 86400  # a deadline asked for at most 90 days ahead
DEPARTMENT_MAX = 500  # cases pressed at once by a 督办 of a department
TOPIC_UNSAFE = ("/", "+", "#", "\x00")  # a case id that would not be one topic level


class ActionError(ValueError):
    """An action the desk refuses; ``reason`` is the word the page shows (dashboard/i18n.py)."""

    def __init__(self, reason: str, detail: str, status: int = 400) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.status = status


@dataclass(frozen=True, slots=True)
class Supervise:
    note: str
    deadline_request: float | None
    version: int | None  # the case's version the leader saw (None for a department's 督办)


def _fields(body: Any, allowed: set[str]) -> Mapping[str, Any]:
    """A request's JSON body: an object of known fields only."""
    if not isinstance(body, Mapping):
        raise ActionError("bad_action", "the body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ActionError("bad_action", f"unknown field {unknown[0][:32]!r}")
    return body


def _text(body: Mapping[str, Any], key: str, reason: str, limit: int) -> str:
    """A field of words a person typed: not empty, at most ``limit`` characters, no control
    character but a newline or a tab; trimmed."""
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ActionError(reason, f"{key}: some words are needed")
    value = value.strip()
    if len(value) > limit:
        raise ActionError(reason, f"{key} has {len(value)} characters; at most {limit}")
    if any(not (ch.isprintable() or ch in "\n\t") for ch in value):
        raise ActionError(reason, f"{key} holds a control character")
    return value


def check_topic_level(value: str, reason: str, what: str) -> None:
    """An id that goes into a topic must be one level of it (no separator, no wildcard)."""
    if any(ch in value for ch in TOPIC_UNSAFE):
        raise ActionError(reason, f"{what} cannot be a topic level")


def parse_supervise(body: Any, now: float, *, needs_version: bool) -> Supervise:
    """A 督办 request's JSON body: ``{"note": text, "deadline_request": epoch s or null,
    "version": int}``, refused with a reason when it is not one."""
    body = _fields(body, {"note", "deadline_request", "version"})
    note = _text(body, "note", "bad_note", NOTE_MAX)
    request = body.get("deadline_request")
    if request is not None:
        if isinstance(request, bool) or not isinstance(request, int | float) or request != request:
            raise ActionError("bad_deadline", "deadline_request must be epoch seconds")
        if not now < request <= now + REQUEST_MAX_S:
            raise ActionError("bad_deadline", "deadline_request must be in the next 90 days")
    version = body.get("version")
    if needs_version and (isinstance(version, bool) or not isinstance(version, int) or version < 0):
        raise ActionError("bad_action", "version: the case's version as the page showed it")
    return Supervise(note, float(request) if request is not None else None, version if needs_version else None)


def check_topic_safe(case_id: str) -> None:
    check_topic_level(case_id, "bad_case_id", "this case id (act on it in the case system)")


def supervise_messages(case_ids: Sequence[str], request: Supervise, actor: str, now: float) -> list[tuple[str, bytes]]:
    """One ``supervise`` case event per case, as (topic, payload) for the outbox. The event id is
    new and random: a receiver dedupes a redelivery by it."""
    case: dict[str, Any] = {"note": request.note}
    if request.deadline_request is not None:
        case["deadline_request"] = request.deadline_request
    out = []
    for case_id in case_ids:
        check_topic_safe(case_id)
        payload = {"event_id": f"desk-{uuid.uuid4().hex}", "case_id": case_id, "action": Action.SUPERVISE.value,
                   "time": round(now, 3), "actor": actor, "case": case}
        out.append((CASE_TOPIC.format(case_id=case_id), orjson.dumps(payload)))
    return out


# --- video alerts: acknowledge, dismiss, turn into a case (docs/desk.md "Alerts") -------------

ALERT_TOPIC = "gridwall/alert/{camera_id}"  # where a handling is announced (docs/mqtt.md §3.4)
REASON_MAX = 200
ALERT_ACTIONS = ("ack", "dismiss")


@dataclass(frozen=True, slots=True)
class AlertAct:
    alert_id: str
    action: str  # ack | dismiss | case
    reason: str


def parse_alert_act(body: Any, *, to_case: bool) -> AlertAct:
    """``{"alert_id", "action": "ack"|"dismiss", "reason"}``, or for a case ``{"alert_id", "note"}``."""
    body = _fields(body, {"alert_id", "note"} if to_case else {"alert_id", "action", "reason"})
    alert_id = body.get("alert_id")
    if not isinstance(alert_id, str) or not alert_id or len(alert_id) > 128:
        raise ActionError("bad_alert_id", "alert_id: the alert's id")
    if to_case:
        return AlertAct(alert_id, "case", _text(body, "note", "bad_note", NOTE_MAX))
    action = body.get("action")
    if action not in ALERT_ACTIONS:
        raise ActionError("bad_action", "action: ack or dismiss")
    return AlertAct(alert_id, str(action), _text(body, "reason", "bad_reason", REASON_MAX))


def alert_message(act: AlertAct, camera_id: str, actor: str, now: float, case_id: str | None = None) -> tuple[str, bytes]:
    """The handling, announced to the video platform on the camera's topic."""
    check_topic_level(camera_id, "bad_alert_id", "this alert's camera")
    payload: dict[str, Any] = {"event_id": f"desk-{uuid.uuid4().hex}", "alert_id": act.alert_id, "camera_id": camera_id,
                               "action": act.action, "reason": act.reason, "actor": actor, "time": round(now, 3)}
    if case_id is not None:
        payload["case_id"] = case_id
    return ALERT_TOPIC.format(camera_id=camera_id), orjson.dumps(payload)


def case_id_for_alert(alert_id: str, local_stamp: str) -> str:
    """A new case's number for an alert: ``V`` + the local time (yyyymmddHHMMSS) + 4 hex of the
    alert's id, so that two alerts of the same second differ and one alert always gives the same."""
    return f"V{local_stamp}{hashlib.sha256(alert_id.encode()).hexdigest()[:4].upper()}"


def alert_case_report(alert: Mapping[str, Any], case_id: str, note: str, actor: str, now: float,
                      small_code: str | None) -> tuple[str, bytes]:
    """The case report (上报, source 视频, or 物联 for a supervision alarm) an alert becomes: its type
    as the category, its place, its snapshot as the media, the dispatcher's note as the description."""
    check_topic_safe(case_id)
    # A video alert is an event (事件) problem; its small class is the catalogue's mapping of its type.
    # A supervision alarm (a vehicle's GPS terminal, a collector's handheld: docs/supervision.md)
    # comes from a device, not a camera: its case's source is the sensor group.
    source = "sensor" if alert.get("rule") else "video"
    case: dict[str, Any] = {"source": source, "category": "event", "title": alert["type"], "description": note}
    if small_code:
        case["small_code"] = small_code
    if alert.get("lat") is not None and alert.get("lon") is not None:
        case["lat"], case["lon"] = alert["lat"], alert["lon"]
    if alert.get("snapshot_url"):
        case["media_url"] = alert["snapshot_url"]
    payload = {"event_id": f"desk-{uuid.uuid4().hex}", "case_id": case_id, "action": Action.REPORT.value,
               "time": round(now, 3), "actor": actor, "case": case}
    return CASE_TOPIC.format(case_id=case_id), orjson.dumps(payload)


# --- a collector sent to look: 核实 (is it there?) or 核查 (is it fixed?) -------------------------

TASK_TOPIC = "gridwall/task/{device_id}"  # the collector's handheld reads its own (docs/mqtt.md §3.4)
TASK_KINDS = {"verify": ("核实", "verify"), "check": ("核查", "check")}


@dataclass(frozen=True, slots=True)
class Send:
    device_id: str
    kind: str  # verify | check
    note: str | None
    case_id: str | None
    alert_id: str | None


def parse_send(body: Any) -> Send:
    """``{"device_id", "kind": "verify"|"check", "note"?, and "case_id" or "alert_id"}``."""
    body = _fields(body, {"device_id", "kind", "note", "case_id", "alert_id"})
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not device_id or len(device_id) > 64:
        raise ActionError("bad_device", "device_id: the collector's id")
    check_topic_level(device_id, "bad_device", "this collector's id")
    kind = body.get("kind")
    if kind not in TASK_KINDS:
        raise ActionError("bad_action", "kind: verify (核实) or check (核查)")
    case_id, alert_id = body.get("case_id"), body.get("alert_id")
    if (case_id is None) == (alert_id is None):
        raise ActionError("bad_action", "one of case_id or alert_id")
    for name, value in (("case_id", case_id), ("alert_id", alert_id)):
        if value is not None and (not isinstance(value, str) or not value or len(value) > 128):
            raise ActionError("bad_case_id" if name == "case_id" else "bad_alert_id", f"{name}: its id")
    note = _text(body, "note", "bad_note", NOTE_MAX) if body.get("note") not in (None, "") else None
    return Send(device_id, str(kind), note, case_id, alert_id)


def task_message(send: Send, target: Mapping[str, Any], actor: str, now: float) -> tuple[str, bytes]:
    """The task on the collector's handheld topic: where to go, what to look at, who asks. The
    ``task_id`` is new and random: the handheld dedupes a redelivery by it."""
    payload: dict[str, Any] = {"task_id": f"desk-{uuid.uuid4().hex}", "kind": send.kind,
                               "kind_zh": TASK_KINDS[send.kind][0], "time": round(now, 3), "actor": actor,
                               **{k: v for k, v in target.items() if v is not None}}
    if send.note:
        payload["note"] = send.note
    return TASK_TOPIC.format(device_id=send.device_id), orjson.dumps(payload)
