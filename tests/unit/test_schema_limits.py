"""One source of truth for what a message may carry: dashboard/limits.py. The SQL column sizes
(dashboard/store/models.py), the JSON Schemas (docs/schemas/*.json) and the table in
docs/schemas.md must equal it, both ways: every bounded field is in each place that should
state it, and every string those places hold is bounded by it.

Each check is a function returning its problems, so the tests below also feed it a doctored
copy and see it complain: a check that cannot fail proves nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import String

from dashboard import limits
from dashboard.store.models import Base
from feeds.rejects import Reason

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"

# --- SQL ---------------------------------------------------------------------------------------

# Every String(N) column, by what it holds: the name of its bound in dashboard/limits.py, or
# None for text the code itself writes (a state, a region prefix of the grid code, a digest, a
# feed or reason name). A new String column must be listed here, so nobody sizes a column that
# stores message text by hand.
COLUMNS: dict[tuple[str, str], str | None] = {
    ("case_event", "event_id"): "EVENT_ID", ("case_event", "case_id"): "CASE_ID",
    ("case_event", "action"): "ACTION", ("case_event", "actor"): "ACTOR",
    ("case_event", "source"): "SOURCE", ("case_event", "digest"): None,
    ("case", "case_id"): "CASE_ID", ("case", "state"): None, ("case", "source"): "SOURCE",
    ("case", "category"): "CATEGORY", ("case", "class_code"): "CLASS_CODE",
    ("case", "small_code"): "SMALL_CODE", ("case", "grid_code"): "GRID_CODE",
    ("case", "district"): None, ("case", "street"): None, ("case", "community"): None,
    ("case", "department"): "DEPARTMENT", ("case", "condition"): "CONDITION",
    ("case", "last_event_id"): "EVENT_ID",
    ("case_stat", "case_id"): "CASE_ID", ("case_stat", "state"): None, ("case_stat", "source"): "SOURCE",
    ("case_stat", "category"): "CATEGORY", ("case_stat", "class_code"): "CLASS_CODE",
    ("case_stat", "small_code"): "SMALL_CODE", ("case_stat", "condition"): "CONDITION",
    ("case_stat", "grid_code"): "GRID_CODE", ("case_stat", "district"): None,
    ("case_stat", "street"): None, ("case_stat", "community"): None,
    ("case_stat", "department"): "DEPARTMENT", ("case_stat", "reporter"): "ACTOR",
    ("case_stat", "stage"): None, ("case_stat", "accept_actor"): "ACTOR",
    ("case_stat", "verify_actor"): "ACTOR", ("case_stat", "dispatch_actor"): "ACTOR",
    ("case_stat", "check_actor"): "ACTOR",
    ("case_step", "case_id"): "CASE_ID", ("case_step", "stage"): None, ("case_step", "actor"): "ACTOR",
    ("case_step", "department"): "DEPARTMENT", ("case_step", "district"): None,
    ("case_step", "street"): None, ("case_step", "community"): None,
    ("case_step", "grid_code"): "GRID_CODE", ("case_step", "reporter"): "ACTOR",
    ("case_step", "category"): "CATEGORY", ("case_step", "source"): "SOURCE",
    ("alert", "alert_id"): "ALERT_ID", ("alert", "camera_id"): "CAMERA_ID", ("alert", "type"): "ALERT_TYPE",
    ("alert", "state"): "ALERT_STATE", ("alert", "severity"): "SEVERITY", ("alert", "source"): "SOURCE",
    ("device", "device_id"): "DEVICE_ID", ("device", "kind"): "DEVICE_KIND", ("device", "subtype"): "SUBTYPE",
    ("device", "name"): "NAME", ("device", "department"): "DEPARTMENT", ("device", "source"): "SOURCE",
    ("position", "device_id"): "DEVICE_ID",
    ("dead_letter", "feed"): None, ("dead_letter", "reason"): None, ("dead_letter", "event_id"): "EVENT_ID",
    ("case_parked", "event_id"): "EVENT_ID", ("case_parked", "case_id"): "CASE_ID",
    ("feed_counter", "feed"): None, ("feed_counter", "name"): None,
    ("app_user", "name"): "ACCOUNT_NAME", ("app_user", "role"): "ROLE",
    ("access_token", "name"): "ACCOUNT_NAME", ("access_token", "role"): "ROLE", ("access_token", "digest"): None,
    ("access_token", "last_address"): "REMOTE_ADDRESS", ("audit_log", "who"): None,
    ("audit_log", "address"): "REMOTE_ADDRESS", ("audit_log", "action"): None,
    ("outbox", "claim"): None, ("alert", "handled_action"): None, ("alert", "handled_by"): None,
    ("alert", "handled_case"): "CASE_ID", ("alert", "rule"): "RULE", ("alert", "alarm_key"): "ALARM_KEY",
    ("alert", "device_type"): "SUBTYPE", ("alert", "department"): "DEPARTMENT",
}  # fmt: skip


def string_columns(metadata: Any) -> Iterator[tuple[tuple[str, str], int | None]]:
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length is not None:  # not Text
                yield (table.name, column.name), column.type.length


def column_problems(columns: Mapping[tuple[str, str], int | None]) -> list[str]:
    problems = []
    for key, length in columns.items():
        if key not in COLUMNS:
            problems.append(f"{key} is String({length}) but not listed in COLUMNS: bound by limits or internal?")
        elif COLUMNS[key] is not None and length != getattr(limits, COLUMNS[key]):  # type: ignore[arg-type]
            problems.append(f"{key} is String({length}), limits.{COLUMNS[key]} is {getattr(limits, COLUMNS[key])}")  # type: ignore[arg-type]
    problems += [f"{key} is listed but is no String column" for key in COLUMNS if key not in columns]
    return problems


def test_every_string_column_is_sized_by_limits_or_named_internal():
    columns = dict(string_columns(Base.metadata))
    assert column_problems(columns) == []
    # ... and the check sees a column that drifted, one nobody classified, one that went away
    drifted = {**columns, ("case_event", "actor"): 200, ("new_table", "actor"): 128}
    del drifted[("alert", "type")]
    assert len(column_problems(drifted)) == 3


def test_every_text_column_of_a_record_field_is_that_fields_bound():
    """The other way round: a record field with a column of the same name is sized by the
    field's bound (catches a wrong constant name in COLUMNS)."""
    records = {"case_event": limits.CASE_EVENT, "alert": limits.ALERT, "device": limits.POSITION,
               "position": limits.POSITION}  # fmt: skip
    case_tables = {"case", "case_stat", "case_step"}
    for (table, column), length in string_columns(Base.metadata):
        fields = records.get(table) or (limits.CASE if table in case_tables else {})
        if column in fields:
            assert length == fields[column], (table, column)


