"""Topic routing: MQTT wildcard semantics, specificity, configuration, subscriptions."""

from __future__ import annotations

import pytest

from feeds import topics
from feeds.decoders import DECODERS
from feeds.rejects import Reason, Rejected
from feeds.topics import DEFAULT_TOPICS, TopicRouter, subscriptions


@pytest.mark.parametrize(
    ("topic", "fmt"),
    [
        ("gridwall/gps/collector/C0012", "native.gps"),
        ("gridwall/gps/vehicle/沪A12345", "native.gps"),
        ("gridwall/video/cam07", "native.video"),
        ("gridwall/case/2024-000123", "native.case"),
        ("owntracks/alice/phone", "owntracks"),
        ("traccar/positions", "traccar.positions"),
        ("traccar/events", "traccar.events"),
        ("frigate/events", "frigate.events"),
        ("frigate/reviews", "frigate.reviews"),
        ("open311/requests", "open311"),
    ],
)
def test_default_topics_route_to_their_decoder(topic, fmt):
    assert TopicRouter().decoder_for(topic) is DECODERS[fmt]


@pytest.mark.parametrize(
    "topic",
    [
        "gridwall/gps/collector",  # one level short
        "gridwall/gps/collector/C1/extra",  # one level too many for +/+
        "owntracks/alice/phone/event",  # transitions: not in the default subscription
        "traccar/positions/extra",
        "Traccar/positions",  # topics are case-sensitive
        "frigate",
        "",
    ],
)
def test_unrouted_topics_are_refused(topic):
    with pytest.raises(Rejected) as exc:
        TopicRouter().decoder_for(topic)
    assert exc.value.reason is Reason.UNKNOWN_TOPIC


def test_mqtt_wildcard_semantics():
    router = TopicRouter({"a/#": "open311", "+/x": "owntracks"})
    assert router.decoder_for("a") is DECODERS["open311"]  # '#' also matches the parent
    assert router.decoder_for("a/b/c/d") is DECODERS["open311"]
    assert router.decoder_for("/x") is DECODERS["owntracks"]  # '+' matches an empty level
    with pytest.raises(Rejected):
        router.decoder_for("$SYS/x")  # wildcards at the first level skip $ topics
    with pytest.raises(Rejected):
        router.decoder_for("ab")  # literal prefix check is per level, not per character


def test_most_specific_pattern_wins_whatever_the_config_order():
    config = {"gridwall/#": "native.case", "gridwall/gps/+/+": "native.gps", "gridwall/gps/vehicle/+": "owntracks"}
    for mapping in (config, dict(reversed(list(config.items())))):
        router = TopicRouter(mapping)
        assert router.decoder_for("gridwall/gps/vehicle/V1") is DECODERS["owntracks"]
        assert router.decoder_for("gridwall/gps/collector/C1") is DECODERS["native.gps"]
        assert router.decoder_for("gridwall/case/K1") is DECODERS["native.case"]


def test_exact_topic_beats_wildcard():
    router = TopicRouter({"traccar/+": "traccar.events", "traccar/positions": "traccar.positions"})
    assert router.decoder_for("traccar/positions") is DECODERS["traccar.positions"]
    assert router.decoder_for("traccar/events") is DECODERS["traccar.events"]


def test_topic_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(topics, "_CACHE_LIMIT", 10)
    router = TopicRouter()
    for n in range(25):
        router.decoder_for(f"gridwall/gps/collector/C{n}")
    assert len(router._cache) <= 10
    assert router.decoder_for("gridwall/gps/collector/C3") is DECODERS["native.gps"]


@pytest.mark.parametrize(
    "config",
    [
        {"a/#/b": "open311"},  # '#' not last
        {"a/b+": "open311"},  # wildcard inside a level
        {"a/b": "no.such.format"},
        {"a/b": {"format": "open311", "qos": 3}},
        {"": "open311"},
        {"a/b": 42},
    ],
)
def test_bad_configuration_fails_at_start_up(config):
    with pytest.raises(ValueError):
        TopicRouter(config)


def test_default_subscriptions_and_qos():
    subs = dict(subscriptions())
    assert set(subs) == set(DEFAULT_TOPICS)
    assert subs["gridwall/gps/+/+"] == 0  # positions: superseded seconds later
    assert subs["owntracks/+/+"] == 0
    assert subs["traccar/positions"] == 0
    for pattern in ("gridwall/case/+", "gridwall/video/+", "frigate/events", "frigate/reviews", "open311/requests",
                    "traccar/events"):  # fmt: skip
        assert subs[pattern] == 1, pattern


def test_configured_qos_and_shared_subscriptions():
    router = TopicRouter({"city/gps/+/+": {"format": "native.gps", "qos": 1}, "city/case/+": "native.case"})
    assert router.subscriptions("ingest") == [("$share/ingest/city/gps/+/+", 1), ("$share/ingest/city/case/+", 1)]
    assert router.decoder_for("city/gps/vehicle/V1") is DECODERS["native.gps"]
