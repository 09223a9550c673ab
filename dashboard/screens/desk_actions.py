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


def parse_supervise(body: Any, now: float, *, needs_version: bool) -> Supervise:
    """A 督办 request's JSON body: ``{"note": text, "deadline_request": epoch s or null,
    "version": int}``, refused with a reason when it is not one."""
    if not isinstance(body, Mapping):
        raise ActionError("bad_action", "the body must be a JSON object")
    unknown = sorted(set(body) - {"note", "deadline_request", "version"})
    if unknown:
        raise ActionError("bad_action", f"unknown field {unknown[0][:32]!r}")
    note = body.get("note")
    if not isinstance(note, str) or not note.strip():
        raise ActionError("bad_note", "a 督办 needs a note")
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ActionError("bad_note", f"the note has {len(note)} characters; at most {NOTE_MAX}")
    if any(not (ch.isprintable() or ch in "\n\t") for ch in note):
        raise ActionError("bad_note", "the note holds a control character")
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
    if any(ch in case_id for ch in TOPIC_UNSAFE):
        raise ActionError("bad_case_id", "this case id cannot be a topic level; act on it in the case system")


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