def test_reason_codes_fit_their_columns():
    for reason in Reason:
        assert len(reason.value) <= 32, reason  # dead_letter.reason
        assert len(f"rejected:{reason.value}") <= 48, reason  # feed_counter.name


# --- JSON Schemas --------------------------------------------------------------------------------

# Each native schema, the record it decodes to (the case-event schema's $defs.case: the case
# payload), and the wire names that differ from the record's field names.
SCHEMA_OBJECTS: dict[str, list[tuple[tuple[str, ...], Mapping[str, int], dict[str, str]]]] = {
    "gps.schema.json": [((), limits.POSITION, {"id": "device_id"})],
    "video-alert.schema.json": [((), limits.ALERT, {})],
    "case-event.schema.json": [((), limits.CASE_EVENT, {}), (("$defs", "case"), limits.CASE, {})],
}
# Bounded fields that no native message carries: the decoder sets them ("source": its own
# name), or another format brings them (an Open311 close's status notes).
NOT_ON_THE_WIRE = {
    ("gps.schema.json", "source"), ("video-alert.schema.json", "source"),
    ("case-event.schema.json", "source"),
}  # fmt: skip
TIMES = {"ts", "start", "end", "time", "deadline", "deadline_request"}


def _types(prop: Mapping[str, Any]) -> set[str]:
    kind = prop.get("type", ())
    return {kind} if isinstance(kind, str) else set(kind)


