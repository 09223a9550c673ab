"""A video alert handled on the desk: acknowledged (确认), dismissed (误报/无需处置) or turned into a
case (转案件) by a person, with a reason (docs/desk.md "Alerts").

SQL is the record: the alert's row gets ``handled_*`` (migration 0008), set once; a second
handling of the same alert is refused. Redis then follows: the alert leaves the active hash
(the wall's map and the count of active alerts), its id goes into ``ALERT_HANDLED`` (the ticker
leaves it out, and ``HotStore.put_alerts`` will not put it back whatever its camera sends
later), and into ``ALERT_TOUCHED``, so that the ingest worker's next tick sends the screens the
change. Redis is written again on every call for a handled alert, so a retry after a Redis
failure repairs it; after a Redis loss the rebuild restores it (``restore``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine, select, update

from dashboard.store.hot import HotStore
from dashboard.store.keys import ALERT, ALERT_HANDLED, ALERT_HANDLED_AT, ALERT_TOUCHED
from dashboard.store.models import AlertRow
from dashboard.store.outbox import add_in

HANDLED_KEEP_S = 2 * 86400  # the ticker shows a day of alerts; the marks outlive it
ACTIONS = ("ack", "dismiss", "case")


@dataclass(frozen=True, slots=True)
class AlertHead:
    """What the desk checks an alert by, from SQL."""

    alert_id: str
    camera_id: str
    type: str
    state: str
    start: float
    lat: float | None
    lon: float | None
    snapshot_url: str | None
    severity: str
    handled_action: str | None
    handled_by: str | None
    handled_at: float | None
    handled_case: str | None
    handled_reason: str | None = None


def alert_head(engine: Engine, alert_id: str) -> AlertHead | None:
    t = AlertRow.__table__.c
    query = select(t.alert_id, t.camera_id, t.type, t.state, t.start, t.lat, t.lon, t.snapshot_url, t.severity,
                   t.handled_action, t.handled_by, t.handled_at, t.handled_case, t.handled_reason).where(
                       t.alert_id == alert_id)
    with engine.connect() as conn:
        r = conn.execute(query).mappings().first()
    if r is None:
        return None
    return AlertHead(r["alert_id"], r["camera_id"], r["type"], r["state"], r["start"].timestamp(), r["lat"], r["lon"],
                     r["snapshot_url"], r["severity"], r["handled_action"], r["handled_by"], r["handled_at"],
                     r["handled_case"], r["handled_reason"])


class AlertHandling:
    def __init__(self, engine: Engine, hot: HotStore) -> None:
        self.engine = engine
        self.r = hot.r

    def handle(self, alert_id: str, action: str, reason: str, who: str, now: float,
               case_id: str | None = None, alert: Mapping[str, Any] | None = None,
               messages: Sequence[tuple[str, bytes]] = ()) -> bool:
        """Mark the alert handled and queue ``messages`` (its announcement, the case it became) in
        the outbox, in one transaction: a process killed between the two can neither leave an
        alert handled whose case never goes out nor send a handling that did not happen. True
        if this call did it; False if it was handled already (by anyone: the first wins), in
        which case nothing in SQL changes and nothing is queued."""
        if action not in ACTIONS:
            raise ValueError(f"unknown alert action {action!r}")
        t = AlertRow.__table__.c
        with self.engine.begin() as conn:
            done = conn.execute(update(AlertRow.__table__)
                                .where(t.alert_id == alert_id, t.handled_at.is_(None))
                                .values(handled_action=action, handled_reason=reason, handled_by=who,
                                        handled_at=now, handled_case=case_id)).rowcount == 1
            if done:
                add_in(conn, messages, now)
        if not done:  # handled before: Redis is put level with SQL's first handling, not this one
            head = alert_head(self.engine, alert_id)
            if head is None or head.handled_at is None:
                return False
            action, reason, who, now, case_id = (head.handled_action or action, head.handled_reason or "",
                                                 head.handled_by or "", head.handled_at, head.handled_case)
        # The alert's doc goes with the mark: the desk lists it after the recent list forgot it.
        self._mark([{"alert_id": alert_id, "action": action, "reason": reason, "by": who, "at": now,
                     **({"case_id": case_id} if case_id else {}), **({"alert": dict(alert)} if alert else {})}], now)
        return done

    def _mark(self, docs: list[dict[str, Any]], now: float) -> None:
        if not docs:
            return
        pipe = self.r.pipeline(transaction=True)
        for d in docs:
            pipe.hset(ALERT_HANDLED, d["alert_id"], orjson.dumps(d))
            pipe.zadd(ALERT_HANDLED_AT, {d["alert_id"]: d["at"]})
            pipe.hdel(ALERT, d["alert_id"])
            pipe.sadd(ALERT_TOUCHED, d["alert_id"])
        pipe.execute()
        self._forget(now)

    def _forget(self, now: float) -> None:
        old = self.r.zrangebyscore(ALERT_HANDLED_AT, "-inf", now - HANDLED_KEEP_S)
        if old:
            pipe = self.r.pipeline(transaction=True)
            pipe.hdel(ALERT_HANDLED, *old)  # type: ignore[arg-type]
            pipe.zrem(ALERT_HANDLED_AT, *old)  # type: ignore[arg-type]
            pipe.execute()

    def handled(self) -> dict[str, dict[str, Any]]:
        """The alerts handled in the last two days: id -> {action, reason, by, at, case_id?}."""
        return {k.decode(): orjson.loads(v) for k, v in self.r.hgetall(ALERT_HANDLED).items()}  # type: ignore[union-attr]

    def restore(self, now: float) -> int:
        """After a Redis loss (feeds/rebuild.py): the marks of the alerts handled lately, from SQL."""
        t = AlertRow.__table__.c
        query = select(t.alert_id, t.handled_action, t.handled_reason, t.handled_by, t.handled_at, t.handled_case).where(
            t.handled_at >= now - HANDLED_KEEP_S)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        self._mark([{"alert_id": r["alert_id"], "action": r["handled_action"], "reason": r["handled_reason"],
                     "by": r["handled_by"], "at": r["handled_at"],
                     **({"case_id": r["handled_case"]} if r["handled_case"] else {})} for r in rows], now)
        return len(rows)


def take_touched(hot: HotStore, n: int = 1000) -> list[str]:
    """The alerts the desk changed since the last call (the ingest worker's tick sends them)."""
    return [m.decode() for m in (hot.r.spop(ALERT_TOUCHED, n) or [])]  # type: ignore[union-attr]
