"""SQL history: SQLite by default, PostgreSQL in production, the same models for both.

case_event is append-only and the source of truth for cases; case is its projection, updated in
the same transaction. All times are stored in UTC.

A column that holds text from a message takes its size from dashboard/limits.py, the bound
feeds/validate.py refuses longer text by (tests/unit/test_schema_limits.py holds them together);
literal sizes are for what the code itself writes (states, region prefixes, digests).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dashboard import limits

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite autoincrements only an INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer, "sqlite")
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """Always UTC-aware in Python. SQLite drops offsets, so it stores naive UTC there."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc(ts: float | None) -> datetime | None:
    """Epoch seconds (the records' time unit) to an aware UTC datetime."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class CaseEventRow(Base):
    """One lifecycle action, append-only; event_id makes QoS 1 redelivery harmless."""

    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(limits.EVENT_ID), unique=True)
    case_id: Mapped[str] = mapped_column(String(limits.CASE_ID), index=True)
    action: Mapped[str] = mapped_column(String(limits.ACTION))
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    source: Mapped[str] = mapped_column(String(limits.SOURCE))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)
    # What the event said (dashboard/records.py event_digest): a redelivery has the same digest,
    # a different event under a reused id does not (a conflicting duplicate).
    digest: Mapped[str | None] = mapped_column(String(32))

    # The board replays the cases that moved since the start of the day (dashboard/screens/daystart.py).
    __table_args__ = (Index("ix_case_event_ts", "ts"),)


class CaseRow(Base):
    """The projection of a case's events: what the counters and rankings read."""

    __tablename__ = "case"
    case_id: Mapped[str] = mapped_column(String(limits.CASE_ID), primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    source: Mapped[str | None] = mapped_column(String(limits.SOURCE))
    category: Mapped[str | None] = mapped_column(String(limits.CATEGORY))
    class_code: Mapped[str | None] = mapped_column(String(limits.CLASS_CODE))
    small_code: Mapped[str | None] = mapped_column(String(limits.SMALL_CODE))
    grid_code: Mapped[str | None] = mapped_column(String(limits.GRID_CODE))
    district: Mapped[str | None] = mapped_column(String(6))
    street: Mapped[str | None] = mapped_column(String(9))
    community: Mapped[str | None] = mapped_column(String(12))
    department: Mapped[str | None] = mapped_column(String(limits.DEPARTMENT))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    condition: Mapped[str | None] = mapped_column(String(limits.CONDITION))
    title: Mapped[str | None] = mapped_column(Text)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    feedback_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    deadline: Mapped[datetime | None] = mapped_column(UtcDateTime)
    doc: Mapped[dict[str, Any]] = mapped_column(JSONDoc, default=dict)  # the full case state
    version: Mapped[int] = mapped_column(Integer, default=0)
    last_event_id: Mapped[str | None] = mapped_column(String(limits.EVENT_ID))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_case_state_deadline", "state", "deadline"),)


class CaseStatRow(Base):
    """The case as the counters see it (casework.projection.case_columns): one narrow row per
    case, times as UTC epoch seconds so the ranking's comparisons are plain number compares.
    Written with the case row; docs/casework.md explains the columns."""

    __tablename__ = "case_stat"
    case_id: Mapped[str] = mapped_column(String(limits.CASE_ID), primary_key=True)
    state: Mapped[str] = mapped_column(String(24))
    source: Mapped[str | None] = mapped_column(String(limits.SOURCE))
    category: Mapped[str | None] = mapped_column(String(limits.CATEGORY))
    class_code: Mapped[str | None] = mapped_column(String(limits.CLASS_CODE))
    small_code: Mapped[str | None] = mapped_column(String(limits.SMALL_CODE))
    condition: Mapped[str | None] = mapped_column(String(limits.CONDITION))
    grid_code: Mapped[str | None] = mapped_column(String(limits.GRID_CODE))
    district: Mapped[str | None] = mapped_column(String(6))
    street: Mapped[str | None] = mapped_column(String(9))
    community: Mapped[str | None] = mapped_column(String(12))
    department: Mapped[str | None] = mapped_column(String(limits.DEPARTMENT))
    urgent: Mapped[int] = mapped_column(Integer, default=0)
    reporter: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    reported_at: Mapped[float] = mapped_column(Float)
    filed_at: Mapped[float | None] = mapped_column(Float)
    filed_on_time: Mapped[int | None] = mapped_column(Integer)
    voided_at: Mapped[float | None] = mapped_column(Float)
    not_filed_at: Mapped[float | None] = mapped_column(Float)
    first_dispatched_at: Mapped[float | None] = mapped_column(Float)
    feedback_at: Mapped[float | None] = mapped_column(Float)
    closed_at: Mapped[float | None] = mapped_column(Float)
    self_disposed: Mapped[int] = mapped_column(Integer, default=0)
    deadline: Mapped[float | None] = mapped_column(Float)
    close_deadline: Mapped[float | None] = mapped_column(Float)
    suspended_since: Mapped[float | None] = mapped_column(Float)
    last_suspended_at: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_deadline: Mapped[float | None] = mapped_column(Float)
    reworks: Mapped[int] = mapped_column(Integer, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    suspensions: Mapped[int] = mapped_column(Integer, default=0)
    is_open: Mapped[int] = mapped_column(Integer, default=1)
    # the first mark of each step (受理, 核实, 派遣, 核查); further marks are case_step rows
    accept_at: Mapped[float | None] = mapped_column(Float)
    accept_settles: Mapped[float | None] = mapped_column(Float)
    accept_on_time: Mapped[int | None] = mapped_column(Integer)
    accept_actor: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    verify_at: Mapped[float | None] = mapped_column(Float)
    verify_settles: Mapped[float | None] = mapped_column(Float)
    verify_on_time: Mapped[int | None] = mapped_column(Integer)
    verify_actor: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    dispatch_at: Mapped[float | None] = mapped_column(Float)
    dispatch_settles: Mapped[float | None] = mapped_column(Float)
    dispatch_on_time: Mapped[int | None] = mapped_column(Integer)
    dispatch_actor: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    check_at: Mapped[float | None] = mapped_column(Float)
    check_settles: Mapped[float | None] = mapped_column(Float)
    check_on_time: Mapped[int | None] = mapped_column(Integer)
    check_actor: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    dispatch_returned: Mapped[int | None] = mapped_column(Integer)
    # done on time: when; not done on time: the deadline (casework.projection._outcomes)
    disposal_ok_at: Mapped[float | None] = mapped_column(Float)
    disposal_due_at: Mapped[float | None] = mapped_column(Float)
    close_ok_at: Mapped[float | None] = mapped_column(Float)
    close_due_at: Mapped[float | None] = mapped_column(Float)
    span_start: Mapped[float] = mapped_column(Float)
    span_end: Mapped[float] = mapped_column(Float)

    # The ranking reads a period as a range of span_end and filters span_start in the index.
    __table_args__ = (Index("ix_case_stat_span", "span_end", "span_start"),
                      Index("ix_case_stat_grid_reported", "grid_code", "reported_at"),  # the case page's grid history
                      # The collectors' ranking (counters_sql.collector_sql), one index per role that
                      # holds every column its query reads: the database reads the index alone.
                      Index("ix_case_stat_intake", "source", "reported_at", "reporter", "filed_at"),
                      Index("ix_case_stat_verify", "verify_settles", "verify_actor", "verify_on_time"),
                      Index("ix_case_stat_check", "check_settles", "check_actor", "check_on_time"),
                      Index("ix_case_stat_filed", "filed_at", "grid_code", "filed_on_time", "state", "source",
                            "last_suspended_at"),
                      # who answers for a grid (evaluation.derived_grid_collectors)
                      Index("ix_case_stat_span_actors", "span_end", "span_start", "grid_code", "verify_actor",
                            "check_actor"))


class CaseStepRow(Base):
    """A further mark of a step (a re-dispatch after 回退, a re-check after 返工), with its
    case's grouping keys copied in so the step counters need no join. Rewritten whole when the
    case changes."""

    __tablename__ = "case_step"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(limits.CASE_ID), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[float] = mapped_column(Float)
    due: Mapped[float | None] = mapped_column(Float)
    settles_at: Mapped[float] = mapped_column(Float)
    on_time: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    returned: Mapped[int] = mapped_column(Integer, default=0)
    department: Mapped[str | None] = mapped_column(String(limits.DEPARTMENT))
    district: Mapped[str | None] = mapped_column(String(6))
    street: Mapped[str | None] = mapped_column(String(9))
    community: Mapped[str | None] = mapped_column(String(12))
    grid_code: Mapped[str | None] = mapped_column(String(limits.GRID_CODE))
    reporter: Mapped[str | None] = mapped_column(String(limits.ACTOR))
    category: Mapped[str | None] = mapped_column(String(limits.CATEGORY))
    source: Mapped[str | None] = mapped_column(String(limits.SOURCE))

    __table_args__ = (Index("ix_case_step_at", "at", "settles_at"),)


class AlertRow(Base):
    __tablename__ = "alert"
    alert_id: Mapped[str] = mapped_column(String(limits.ALERT_ID), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(limits.CAMERA_ID), index=True)
    type: Mapped[str] = mapped_column(String(limits.ALERT_TYPE))
    state: Mapped[str] = mapped_column(String(limits.ALERT_STATE))
    severity: Mapped[str] = mapped_column(String(limits.SEVERITY))
    start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float | None] = mapped_column(Float)
    snapshot_url: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(limits.SOURCE))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A supervision alarm (docs/supervision.md): its rule, which one (a zone's id), the device's
    # type (a vehicle subtype, or "collector") and department; all NULL on a video alert.
    rule: Mapped[str | None] = mapped_column(String(limits.RULE))
    alarm_key: Mapped[str | None] = mapped_column(String(limits.ALARM_KEY))
    device_type: Mapped[str | None] = mapped_column(String(limits.SUBTYPE))
    department: Mapped[str | None] = mapped_column(String(limits.DEPARTMENT))
    # Handled on the desk (dashboard/store/alert_handling.py): set once, never by a message.
    handled_action: Mapped[str | None] = mapped_column(String(8))  # ack | dismiss | case
    handled_reason: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[str | None] = mapped_column(String(limits.ACCOUNT_NAME + 8))
    handled_at: Mapped[float | None] = mapped_column(Float)
    handled_case: Mapped[str | None] = mapped_column(String(limits.CASE_ID))  # the case it became


class DeviceRow(Base):
    __tablename__ = "device"
    device_id: Mapped[str] = mapped_column(String(limits.DEVICE_ID), primary_key=True)
    kind: Mapped[str] = mapped_column(String(limits.DEVICE_KIND))
    subtype: Mapped[str | None] = mapped_column(String(limits.SUBTYPE))
    name: Mapped[str | None] = mapped_column(String(limits.NAME))
    department: Mapped[str | None] = mapped_column(String(limits.DEPARTMENT))
    source: Mapped[str] = mapped_column(String(limits.SOURCE))
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PositionRow(Base):
    """Position history, downsampled for replay (one fix per device per interval, or a turn)."""

    __tablename__ = "position"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(limits.DEVICE_ID))
    ts: Mapped[datetime] = mapped_column(UtcDateTime)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    speed: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_position_device_ts", "device_id", "ts"),)