def schema_problems(name: str, schema: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for path, bounded, wire in SCHEMA_OBJECTS[name]:
        node: Any = schema
        for step in path:
            node = node[step]
        props: Mapping[str, Any] = node["properties"]
        where = "/".join((name, *path))
        # every string of the schema is bounded by limits, with the same number
        for key, prop in props.items():
            field = wire.get(key, key)
            if "enum" in prop:
                too_long = [v for v in prop["enum"] if isinstance(v, str) and field in bounded and len(v) > bounded[field]]
                if too_long:
                    problems.append(f"{where}: {key} allows {too_long}, longer than {bounded[field]}")
            elif "string" in _types(prop):
                if field not in bounded:
                    problems.append(f"{where}: string {key!r} has no bound in dashboard/limits.py")
                elif prop.get("maxLength") != bounded[field]:
                    problems.append(f"{where}: {key} maxLength {prop.get('maxLength')}, limits say {bounded[field]}")
            elif "maxLength" in prop:
                problems.append(f"{where}: {key} has a maxLength but is not a string")
        # every bounded field is in the schema
        names = {wire.get(key, key) for key in props}
        for field in bounded:
            if field not in names and (name, field) not in NOT_ON_THE_WIRE:
                problems.append(f"{where}: bounded field {field!r} is missing")
    problems += time_problems(name, schema)
    return problems


def time_problems(name: str, schema: Mapping[str, Any]) -> list[str]:
    """Every time accepts epoch seconds and milliseconds from TIME_MIN to TIME_MAX, no more."""
    want = [(limits.TIME_MIN, limits.TIME_MAX), (limits.TIME_MIN * 1000, limits.TIME_MAX * 1000)]
    problems = []
    for key, prop in _all_properties(schema):
        if key not in TIMES:
            continue
        if "$ref" in prop:
            prop = schema["$defs"][prop["$ref"].rsplit("/", 1)[1]]
        numbers = [(alt.get("minimum"), alt.get("maximum")) for alt in prop.get("oneOf", []) if alt.get("type") == "number"]
        if numbers != want:
            problems.append(f"{name}: time {key!r} takes numbers {numbers}, limits say {want}")
    return problems


def _all_properties(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        yield from (node.get("properties") or {}).items()
        for value in node.values():
            yield from _all_properties(value)


@pytest.mark.parametrize("name", sorted(SCHEMA_OBJECTS))
def test_schema_bounds_equal_limits(name):
    schema = orjson.loads((SCHEMAS / name).read_bytes())
    assert schema_problems(name, schema) == []


def test_every_schema_is_checked():
    assert {p.name for p in SCHEMAS.glob("*.json")} == set(SCHEMA_OBJECTS)


DRIFTS = {
    "a bound that drifted": lambda s: s["properties"]["actor"].update(maxLength=200),
    "a string left unbounded": lambda s: s["$defs"]["case"]["properties"]["title"].pop("maxLength"),
    "a bounded field missing": lambda s: s["$defs"]["case"]["properties"].pop("address"),
    "a string limits do not know": lambda s: s["properties"].update(nickname={"type": "string"}),
    "an enum value longer than its column": lambda s: s["properties"]["action"]["enum"].append("x" * 33),
    "a time before 2000 let in": lambda s: s["$defs"]["time"]["oneOf"][0].update(minimum=0),
    "milliseconds beyond 2100 let in": lambda s: s["$defs"]["time"]["oneOf"][1].update(maximum=9e12),
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_the_schema_check_sees_each_kind_of_drift(drift):
    doctored = orjson.loads((SCHEMAS / "case-event.schema.json").read_bytes())
    DRIFTS[drift](doctored)
    assert schema_problems("case-event.schema.json", doctored)


def test_the_schema_check_knows_wire_names():
    gps = orjson.loads((SCHEMAS / "gps.schema.json").read_bytes())
    gps["properties"]["id"]["maxLength"] = 64  # the wire name 'id' is device_id's
    assert schema_problems("gps.schema.json", gps) == [f"gps.schema.json: id maxLength 64, limits say {limits.DEVICE_ID}"]


def test_case_payload_bounds_are_in_its_schema():
    case = orjson.loads((SCHEMAS / "case-event.schema.json").read_bytes())["$defs"]["case"]
    assert f"at most {limits.CASE_BYTES} bytes" in case["description"]
    assert f"at most {limits.CASE_DEPTH} deep" in case["description"]


# --- docs/schemas.md ---------------------------------------------------------------------------

RECORDS = {"Position": limits.POSITION, "DeviceStatus": limits.DEVICE_STATUS, "DeviceAlarm": limits.DEVICE_ALARM,
           "Alert": limits.ALERT,
           "CaseEvent": limits.CASE_EVENT, "CaseEvent.case": limits.CASE}  # fmt: skip
ROW = re.compile(r"^\| `([\w.]+)` \| `(\w+)` \| (\d+) \|", re.M)


def doc_problems(text: str) -> list[str]:
    rows = {(record, field): int(bound) for record, field, bound in ROW.findall(text)}
    want = {(record, field): bound for record, bounded in RECORDS.items() for field, bound in bounded.items()}
    return [f"docs/schemas.md: {key} says {rows.get(key)}, limits say {want.get(key)}"
            for key in sorted(set(rows) | set(want)) if rows.get(key) != want.get(key)]  # fmt: skip


def test_the_docs_table_lists_every_bound():
    text = (ROOT / "docs/schemas.md").read_text(encoding="utf-8")
    assert doc_problems(text) == []
    assert len(doc_problems(text.replace("| `Alert` | `type` | 64 |", "| `Alert` | `type` | 65 |"))) == 1
    for number in (limits.CASE_OTHER_TEXT, limits.CASE_KEY, limits.CASE_DEPTH, limits.CASE_BYTES):
        assert f"{number:,}" in text or str(number) in text
