"""The outbox (table ``outbox``): messages the web publishes over MQTT, the desk's actions.

Nothing in dashboard/ speaks MQTT, and a web request must not wait on a broker. So an action
writes its messages here, in the request, and an ingest worker publishes them (feeds/outbox.py):
it *claims* a batch (a lease with its own random mark, so that two workers never send the same
row at once), publishes each at QoS 1, and marks it sent on the broker's PUBACK. A worker that
dies mid-send leaves its lease to run out, and the row is sent again by whoever comes next: at
least once, never lost. Receivers dedupe by the payload's ``event_id`` (a case event) or
``task_id`` (a task), as every QoS 1 receiver must.

Sent rows are kept for ``SENT_KEEP_S`` as a record of what left, then pruned.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, RowMapping, and_, delete, func, insert, select, update

from dashboard.store.models import OutboxRow

PAYLOAD_MAX = 64 * 1024  # bytes: larger than any action writes; a bigger one is a bug of ours
SENT_KEEP_S = 7 * 86400
BACKOFF_MAX_S = 300.0
_ERROR_MAX = 500


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    topic: str
    payload: bytes
    created_at: float
    attempts: int  # sends tried, this one included once claimed


def _check(topic: str, payload: bytes) -> None:
    if not topic or any(ch in topic for ch in "+#\x00") or len(topic) > 1024:
        raise ValueError(f"not a topic to publish on: {topic[:80]!r}")
    if len(payload) > PAYLOAD_MAX:
        raise ValueError(f"an outgoing payload of {len(payload)} bytes (at most {PAYLOAD_MAX})")


def add_in(conn: Connection, messages: Sequence[tuple[str, bytes]], now: float) -> list[int]:
    """Queue (topic, payload) pairs in the caller's transaction: a store that changes SQL and
    announces the change commits both or neither (dashboard/store/alert_handling.py)."""
    for topic, payload in messages:
        _check(topic, payload)
    if not messages:
        return []
    rows = [{"topic": t, "payload": p, "created_at": now, "next_try_at": now, "attempts": 0} for t, p in messages]
    return [r[0] for r in conn.execute(insert(OutboxRow).returning(OutboxRow.id), rows)]


class Outbox:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, messages: Sequence[tuple[str, bytes]], now: float) -> list[int]:
        """Queue (topic, payload) pairs in one transaction: all or none. Returns their ids."""
        for topic, payload in messages:
            _check(topic, payload)
        if not messages:
            return []
        with self.engine.begin() as conn:
            return add_in(conn, messages, now)

    def pending(self, limit: int) -> list[OutboxMessage]:
        """Unsent messages, oldest first, whoever holds them (for a look; ``claim`` to send)."""
        query = select(OutboxRow).where(OutboxRow.sent_at.is_(None)).order_by(OutboxRow.id).limit(limit)
        with self.engine.connect() as conn:
            return [_message(r) for r in conn.execute(query).mappings()]

    def claim(self, now: float, limit: int, lease_s: float) -> list[OutboxMessage]:
        """Take up to ``limit`` messages due now for ``lease_s``: no other caller gets them until
        the lease ends or they are marked failed. Oldest first, so the order of one case's events
        is kept across a claim."""
        mark = secrets.token_hex(16)
        due = (select(OutboxRow.id).where(OutboxRow.sent_at.is_(None), OutboxRow.next_try_at <= now)
               .order_by(OutboxRow.id).limit(limit))
        with self.engine.connect() as conn:
            # Read first: the usual answer is "nothing", and a look takes no write lock (SQLite's
            # one writer is the history's).
            if conn.execute(due.limit(1)).first() is None:
                return []
        with self.engine.begin() as conn:
            # The WHERE is checked again on each row as it is updated (PostgreSQL re-reads a row
            # another transaction changed; SQLite writes one at a time), so a row goes to one mark.
            conn.execute(update(OutboxRow)
                         .where(OutboxRow.id.in_(due.scalar_subquery()), OutboxRow.sent_at.is_(None), OutboxRow.next_try_at <= now)
                         .values(claim=mark, next_try_at=now + lease_s, attempts=OutboxRow.attempts + 1))
            taken = conn.execute(select(OutboxRow).where(OutboxRow.claim == mark).order_by(OutboxRow.id)).mappings()
            return [_message(r) for r in taken]

    def mark_sent(self, ids: Sequence[int], now: float) -> None:
        if ids:
            with self.engine.begin() as conn:
                conn.execute(update(OutboxRow).where(OutboxRow.id.in_(list(ids))).values(sent_at=now, last_error=None))

    def failed(self, id_: int, error: str, now: float) -> None:
        """The send did not happen (not connected, refused): try again after a backoff that
        doubles with each attempt, up to five minutes."""
        with self.engine.begin() as conn:
            attempts = conn.execute(select(OutboxRow.attempts).where(OutboxRow.id == id_)).scalar() or 1
            delay = min(2.0 ** attempts, BACKOFF_MAX_S)
            conn.execute(update(OutboxRow).where(OutboxRow.id == id_, OutboxRow.sent_at.is_(None))
                         .values(next_try_at=now + delay, claim=None, last_error=error[:_ERROR_MAX]))

    def prune(self, sent_before: float) -> int:
        with self.engine.begin() as conn:
            return conn.execute(delete(OutboxRow).where(OutboxRow.sent_at < sent_before)).rowcount

    def counts(self) -> dict[str, int]:
        """{"pending": unsent, "sent": sent and not yet pruned, "retrying": unsent that failed}."""
        query = select(
            func.count().filter(OutboxRow.sent_at.is_(None)),
            func.count().filter(OutboxRow.sent_at.is_not(None)),
            func.count().filter(and_(OutboxRow.sent_at.is_(None), OutboxRow.last_error.is_not(None))),
        )
        with self.engine.connect() as conn:
            pending, sent, retrying = conn.execute(query).one()
        return {"pending": pending, "sent": sent, "retrying": retrying}

    def oldest_pending_at(self) -> float | None:
        """When the oldest unsent message was queued: its age is how far behind sending is."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.min(OutboxRow.created_at)).where(OutboxRow.sent_at.is_(None))).scalar()


def _message(r: RowMapping) -> OutboxMessage:
    return OutboxMessage(r["id"], r["topic"], bytes(r["payload"]), r["created_at"], r["attempts"])
