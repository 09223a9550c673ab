"""What a decoder module declares about each wire format it decodes, as a Home Assistant platform
module owns its metadata: the format's name, the topic patterns it is subscribed on by default,
their QoS, the feed its messages count in, and the decode function.

Everything else is read from these declarations: the registry of formats
(feeds/decoders/__init__.py), the router's default topics and QoS (feeds/topics.py) and the
counter a message counts in (the pipeline's decode step). So a new wire format is one module
that ends with its ``FORMATS``, plus that module's name in the registry's list.

QoS: a position is superseded seconds later, so losing one at QoS 0 costs nothing and saves the
broker an acknowledgement per fix; alerts, case events and device status must arrive (QoS 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from dashboard.records import Record
from feeds.decoders.context import DecodeContext

Decoder = Callable[[str, bytes, DecodeContext], list[Record]]

# The counters a message counts in (accepted, rejected per reason, duplicates): the hot store's
# per-feed stats and the wall's feed health.
Feed = Literal["gps", "video", "case"]
FEED_NAMES: tuple[str, ...] = get_args(Feed)


@dataclass(frozen=True, slots=True)
class Format:
    name: str  # what feeds.topics maps a pattern to, e.g. "frigate.events"
    topics: tuple[str, ...]  # default topic patterns (MQTT wildcards), used when feeds.topics is not set
    qos: int  # default subscription QoS for those patterns, and for a configured pattern without one
    feed: Feed  # "gps" (positions, device status), "video" (alerts) or "case" (case events)
    decode: Decoder

    def __post_init__(self) -> None:
        # A wrong declaration is a programming error: fail on import, not on the first message.
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"a wire format needs a name, not {self.name!r}")
        if not isinstance(self.topics, tuple) or not self.topics or not all(isinstance(t, str) and t for t in self.topics):
            raise ValueError(f"format {self.name}: topics must be a non-empty tuple of patterns, not {self.topics!r}")
        if self.qos not in (0, 1, 2):
            raise ValueError(f"format {self.name}: qos must be 0, 1 or 2, not {self.qos!r}")
        if self.feed not in FEED_NAMES:
            raise ValueError(f"format {self.name}: feed must be one of {FEED_NAMES}, not {self.feed!r}")
        if not callable(self.decode):
            raise ValueError(f"format {self.name}: decode must be a function (topic, payload, ctx) -> records")
