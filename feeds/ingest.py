"""`gridwall ingest`: one ingest worker. Run several against an MQTT 5 broker and they split the
load through a shared subscription ($share/<group>/...); against the embedded amqtt broker
(MQTT 3.1.1) one worker subscribes plainly.

Threads: paho's network thread only puts messages on a bounded queue; the worker thread takes
them off in batches, runs the pipeline, acknowledges QoS 1 messages only once they are stored
(so a crash loses nothing: the broker redelivers), and cuts the live snapshot every tick.
"""

from __future__ import annotations

import argparse
import logging
import queue
import signal
import socket
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine

from dashboard.config import Settings
from dashboard.screens.wall import BoardMaker
from dashboard.store import db
from dashboard.store.evaluation import city_grid_codes
from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import HotStore, connect, remove_worker, write_broker_state
from dashboard.store.liverank import LiveRank
from dashboard.store.liverank_keeper import RankKeeper
from feeds.citygeo import city_bounds, grid_lookup
from feeds.decoders import DecodeContext
from feeds.mqtt import make_client, parse_mqtt_url
from feeds.pipeline import Message, Pipeline
from feeds.rebuild import rebuild_if_empty
from feeds.steps.cases import CaseBook
from feeds.steps.positions import Downsampler
from feeds.steps.publish import Ticker
from feeds.topics import TopicRouter

log = logging.getLogger("gridwall.ingest")

QUEUE_MAX = 50_000
BATCH_MAX = 2_000
BATCH_WAIT_S = 0.05
HEARTBEAT_S = 5.0


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
    }
    return Pipeline(hot, HistoryWriter(engine), **{**options, **overrides})


def live_rank(settings: Settings, hot: HotStore) -> LiveRank:
    reconcile = float(settings.section("casework").get("live_rank_reconcile_s", 3600))
    return hot.live_rank(settings.timezone, reconcile)


class IngestWorker:
    def __init__(self, settings: Settings, worker_id: str | None = None, share: bool = True) -> None:
        self.settings = settings
        # Stable across restarts on purpose: a new id every start would leave the old session
        # in the shared group, where the broker keeps dealing it messages until it expires.
        self.worker_id = worker_id or socket.gethostname()
        self.hot = HotStore(connect(settings.resolved_redis_url))
        url = settings.resolved_database_url
        db.upgrade(url)
        engine = db.engine_for(url)
        ranks = live_rank(settings, self.hot)  # one per worker: the pipeline adds, the keeper and board read
        self.pipeline = build_pipeline(settings, engine, self.hot, live_rank=ranks)
        self.router = self.pipeline.router
        book = self.pipeline.cases
        self.ticker = Ticker(self.hot, settings.tick_s)
        self.ranks = RankKeeper(ranks, engine, book, city_grid_codes(settings.city_dir), self.worker_id)
        self.board = BoardMaker(self.hot, engine, settings, ranks, self.worker_id)
        self.queue: queue.Queue[Message] = queue.Queue(QUEUE_MAX)
        self.dropped = 0
        self.processed = 0  # messages this worker took through the pipeline
        self.stopping = threading.Event()
        self.connected = False
        self.subscribed = threading.Event()  # set at each SUBACK: messages now reach us
        broker = parse_mqtt_url(settings.resolved_mqtt_url)
        self.share_group = settings.share_group if (share and broker.v5) else None
        rebuild_if_empty(self.hot, engine, book)
        self.client: mqtt.Client | None = None

    # --- paho thread ----------------------------------------------------------------------------
    def _on_message(self, _c: mqtt.Client, _u: Any, m: mqtt.MQTTMessage) -> None:
        msg = Message(m.topic, m.payload, time.time(), m.qos, m.mid)
        if m.qos == 0:
            try:
                self.queue.put_nowait(msg)
            except queue.Full:
                self.dropped += 1  # a newer fix of the same device is on its way
        else:
            # Blocking here stops paho reading the socket: back-pressure to the broker, which
            # holds the QoS 1 messages for us instead of our memory.
            self.queue.put(msg)

    def _on_state(self, up: bool) -> None:
        self.connected = up
        log.info("broker %s", "connected" if up else "disconnected")
        write_broker_state(self.hot, self.worker_id, up)

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
        )

    # --- worker thread --------------------------------------------------------------------------
    def _take_batch(self) -> list[Message]:
        try:
            first = self.queue.get(timeout=BATCH_WAIT_S)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + BATCH_WAIT_S
        while len(batch) < BATCH_MAX:
            try:
                batch.append(self.queue.get(timeout=max(deadline - time.monotonic(), 0)))
            except queue.Empty:
                break
        return batch

    def _ack(self, batch: list[Message]) -> None:
        if self.client is None:
            return
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)

    def process(self, batch: list[Message]) -> None:
        while True:
            try:
                result = self.pipeline.handle(batch)
                break
            except Exception:
                log.exception("storing a batch of %d failed; retrying in 1 s", len(batch))
                if self.stopping.wait(1.0):
                    return  # not acknowledged: the broker redelivers after restart
        self._ack(batch)
        self.processed += len(batch)
        self.ticker.note_result(result)  # changed devices, cases and alerts

    def run(self) -> None:
        self.start()
        next_beat = 0.0
        while not (self.stopping.is_set() and self.queue.empty()):
            batch = self._take_batch()
            if batch:
                self.process(batch)
            now = time.time()
            if self.ticker.due(now):
                try:
                    self.ticker.note_result(self.pipeline.retry_parked(now))
                    self.ticker.tick(now)
                    self.ranks.tick(now)
                except Exception:
                    log.exception("tick failed")
                self.board.tick(now)  # about once a second; logs its own failures
            if now >= next_beat:
                next_beat = now + HEARTBEAT_S
                try:
                    write_broker_state(self.hot, self.worker_id, self.connected, now)
                except Exception:
                    log.warning("heartbeat to Redis failed")
        self.close()

    def stop(self, *_: Any) -> None:
        if self.client is not None:
            self.client.disconnect()  # no new messages; the queue is drained before exit
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
