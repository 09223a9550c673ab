"""The bounds of what a message may carry into storage: the one place they are written.

A text longer than its SQL column is refused by PostgreSQL (SQLite stores it anyway), and if
validation lets it through, the batch that holds it fails at the write instead of at the door.
So every text field a record can carry has its bound here, and three things read it:

- ``dashboard/store/models.py`` sizes its ``String(N)`` columns with these constants;
- ``feeds/validate.py`` refuses a record whose text is longer (``too_long``), every decoder's
  records pass through it;
- ``docs/schemas/*.json`` state them as ``maxLength``, held equal by
  ``tests/unit/test_schema_limits.py`` (both ways: every bounded field is in its schema, every
  string of a schema is bounded here).

Lengths are characters (code points), as PostgreSQL's ``varchar(n)`` counts them and Python's
``len`` does: a 64-character Chinese department name fits a 64 column.

Fields stored in a ``Text`` column or only inside a JSON document have a bound too: nothing
needs a 50,000-character title, and a bound keeps one sender from filling the history.

Plain ints and mappings only: both the store and feeds import this, and it imports nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# --- ids -------------------------------------------------------------------------------------
EVENT_ID: Final = 128
CASE_ID: Final = 64
ALERT_ID: Final = 128
CAMERA_ID: Final = 128  # a camera, or the device whose supervision alarm it is (a DEVICE_ID)
DEVICE_ID: Final = 128  # "owntracks:<user>/<device>" and the like, so generous

# --- who, how, from where ----------------------------------------------------------------------
ACTOR: Final = 128  # case_event.actor and the reporter/step actors copied from it
ACTION: Final = 32
SOURCE: Final = 32  # a decoder's name, or a case's 案件来源 channel as sent

# --- devices -----------------------------------------------------------------------------------
DEVICE_KIND: Final = 16
SUBTYPE: Final = 32
NAME: Final = 128
DEPARTMENT: Final = 64  # a device's and a case's department alike
STATUS: Final = 128  # a device's free-text status; only in Redis, bounded all the same

# --- alerts ------------------------------------------------------------------------------------
ALERT_TYPE: Final = 64
ALERT_STATE: Final = 8
SEVERITY: Final = 16
URL: Final = 2048  # snapshot_url, media_url: Text columns / JSON, bounded like a browser's URL
RULE: Final = 32  # a supervision rule's name (dashboard/casework/supervision.py RULES)
ALARM_KEY: Final = 64  # which one of a rule's alarms on a device: a zone's, a route's, a geofence's id
ALARM_DETAIL: Final = 128  # what a device's platform said of an alarm (Traccar's alarm kind)

# --- case fields (columns of case / case_stat / case_step, or the event's JSON payload) --------
CATEGORY: Final = 16
CLASS_CODE: Final = 8
SMALL_CODE: Final = 8
GRID_CODE: Final = 16
CONDITION: Final = 64
TITLE: Final = 256
ADDRESS: Final = 256
DESCRIPTION: Final = 2000
TICKET: Final = 64
EXTENSION: Final = 32
NOTE: Final = 2000  # Open311's status_notes on a close

# --- per record: field -> bound (feeds/validate.py checks these; the schema test reads them) ---
POSITION: Final[Mapping[str, int]] = MappingProxyType({
    "device_id": DEVICE_ID, "kind": DEVICE_KIND, "subtype": SUBTYPE, "status": STATUS,
    "name": NAME, "department": DEPARTMENT, "source": SOURCE,
})  # fmt: skip
DEVICE_STATUS: Final[Mapping[str, int]] = MappingProxyType({
    "device_id": DEVICE_ID, "kind": DEVICE_KIND, "source": SOURCE,
})  # fmt: skip
DEVICE_ALARM: Final[Mapping[str, int]] = MappingProxyType({
    "device_id": DEVICE_ID, "rule": RULE, "key": ALARM_KEY, "kind": DEVICE_KIND, "detail": ALARM_DETAIL,
    "source": SOURCE,
})  # fmt: skip
ALERT: Final[Mapping[str, int]] = MappingProxyType({
    "alert_id": ALERT_ID, "camera_id": CAMERA_ID, "type": ALERT_TYPE, "state": ALERT_STATE,
    "severity": SEVERITY, "snapshot_url": URL, "source": SOURCE,
})  # fmt: skip
CASE_EVENT: Final[Mapping[str, int]] = MappingProxyType({
    "event_id": EVENT_ID, "case_id": CASE_ID, "action": ACTION, "actor": ACTOR, "source": SOURCE,
})  # fmt: skip
# The keys of CaseEvent.case that hold text (feeds/decoders/native.py CASE_STR_FIELDS, Open311's
# note); any other text in the payload gets CASE_OTHER_TEXT.
CASE: Final[Mapping[str, int]] = MappingProxyType({
    "source": SOURCE, "category": CATEGORY, "class_code": CLASS_CODE, "small_code": SMALL_CODE,
    "grid_code": GRID_CODE, "department": DEPARTMENT, "condition": CONDITION, "title": TITLE,
    "description": DESCRIPTION, "address": ADDRESS, "media_url": URL, "ticket": TICKET,
    "extension": EXTENSION, "note": NOTE,
})  # fmt: skip

# --- the case payload as a whole (stored as JSON in case_event.payload and case.doc) ------------
CASE_OTHER_TEXT: Final = 256  # a text under a key CASE does not name
CASE_KEY: Final = 64  # a key of the payload or of an object in it
CASE_DEPTH: Final = 4  # objects/arrays nested in one another, the payload itself counting 1
CASE_BYTES: Final = 32_768  # the payload as compact JSON (UTF-8)

# --- numbers that must fit their columns ---------------------------------------------------------
# Times: the records' epoch seconds become SQL timestamps (datetime.fromtimestamp overflows far
# out). Before 2000 is a clock fault (a GPS week rollover sends 1999), not history.
TIME_MIN: Final = 946_684_800.0  # 2000-01-01T00:00:00Z
TIME_MAX: Final = 4_102_444_800.0  # 2100-01-01T00:00:00Z
# Integers in a JSON document: 64 bits signed (SQLite's JSON, PostgreSQL's bigint, orjson).
INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1

# --- accounts (entered by an administrator, not by a message; dashboard/access) ----------------
ACCOUNT_NAME: Final = 64  # a user's login name or a token's name, e.g. 大厅主屏
ROLE: Final = 32  # a role's name (dashboard/data/roles.toml)
REMOTE_ADDRESS: Final = 64  # an IPv6 address with its zone fits
PASSWORD_MIN: Final = 12  # characters (OWASP ASVS 2.1.1)
PASSWORD_MAX: Final = 128  # argon2 hashes any length, but a login form has no reason to take more
