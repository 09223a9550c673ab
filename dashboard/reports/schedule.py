"""Scheduled reports (docs/reports.md "Schedule"): after each period closes, the previous day's,
week's, month's, quarter's and year's report is written once into ``<data dir>/reports/``.

The ingest worker calls ``ReportSchedule.tick`` from its heartbeat (every 5 s): a few date sums
and, when a report is due and not on disk, a background thread that writes it, so the worker's
batches never wait for a PDF. Several workers may run: a Redis claim per report
(dashboard/store/report_claims.py, ``SET NX``) lets exactly one of them write it; a worker
that dies while writing lets its claim expire, and another writes the report then.

``[reports]`` settings: ``schedule`` (the kinds, default all five; ``[]`` switches it off),
``schedule_formats`` (default pdf and xlsx), ``schedule_langs`` (default the configured
language), ``schedule_delay_s`` (how long after the close, default 300 s: late case events of
the last minutes are in by then), ``schedule_first_s`` (how long a worker runs before it first
looks, default 600 s: a report missed while no worker ran is written then, and a worker started
for a few minutes, a test's or a deploy's that is soon replaced, writes nothing).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard.casework.period_labels import label_of, previous_first_day
from dashboard.casework.periods import PERIOD_KINDS, period_bounds
from dashboard.config import Settings
from dashboard.reports.files import FORMATS, render, stem
from dashboard.reports.model import build
from dashboard.store.report_claims import DONE, ReportClaims

log = logging.getLogger("gridwall.reports")

CLAIM_S = 900.0  # a writer that has not finished in 15 minutes is taken for dead
PERIOD_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}


class ReportSchedule:
    def __init__(self, settings: Settings, engine: Engine, claims: ReportClaims, worker: str,
                 started: float | None = None) -> None:
        section = settings.section("reports")
        self.settings = settings
        self.engine = engine
        self.claims = claims
        self.worker = worker
        self.kinds = tuple(k for k in section.get("schedule", PERIOD_KINDS) if k in PERIOD_KINDS)
        self.formats = tuple(f for f in section.get("schedule_formats", FORMATS) if f in FORMATS)
        self.langs = tuple(section.get("schedule_langs", [settings.lang]))
        self.delay_s = float(section.get("schedule_delay_s", 300.0))
        self.first_at = (time.time() if started is None else started) + float(section.get("schedule_first_s", 600.0))
        self.directory = Path(settings.data_dir) / "reports"
        self.zone = ZoneInfo(settings.timezone)
        self._known: set[str] = set()  # reports this process saw written (by anyone): not looked at again
        self._thread: threading.Thread | None = None

    def due(self, now: float) -> list[tuple[str, date]]:
        """The last closed period of each scheduled kind (closed at least ``delay_s`` ago)."""
        today = datetime.fromtimestamp(now - self.delay_s, self.zone).date()
        return [(kind, previous_first_day(kind, period_bounds(kind, today)[0])) for kind in self.kinds]

    def _paths(self, name: str) -> list[Path]:
        return [self.directory / f"{name}.{fmt}" for fmt in self.formats]

    def pending(self, now: float) -> list[tuple[str, date, str]]:
        out = []
        for kind, first in self.due(now):
            for lang in self.langs:
                name = stem(kind, label_of(kind, first), lang)
                if name in self._known:
                    continue
                if all(p.exists() for p in self._paths(name)):
                    self._known.add(name)
                    continue
                out.append((kind, first, lang))
        return out

    def tick(self, now: float) -> None:
        """Cheap when nothing is due; otherwise the writing runs in a thread of its own."""
        if not self.kinds or now < self.first_at or (self._thread is not None and self._thread.is_alive()):
            return
        if self.pending(now):
            self._thread = threading.Thread(target=self._run, args=(now,), name="gridwall-reports", daemon=True)
            self._thread.start()

    def _run(self, now: float) -> None:
        try:
            self.run_once(now)
        except Exception:
            log.exception("the scheduled reports failed; the next heartbeat tries again")

    def run_once(self, now: float) -> list[Path]:
        """Write the pending reports this worker can claim; the paths it wrote."""
        written: list[Path] = []
        for kind, first, lang in self.pending(now):
            name = stem(kind, label_of(kind, first), lang)
            if not self.claims.claim(name, self.worker, CLAIM_S):
                if self.claims.state(name) == DONE:
                    self._known.add(name)  # another worker wrote it
                continue
            try:
                report = build(self.engine, self.settings, kind, first, now, lang)
                self.directory.mkdir(parents=True, exist_ok=True)
                for path, fmt in zip(self._paths(name), self.formats, strict=True):
                    # Written beside and renamed: a reader never sees half a file.
                    tmp = path.with_name(f".{path.name}.{os.getpid()}")
                    tmp.write_bytes(render(report, fmt, self.settings))
                    os.replace(tmp, path)
                    written.append(path)
            except BaseException:
                self.claims.release(name, self.worker)
                raise
            self.claims.done(name, 2 * PERIOD_DAYS[kind] * 86400.0)
            self._known.add(name)
            log.info("report %s written (%s)", name, ", ".join(self.formats))
        return written

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
