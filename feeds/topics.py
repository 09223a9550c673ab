"""Topic -> decoder routing, and the subscription list that goes with it.

Built from configuration ``{pattern: format}`` (or ``{pattern: {format, qos}}``) where patterns
use MQTT wildcards (``+`` one level, ``#`` the rest). Matching is MQTT's own: ``+`` matches an
empty level too, ``#`` also matches the parent, and wildcards at the first level never match
``$SYS``-style topics. When several patterns match, the most specific one wins (more literal
levels; ``#`` last), so ``gridwall/gps/vehicle/+`` can override ``gridwall/gps/+/+``.

Speed: every device has its own topic, so a hit cache keyed by the full topic turns routing into
one dict lookup; misses walk the patterns, each first checked by its literal prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from dashboard.records import Record
from feeds.decoders import FORMATS, DecodeContext, Decoder, Feed, get_format
from feeds.rejects import Reason, Rejected

# Derived from the decoder modules' declarations (feeds/decoders/format.py): a wire format's
# default topics and QoS are written once, in its module.
DEFAULT_TOPICS: Final[Mapping[str, str]] = MappingProxyType(
    {pattern: fmt.name for fmt in FORMATS.values() for pattern in fmt.topics}
)
DEFAULT_QOS: Final[Mapping[str, int]] = MappingProxyType({fmt.name: fmt.qos for fmt in FORMATS.values()})

_CACHE_LIMIT: Final = 65_536  # distinct topics remembered; cleared when full (a bounded map)


@dataclass(frozen=True, slots=True)
class Route:
    pattern: str
    format: str
    qos: int
    decoder: Decoder
    feed: Feed  # the counters its messages count in
    prefix: str  # the literal part before the first wildcard, for the quick reject
    levels: tuple[str, ...]
    exact: bool  # no wildcard at all

    def matches(self, topic: str) -> bool:
        if self.exact:
            return topic == self.pattern
        if not topic.startswith(self.prefix):
            return False
        if topic.startswith("$") and self.pattern[:1] in "+#":
            return False
        return _match_levels(self.levels, topic.split("/"))


def _match_levels(pattern: tuple[str, ...], levels: list[str]) -> bool:
    for index, want in enumerate(pattern):
        if want == "#":
            return True  # also matches the parent level ("a/#" matches "a")
        if index >= len(levels):
            return False
        if want != "+" and want != levels[index]:
            return False
    return len(levels) == len(pattern)


class TopicRouter:
    """Routes topics to decoders; built once at start-up from configuration."""

    def __init__(self, topic_map: Mapping[str, Any] | None = None) -> None:
        routes = [_route(p, spec) for p, spec in (topic_map or DEFAULT_TOPICS).items()]
        # Most specific first: exact topics, then more literal levels, '#' patterns last.
        routes.sort(key=_specificity)
        self.routes: tuple[Route, ...] = tuple(routes)
        self._exact: dict[str, Route] = {r.pattern: r for r in routes if r.exact}
        self._wild: tuple[Route, ...] = tuple(r for r in routes if not r.exact)
        self._cache: dict[str, Route] = {}

    def route_for(self, topic: str) -> Route:
        """The route that takes ``topic`` (its format, decoder, QoS and feed), or Rejected."""
        route = self._exact.get(topic) or self._cache.get(topic)
        if route is not None:
            return route
        for route in self._wild:
            if route.matches(topic):
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[topic] = route
                return route
        raise Rejected(
            Reason.UNKNOWN_TOPIC,
            f"no feed is configured for topic {topic!r}; add its pattern to feeds.topics",
        )

    def decoder_for(self, topic: str) -> Decoder:
        return self.route_for(topic).decoder

    def decode(self, topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]:
        return self.route_for(topic).decoder(topic, payload, ctx)

    def subscriptions(self, share_group: str | None = None) -> list[tuple[str, int]]:
        """(pattern, qos) for paho's subscribe(). With ``share_group``, MQTT 5 shared
        subscriptions ``$share/<group>/<pattern>`` so N ingest workers split the load."""
        prefix = f"$share/{share_group}/" if share_group else ""
        return [(prefix + r.pattern, r.qos) for r in self.routes]


def subscriptions(topic_map: Mapping[str, Any] | None = None, share_group: str | None = None) -> list[tuple[str, int]]:
    return TopicRouter(topic_map).subscriptions(share_group)


def _route(pattern: Any, spec: Any) -> Route:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError(f"feeds.topics: a topic pattern must be a non-empty string, not {pattern!r}")
    if isinstance(spec, str):
        fmt, qos = spec, None
    elif isinstance(spec, Mapping) and isinstance(spec.get("format"), str):
        fmt, qos = spec["format"], spec.get("qos")
    else:
        raise ValueError(f"feeds.topics.{pattern}: expected a format name or {{format, qos}}")
    declared = get_format(fmt)
    if qos is None:
        qos = declared.qos
    if qos not in (0, 1, 2):
        raise ValueError(f"feeds.topics.{pattern}: qos must be 0, 1 or 2, not {qos!r}")
    levels = tuple(pattern.split("/"))
    for index, level in enumerate(levels):
        if ("+" in level or "#" in level) and len(level) > 1:
            raise ValueError(f"feeds.topics: {pattern!r}: a wildcard must fill a whole level")
        if level == "#" and index != len(levels) - 1:
            raise ValueError(f"feeds.topics: {pattern!r}: '#' must be the last level")
    cut = min((i for i in (pattern.find("+"), pattern.find("#")) if i >= 0), default=len(pattern))
    prefix = pattern[:cut]
    if pattern[cut : cut + 1] == "#" and prefix.endswith("/"):
        prefix = prefix[:-1]  # "a/#" also matches "a" itself
    return Route(pattern, fmt, qos, declared.decode, declared.feed, prefix, levels, exact=cut == len(pattern))


def _specificity(route: Route) -> tuple[bool, int, int]:
    literal = sum(1 for level in route.levels if level not in ("+", "#"))
    return ("#" in route.levels, -literal, -len(route.levels))
