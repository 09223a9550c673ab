"""Rebuild the hot state from SQL when Redis comes up empty (it was lost or flushed).

Open cases, active alerts and each device's last known position all have their history in SQL,
so a wall that lost its Redis shows the city again as soon as one ingest worker starts, rather
than an empty map until every device has reported again. The reads are the store's
(dashboard/store/last_known.py); the docs are made as the pipeline makes them.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import Engine

from dashboard.store.hot import DeviceFix, HotStore
from dashboard.store.hotdoc import hot_doc
from dashboard.store.last_known import read_last_known
from feeds.steps.alerts import alert_doc
from feeds.steps.cases import CaseBook
from feeds.steps.positions import device_doc

log = logging.getLogger("gridwall.rebuild")

DEVICE_WINDOW_S = 24 * 3600  # devices silent for longer than this are not put back on the map


def rebuild_if_empty(hot: HotStore, engine: Engine, book: CaseBook) -> dict[str, int] | None:
    if not hot.is_empty():
        return None
    known = read_last_known(engine, since=time.time() - DEVICE_WINDOW_S)
    docs = [hot_doc(c.state, c.extra, book.rules, book.policy) for c in known.cases]
    hot.put_cases(docs)
    alerts = [alert_doc(a) for a in known.alerts]
    hot.put_alerts(alerts)
    fixes = [DeviceFix(p.device_id, p.ts, p.lat, p.lon, device_doc(p)) for p in known.positions]
    counts = {"cases": len(docs), "alerts": len(alerts), "devices": len(hot.write_positions(fixes))}
    log.info("hot state rebuilt from SQL: %s", counts)
    return counts
