"""The pipeline is a chain of steps declared in one place, each behind one interface; parked case
events re-enter it at the case step. (What each step does is tested on real servers in
tests/integration/.)"""

from __future__ import annotations

import inspect

import redis
from sqlalchemy import create_engine

from dashboard.store.history_writer import HistoryWriter
from dashboard.store.hot import HotStore
from feeds.decoders import DecodeContext
from feeds.pipeline import Pipeline
from feeds.steps.batch import Batch
from feeds.steps.cases import CaseOutcome
from feeds.topics import TopicRouter


def pipeline() -> Pipeline:
    # Neither client connects until a command is sent: nothing here talks to a server.
    hot = HotStore(redis.Redis(unix_socket_path="/nonexistent/redis.sock"))
    return Pipeline(hot, HistoryWriter(create_engine("sqlite://")), router=TopicRouter(), ctx=DecodeContext(now=0.0),
                    bounds=None, cases=lambda events: CaseOutcome())


def test_the_chain_in_order():
    p = pipeline()
    assert [type(step).__name__ for step in p.steps] == ["Decode", "Enrich", "Dedupe", "Watch", "ApplyCases", "Store", "Park"]
    assert [type(step).__name__ for step in p.retry_steps] == ["ApplyCases", "Store", "Park"]
    assert p.retry_steps == p.steps[4:]


def test_every_step_has_the_one_interface():
    for step in pipeline().steps:
        run = step.run
        assert list(inspect.signature(run).parameters) == ["batch"], type(step).__name__
        assert inspect.signature(run).return_annotation in (None, "None")


def test_a_batch_without_messages_passes_the_first_steps_untouched():
    p = pipeline()
    batch = Batch((), 0.0, 30.0)
    for step in p.steps[:4]:  # decode, enrich, dedupe, watch: no message, no record, no round trip
        step.run(batch)
    assert batch.records == [] and batch.repeats == [] and not batch.result.refusals
