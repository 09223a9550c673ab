"""`gridwall ingest`: one ingest worker. Run several against an MQTT 5 broker and they split the
load through a shared subscription ($share/<group>/...); against the embedded amqtt broker
(MQTT 3.1.1) one worker subscribes plainly.

Threads: paho's network thread only puts messages on the intake (feeds/intake.py: GPS may be
shed oldest-first, QoS 1 never); the worker thread takes them off in batches, runs the pipeline,
acknowledges QoS 1 messages only once they are stored (so a crash loses nothing: the broker
redelivers), and cuts the live snapshot every tick. The spool thread (feeds/spool.py) now and
then drains the broker's spool session, for what the live subscriptions missed.

What the worker does when a batch cannot be stored (docs/durability.md):
- a transient failure (the database or Redis down, a lock timeout) is retried with backoff, the
  batch unacknowledged, for as long as it takes: nothing is lost, and /healthz says "retrying";
- any other failure is a message the database will not take: the batch is split in halves until
  the one message is found, which becomes a dead letter (store_failed); the rest is stored.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine

from dashboard.config import Settings
from dashboard.reports.schedule import ReportSchedule
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.evaluation import city_grid_codes, city_objects
from dashboard.store.failures import transient
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import HotStore, connect, remove_worker, write_broker_state
from dashboard.store.liverank import LiveRank
from dashboard.store.liverank_keeper import RankKeeper
from dashboard.store.outbox import Outbox
from dashboard.store.report_claims import report_claims
from dashboard.store.retention import prune_positions
from dashboard.supervision_config import from_settings as supervision_settings
from feeds.citygeo import city_bounds, grid_lookup
from feeds.decoders import DecodeContext
from feeds.intake import Intake
from feeds.mqtt import make_client, parse_mqtt_url
from feeds.outbox import OutboxPublisher
from feeds.pipeline import Message, Pipeline
from feeds.rebuild import rebuild_if_empty, reconcile
from feeds.rejects import store_failed
from feeds.spool import HANDLED_TTL_S, SPOOL_GRACE_S, Spool
from feeds.steps.cases import CaseBook
from feeds.steps.positions import Downsampler
from feeds.steps.publish import Ticker
from feeds.topics import TopicRouter

log = logging.getLogger("gridwall.ingest")

BATCH_MAX = 2_000
BATCH_WAIT_S = 0.05
HEARTBEAT_S = 5.0
SWEEP_S = 5.0  # how often a worker looks for devices gone off the air (the offline alarm's resolution)
RECONCILE_S = 120.0  # how often one worker compares the hot state's open cases with SQL's
BACKOFF_MAX_S = 30.0
POISON_TRIES = 2  # a single message failing this many times (not transiently) is a dead letter
# This many dead-lettered in a row with nothing stored in between is not poison but a fault of
# ours or of the database's (a bug, a broken schema): stop refusing, wait and retry as for a
# transient failure, and say so, rather than dead-letter the whole stream.
POISON_STREAK_MAX = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--worker-id", default=None,
        help="stable id (default: this host's name): the broker keeps the worker's session, and the QoS 1 "
             "messages sent while it restarts, under it. Give each worker on a host its own.")
    parser.add_argument("--no-share", action="store_true", help="plain subscriptions even on an MQTT 5 broker")


def build_pipeline(settings: Settings, engine: Engine, hot: HotStore, **overrides: Any) -> Pipeline:
    """The pipeline as the configuration describes it. Ingest and `gridwall import` both build
    theirs here, so a message is taken in the same way whichever way it came; ``overrides``
    replace Pipeline's keyword arguments (import waits for a whole file: case_park_s)."""
    feeds_cfg = settings.section("feeds")
    options: dict[str, Any] = {
        "router": TopicRouter(feeds_cfg.get("topics")),
        "ctx": DecodeContext.from_config(feeds_cfg),
        "bounds": city_bounds(settings),
        "cases": CaseBook(engine, settings, hot),
        "grid_lookup": grid_lookup(settings),
        "max_payload_bytes": settings.max_payload_bytes,
        "future_skew_s": settings.future_skew_s,
        "dead_letter_max": settings.dead_letter_max,
        "case_park_s": settings.case_park_s,
        "downsampler": Downsampler(settings.history_interval_s, settings.history_turn_deg),
        "live_rank": live_rank(settings, hot),
        "max_devices": settings.max_devices,
        "device_retention_s": settings.device_retention_s,
        "supervision": supervision_settings(settings),
        "timezone": settings.timezone,
    }
    return Pipeline(hot, HistoryWriter(engine), **{**options, **overrides})


def live_rank(settings: Settings, hot: HotStore) -> LiveRank:
    reconcile = float(settings.section("casework").get("live_rank_reconcile_s", 3600))
    return hot.live_rank(settings.timezone, reconcile, known=city_objects(settings.city_dir),
                         kinds=settings.ranking_period_kinds)


