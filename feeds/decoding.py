"""check_size -> decode -> validate: the first steps of ingest, in one function that the ingest
worker and ``gridwall decode`` both call, so the command shows exactly what ingest would do."""

from __future__ import annotations

from functools import lru_cache

from dashboard.records import Record
from feeds.decoders import DecodeContext
from feeds.topics import TopicRouter
from feeds.validate import DEFAULT_FUTURE_SKEW_S, DEFAULT_SIZE_LIMIT, Bounds, check_size, validate


@lru_cache(maxsize=1)
def default_router() -> TopicRouter:
    return TopicRouter()


def decode_and_validate(
    topic: str,
    payload: bytes,
    ctx: DecodeContext,
    bounds: Bounds | None,
    anywhere: bool = False,
    *,
    router: TopicRouter | None = None,
    size_limit: int = DEFAULT_SIZE_LIMIT,
    future_skew_s: float = DEFAULT_FUTURE_SKEW_S,
) -> list[Record]:
    """Records for one MQTT message, or Rejected (the only exception it raises).

    ``ctx.now`` is the clock for the future-timestamp check. One bad record refuses the message:
    a half-taken message would be half-missing without a trace.
    """
    check_size(payload, size_limit)
    records = (router or default_router()).decode(topic, payload, ctx)
    for record in records:
        validate(record, now=ctx.now, bounds=bounds, anywhere=anywhere, future_skew_s=future_skew_s)
    return records