class DeadLetterRow(Base):
    """A refused message, kept whole so that it can be replayed once the sender or the
    configuration is fixed (`gridwall deadletters`). Bounded: the oldest beyond
    ``dead_letter_max`` are deleted (dashboard/store/deadletters.py)."""

    __tablename__ = "dead_letter"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)  # when it was refused, UTC epoch s
    feed: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str | None] = mapped_column(String(limits.EVENT_ID))
    replayed_at: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_dead_letter_feed_reason", "feed", "reason"),)


class ParkedEventRow(Base):
    """A case event that came before its predecessor, waiting for it. In SQL, not Redis, so a
    lost Redis loses no waiting event; one that waited longer than ``case_park_s`` stays here and
    marks its case as having an incomplete history (docs/durability.md)."""

    __tablename__ = "case_parked"
    event_id: Mapped[str] = mapped_column(String(limits.EVENT_ID), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(limits.CASE_ID), index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSONDoc)  # the decoded CaseEvent
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # the message it came in
    parked_at: Mapped[float] = mapped_column(Float)
    retry_at: Mapped[float] = mapped_column(Float, index=True)
    reason: Mapped[str] = mapped_column(Text)  # why it could not apply, as the lifecycle said


class FeedCounterRow(Base):
    """The ingest counters (accepted, rejected, duplicates per feed and reason), kept in SQL as
    well as Redis so that a lost Redis does not set /healthz back to zero."""

    __tablename__ = "feed_counter"
    feed: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class UserRow(Base):
    """A person who signs in (docs/access.md): a role (dashboard/data/roles.toml), optionally
    limited to some districts, an argon2 hash (none for a user who only comes through the
    intranet's single sign-on), and the lockout's count of failed logins."""

    __tablename__ = "app_user"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(limits.ACCOUNT_NAME), unique=True)
    role: Mapped[str] = mapped_column(String(limits.ROLE))
    districts: Mapped[list[str] | None] = mapped_column(JSONDoc)  # None: the whole city
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[float | None] = mapped_column(Float)
    # Sessions signed in before this are void: a new password or a disable signs out everywhere.
    sessions_after: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[float] = mapped_column(Float)
    last_login_at: Mapped[float | None] = mapped_column(Float)


