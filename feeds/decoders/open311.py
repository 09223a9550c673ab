"""Open311 GeoReport v2 service requests (citizen reports, 公众举报) -> case events.

The payload is what ``GET requests.json`` returns (an array) or one request object, relayed onto
``open311/requests`` by whatever polls the city's endpoint.

Two quirks of the specification's own sample are accepted on purpose, and only those: bare
numbers with leading zeros (``"service_code":006``), which strict JSON forbids, and trailing
spaces in values such as ``media_url``. Anything else that is not JSON is refused.

Status is only ``open``/``closed``. Event ids are deterministic so that a poller re-publishing
the same list every minute is recognised as redelivery:

* open   -> REPORT, ``open311:<id>:report`` (a case is reported once, however often its notes
  change while open);
* closed -> REPORT and CLOSE ``open311:<id>:close:<updated epoch s>``. The REPORT is repeated so
  a request first seen closed still creates its case; if it was seen open before, the same
  REPORT id is dropped as a duplicate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import orjson

from dashboard.casework.actions import Action
from dashboard.records import CaseEvent, Record
from feeds.decoders._fields import (
    Json,
    load_json,
    optional_number,
    optional_str,
    optional_time,
    require_id,
    require_str,
    require_time,
    to_id,
)
from feeds.decoders.context import DecodeContext
from feeds.decoders.format import Format
from feeds.rejects import Reason, Rejected

SOURCE: Final = "open311"
Handler = Callable[[str, Json, dict[str, Any], DecodeContext], list[Record]]

# A JSON string (skipped untouched) or a bare number with a leading zero outside any string.
_LEADING_ZERO: Final = re.compile(rb'"(?:[^"\\]|\\.)*"|(?<![\w.+\-])(-?0\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)')


def decode(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
    data = _load(payload)
    if type(data) is dict:
        return _request(data, ctx)
    if type(data) is not list:
        raise Rejected(Reason.WRONG_TYPE, "payload must be a request object or an array of them")
    records: list[Record] = []
    for index, item in enumerate(data, start=1):
        if type(item) is not dict:
            raise Rejected(Reason.WRONG_TYPE, f"request #{index} is not a JSON object")
        try:
            records.extend(_request(item, ctx))
        except Rejected as exc:
            # One bad request refuses the whole list: a partial list would look complete.
            raise Rejected(exc.reason, f"request #{index} ({item.get('service_request_id')!r}): {exc.detail}") from None
    return records


def _load(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    # Cold path only: quote bare leading-zero numbers (006 -> "006"), then parse strictly.
    return load_json(_LEADING_ZERO.sub(_quote_number, payload))


def _quote_number(match: re.Match[bytes]) -> bytes:
    number = match.group(1)
    return b'"' + number + b'"' if number is not None else match.group(0)


def _request(item: Json, ctx: DecodeContext) -> list[Record]:
    if item.get("service_request_id") is None and item.get("token") is not None:
        raise Rejected(
            Reason.MISSING_FIELD,
            "request has only a token, no service_request_id yet; it is taken once the city system assigns an id",
        )
    request_id = require_id(item, "service_request_id")
    status = require_str(item, "status").lower()
    handler = STATUS_HANDLERS.get(status)
    if handler is None:
        raise Rejected(
            Reason.UNKNOWN_ACTION,
            f"Open311 status {status!r} has no case action (GeoReport v2 has open and closed)",
        )
    return handler(request_id, item, _case(item, ctx), ctx)


def _case(item: Json, ctx: DecodeContext) -> dict[str, Any]:
    # external: the city's Open311 system runs this case's lifecycle; we see only open and closed.
    case: dict[str, Any] = {"source": ctx.open311_case_source, "external": True}
    code = item.get("service_code")
    code = to_id(code, "service_code") if code is not None else None
    name = optional_str(item, "service_name")
    mapped = (ctx.open311_services.get(code) if code else None) or (ctx.open311_services.get(name) if name else None)
    if mapped is not None:
        case["category"] = mapped.category
        if mapped.small_code:
            case["small_code"] = mapped.small_code
    # Unmapped: no category (casework takes only component/event); the service name stays the
    # title, so the case still says what it is about.
    if name:
        case["title"] = name
    for src, dst in (("description", "description"), ("address", "address"),
                     ("media_url", "media_url")):  # fmt: skip
        value = optional_str(item, src)  # strips the sample's trailing space in media_url
        if value:
            case[dst] = value
    lat = optional_number(item, "lat")
    lon = optional_number(item, "long")
    if (lat is None) != (lon is None):
        raise Rejected(Reason.MISSING_FIELD, "request needs both 'lat' and 'long', or neither")
    if lat is not None:
        case["lat"], case["lon"] = lat, lon
    deadline = optional_time(item, "expected_datetime", naive_offset_s=ctx.naive_offset_s)
    if deadline is not None:
        case["deadline"] = deadline  # the city fixed it itself; overdue = now > deadline
    return case


def _opened(request_id: str, item: Json, case: dict[str, Any], ctx: DecodeContext) -> list[Record]:
    return [
        CaseEvent(
            event_id=f"open311:{request_id}:report",
            case_id=f"open311:{request_id}",
            action=Action.REPORT.value,
            ts=require_time(item, "requested_datetime", naive_offset_s=ctx.naive_offset_s),
            actor=None,  # the citizen; Open311 does not name them, and we would not show it
            case=case,
            source=SOURCE,
        )
    ]


def _closed(request_id: str, item: Json, case: dict[str, Any], ctx: DecodeContext) -> list[Record]:
    (report,) = _opened(request_id, item, case, ctx)
    updated = optional_time(item, "updated_datetime", naive_offset_s=ctx.naive_offset_s)
    closed_at = updated if updated is not None else report.ts
    close_case = dict(case)
    notes = optional_str(item, "status_notes")
    if notes:
        close_case["note"] = notes
    close = CaseEvent(
        event_id=f"open311:{request_id}:close:{int(closed_at)}",
        case_id=report.case_id,
        action=Action.CLOSE.value,
        ts=closed_at,
        actor=optional_str(item, "agency_responsible"),
        case=close_case,
        source=SOURCE,
    )
    return [report, close]


STATUS_HANDLERS: Final[dict[str, Handler]] = {"open": _opened, "closed": _closed}


# The format this module decodes (feeds/decoders/format.py).
FORMATS: Final = (Format("open311", topics=("open311/requests",), qos=1, feed="case", decode=decode),)