class IngestWorker:
    def __init__(self, settings: Settings, worker_id: str | None = None, share: bool = True) -> None:
        self.settings = settings
        # Stable across restarts on purpose: a new id every start would leave the old session
        # in the shared group, where the broker keeps dealing it messages until it expires.
        self.worker_id = worker_id or socket.gethostname()
        self.hot = HotStore(connect(settings.resolved_redis_url))
        url = settings.resolved_database_url
        db.upgrade(url)
        self.engine = engine = db.engine_for(url)
        ranks = live_rank(settings, self.hot)  # one per worker: the pipeline adds, the keeper and board read
        self.pipeline = build_pipeline(settings, engine, self.hot, live_rank=ranks)
        self.router = self.pipeline.router
        self.book = book = self.pipeline.cases
        self.ticker = Ticker(self.hot, settings.tick_s)
        self.ranks = RankKeeper(ranks, engine, book, city_grid_codes(settings.city_dir), self.worker_id)
        self.board = BoardMaker(self.hot, engine, settings, ranks, self.worker_id, supervision=self.pipeline.watch.sup)
        self.outbox = OutboxPublisher(Outbox(engine))  # the desk's actions, out over our connection
        # The evaluation reports of each period that closed, once among all workers (docs/reports.md).
        self.reports = ReportSchedule(settings, engine, report_claims(self.hot), self.worker_id)
        self.intake = Intake()
        self.spooled = Intake()  # the spool's copies, handled in batches of their own
        self.processed = 0  # messages this worker took through the pipeline
        self.recovered = 0  # spool copies that the live subscriptions had missed
        self.retrying: str | None = None  # why the current batch waits, for /healthz
        self.poison_streak = 0  # messages dead-lettered as store_failed since the last stored batch
        self.stopping = threading.Event()
        self.connected = False
        self.subscribed = threading.Event()  # set at each SUBACK: messages now reach us
        broker = parse_mqtt_url(settings.resolved_mqtt_url)
        self.share_group = settings.share_group if (share and broker.v5) else None
        # The spool matters where shared subscriptions are not kept by the broker; with one plain
        # persistent subscription (MQTT 3.1.1, the embedded broker) the worker's own session is it.
        self.spool = (Spool(settings.resolved_mqtt_url, self.share_group, self.router, self.hot, self.worker_id,
                            self.spooled.put) if self.share_group else None)
        if self.spool is not None:
            self.pipeline.mark_handled_s = HANDLED_TTL_S
        self._rebuild_check()
        self._next_reconcile = time.time() + RECONCILE_S
        self._next_sweep = 0.0
        self.client: mqtt.Client | None = None

    @property
    def dropped(self) -> int:
        """QoS 0 messages shed because ingest was behind."""
        return self.intake.shed

    # --- paho thread ----------------------------------------------------------------------------
    def _on_message(self, _c: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        # QoS 1 blocks here when the intake is full: paho stops reading the socket, and the broker
        # holds the messages for us instead of our memory. QoS 0 sheds its oldest.
        self.intake.put(Message(m.topic, m.payload, time.time(), m.qos, m.mid))

    def _on_state(self, up: bool) -> None:
        self.connected = up
        log.info("broker %s", "connected" if up else "disconnected")
        try:
            self._beat(time.time())
        except Exception:
            log.warning("heartbeat to Redis failed")

    def start(self) -> None:
        self.client = make_client(
            self.settings.resolved_mqtt_url,
            f"gridwall-ingest-{self.worker_id}",
            persistent=True,
            manual_ack=True,
            subscriptions=lambda: self.router.subscriptions(self.share_group),
            on_message=self._on_message,
            on_state=self._on_state,
            on_subscribed=self.subscribed.set,
            reconnect_max_s=5,  # back soon after a broker restart
        )
        self.outbox.attach(self.client)
        if self.spool is not None:
            self.spool.start()

    # --- worker thread --------------------------------------------------------------------------
    def _ack(self, batch: list[Message], spool: bool) -> None:
        if spool and self.spool is not None:
            self.spool.ack(batch)
            return
        if self.client is None:
            return
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)

    def process(self, batch: list[Message], spool: bool = False) -> None:
        """Store a batch, whatever it takes; acknowledge what is stored or dead-lettered. Returns
        without acknowledging only when the worker is stopping (the broker redelivers)."""
        if self._store(batch, spool):
            self._ack(batch, spool)
            self.processed += len(batch)

    def _store(self, batch: list[Message], spool: bool) -> bool:
        delay, tries = 1.0, 0
        while True:
            try:
                result = self.pipeline.handle(batch, spool=spool)
                self.poison_streak = 0
                self.ticker.note_result(result)
                self.recovered += result.recovered
                if result.recovered:
                    log.warning("the spool brought %d messages the live subscriptions had missed", result.recovered)
                self.retrying = None
                return True
            except Exception as exc:
                if transient(exc) or self.poison_streak >= POISON_STREAK_MAX:
                    self.retrying = f"{type(exc).__name__}: {str(exc)[:200]}"
                    log.warning("storing a batch of %d failed (%s); retrying in %.0f s", len(batch), self.retrying, delay)
                    if self.stopping.wait(delay):
                        return False
                    delay = min(delay * 2, BACKOFF_MAX_S)
                    continue
                if len(batch) > 1:
                    # A message the database will not take: find it by halves, store the rest.
                    half = len(batch) // 2
                    return self._store(batch[:half], spool) and self._store(batch[half:], spool)
                tries += 1
                if tries < POISON_TRIES:
                    log.warning("one message failed to store (%r); trying it once more", exc)
                    continue
                log.error("a message the database refuses, dead-lettered: %s %r", batch[0].topic, exc)
                self.poison_streak += 1
                return self._refuse(batch[0], exc)

    def _refuse(self, msg: Message, exc: Exception) -> bool:
        reason = store_failed(exc)
        while True:
            try:
                self.pipeline.refuse([(msg, reason)])
                return True
            except Exception as again:
                log.warning("writing the dead letter failed (%r); retrying in 1 s", again)
                if self.stopping.wait(1.0):
                    return False

    def _rebuild_check(self) -> None:
        rebuilt = rebuild_if_empty(self.hot, self.engine, self.book, self.worker_id)
        if rebuilt is not None:
            self.ticker.force_reset()
            self._next_reconcile = time.time() + 5.0  # once more, for batches that raced the rebuild

    def _beat(self, now: float) -> None:
        write_broker_state(self.hot, self.worker_id, self.connected, now, {
            "queue": self.intake.depth() + self.spooled.depth(),
            "lag_s": round(max(self.intake.lag_s(now), self.spooled.lag_s(now)), 2),
            "shed": self.intake.shed,
            "retrying": self.retrying,
            "recovered": self.recovered,
        })

    def _tick(self, now: float) -> None:
        try:
            self._rebuild_check()
            result = self.pipeline.retry_parked(now)
            self.ticker.note_result(result)
            if now >= self._next_sweep:  # devices that went off the air while on duty
                self._next_sweep = now + SWEEP_S
                self.ticker.note_result(self.pipeline.sweep(now))
            self.ticker.tick(now)
            self.ranks.tick(now)
            if now >= self._next_reconcile:
                self._next_reconcile = now + RECONCILE_S
                reconcile(self.hot, self.engine, self.book, self.worker_id)
        except Exception:
            log.exception("tick failed")
        self.board.tick(now)  # about once a second; logs its own failures

    def run(self) -> None:
        self.start()
        next_beat = 0.0
        while not (self.stopping.is_set() and self.intake.empty() and self.spooled.empty()):
            batch = self.intake.take(BATCH_MAX, BATCH_WAIT_S)
            if batch:
                self.process(batch)
            spooled = self.spooled.take_older(BATCH_MAX, time.time() - SPOOL_GRACE_S)
            if spooled:
                self.process(spooled, spool=True)
            now = time.time()
            self.outbox.tick(now, self.client, self.connected)
            if self.ticker.due(now):
                self._tick(now)
            if now >= next_beat:
                next_beat = now + HEARTBEAT_S
                try:
                    self._beat(now)
                    # SQL has the counts (added in each batch's transaction); Redis, which
                    # /healthz reads, is put level with it, in case a crash or a Redis error came
                    # between a commit and Redis's increment.
                    self.hot.restore_stats(self.pipeline.counters.read())
                    # Devices silent for days: once a heartbeat is plenty, not every tick.
                    self.hot.prune_devices(now, self.settings.device_retention_s)
                except Exception:
                    log.warning("heartbeat to Redis failed")
                self._prune_history(now)
                self.reports.tick(now)  # cheap; a due report is written in a thread of its own
        self.close()

    def _prune_history(self, now: float) -> None:
        """The position history past history_retention_days, a batch a heartbeat
        (dashboard/store/retention.py): steady work, never one long delete."""
        try:
            prune_positions(self.engine, now, self.settings.history_retention_days)
        except Exception:
            log.warning("pruning the position history failed", exc_info=True)

    def stop(self, *_: Any) -> None:
        if self.client is not None:
            self.client.disconnect()  # no new messages; the intake is drained before exit
        if self.spool is not None:
            self.spool.stop()
        self.intake.close()
        self.spooled.close()
        self.stopping.set()

    def close(self) -> None:
        if self.client is not None:
            self.client.loop_stop()
        try:
            self.ticker.tick()
            remove_worker(self.hot, self.worker_id)
        except Exception:
            pass


def command(args: argparse.Namespace, settings: Settings) -> int:
    worker = IngestWorker(settings, args.worker_id, share=not args.no_share)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    log.info("ingest worker %s: %s", worker.worker_id, settings.resolved_mqtt_url)
    worker.run()
    return 0