class TokenRow(Base):
    """A wall's (or another unattended screen's) token: only its SHA-256 is kept, the token is
    shown once when it is created."""

    __tablename__ = "access_token"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(limits.ACCOUNT_NAME))
    role: Mapped[str] = mapped_column(String(limits.ROLE))
    districts: Mapped[list[str] | None] = mapped_column(JSONDoc)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float | None] = mapped_column(Float)
    last_used_at: Mapped[float | None] = mapped_column(Float)
    last_address: Mapped[str | None] = mapped_column(String(limits.REMOTE_ADDRESS))


class AuditRow(Base):
    """Who did what, when, from where: logins, failed logins, a token used from a new address,
    every action and every change to users and tokens. Append-only."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    who: Mapped[str] = mapped_column(String(limits.ACCOUNT_NAME + 8))  # "user:<name>", "token:<id>"
    address: Mapped[str | None] = mapped_column(String(limits.REMOTE_ADDRESS))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDoc)


class OutboxRow(Base):
    """A message the web wants published over MQTT (the desk's actions: docs/mqtt.md "Outgoing").
    The web has no MQTT client (nothing in dashboard/ imports paho), so it writes the message
    here in the request and an ingest worker publishes it at QoS 1 (feeds/outbox.py), marking it
    sent on the broker's PUBACK: a crash of either side loses nothing. ``claim`` is the lease
    of the worker that is sending it, so that several workers do not all send it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float)
    next_try_at: Mapped[float] = mapped_column(Float)  # not before: the lease's end or the backoff's
    claim: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (Index("ix_outbox_pending", "sent_at", "next_try_at"),)
