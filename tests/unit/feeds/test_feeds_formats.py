"""Each decoder module declares its wire formats (feeds/decoders/format.py), and everything else
is derived from the declarations: the registry, the default topics and QoS, the feed a message
counts in."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import pytest

from dashboard.store.hot import FEEDS
from feeds.decoders import DECODERS, FORMATS, MODULES, Format, get_format, index_formats
from feeds.decoders.format import FEED_NAMES
from feeds.steps.decode import feed_of_topic
from feeds.topics import DEFAULT_QOS, DEFAULT_TOPICS, TopicRouter


def concrete(pattern: str) -> str:
    """A topic the pattern matches."""
    return "/".join("x" if level in ("+", "#") else level for level in pattern.split("/"))


def test_every_format_declares_all_its_metadata():
    assert MODULES, "the registry lists the decoder modules"
    for module in MODULES:
        declared = module.FORMATS
        assert isinstance(declared, tuple) and declared, module.__name__
        for fmt in declared:
            assert isinstance(fmt, Format), (module.__name__, fmt)
            assert isinstance(fmt.name, str) and fmt.name
            assert isinstance(fmt.topics, tuple) and fmt.topics and all(isinstance(t, str) and t for t in fmt.topics)
            assert fmt.qos in (0, 1, 2)
            assert fmt.feed in FEEDS
            assert callable(fmt.decode) and list(inspect.signature(fmt.decode).parameters) == ["topic", "payload", "ctx"]
            assert inspect.getmodule(fmt.decode) is module, f"{fmt.name} is declared by the module that decodes it"


def test_the_registry_holds_exactly_the_declared_formats():
    declared = [fmt for module in MODULES for fmt in module.FORMATS]
    assert list(FORMATS) == [fmt.name for fmt in declared]
    assert all(FORMATS[fmt.name] is fmt and DECODERS[fmt.name] is fmt.decode for fmt in declared)
    assert get_format("frigate.events").decode is DECODERS["frigate.events"]
    with pytest.raises(ValueError, match="unknown feed format"):
        get_format("no.such.format")


def test_default_topics_and_qos_are_derived_from_the_declarations():
    assert dict(DEFAULT_TOPICS) == {pattern: fmt.name for fmt in FORMATS.values() for pattern in fmt.topics}
    assert dict(DEFAULT_QOS) == {fmt.name: fmt.qos for fmt in FORMATS.values()}
    subscriptions = dict(TopicRouter().subscriptions())
    for fmt in FORMATS.values():
        for pattern in fmt.topics:
            assert subscriptions[pattern] == fmt.qos, pattern
            route = TopicRouter().route_for(concrete(pattern))
            assert (route.format, route.decoder, route.qos, route.feed) == (fmt.name, fmt.decode, fmt.qos, fmt.feed)


def test_a_configured_pattern_takes_its_formats_qos_and_feed_unless_given():
    router = TopicRouter({"city/cam/+": "frigate.events", "city/fix/+": {"format": "owntracks", "qos": 1}})
    assert dict(router.subscriptions()) == {"city/cam/+": 1, "city/fix/+": 1}
    assert router.route_for("city/cam/c1").feed == "video" and router.route_for("city/fix/f1").feed == "gps"


def test_a_refused_message_counts_in_its_formats_feed():
    router = TopicRouter()
    for fmt in FORMATS.values():
        for pattern in fmt.topics:
            assert feed_of_topic(router, concrete(pattern)) == fmt.feed, pattern
    # Unrouted: the native level that names a feed, else gps.
    assert feed_of_topic(router, "gridwall/video") == "video"
    assert feed_of_topic(router, "somewhere/else") == "gps"


def test_the_feeds_are_the_stores_counters():
    assert set(FEED_NAMES) == set(FEEDS)


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", ""), ("topics", ()), ("topics", "a/b"), ("topics", ("",)), ("qos", 3), ("feed", "radio"), ("decode", None)],
)
def test_an_incomplete_declaration_fails_on_import(field, value):
    good = {"name": "x.y", "topics": ("x/+",), "qos": 1, "feed": "case", "decode": DECODERS["native.case"]}
    with pytest.raises(ValueError):
        Format(**{**good, field: value})


def test_two_modules_cannot_claim_one_name_or_one_default_topic():
    decode = DECODERS["native.case"]
    a = SimpleNamespace(__name__="a", FORMATS=(Format("fmt.a", ("a/+",), 1, "case", decode),))
    same_name = SimpleNamespace(__name__="b", FORMATS=(Format("fmt.a", ("b/+",), 1, "case", decode),))
    same_topic = SimpleNamespace(__name__="c", FORMATS=(Format("fmt.c", ("a/+",), 1, "case", decode),))
    assert list(index_formats([a])) == ["fmt.a"]
    with pytest.raises(ValueError, match="declared twice"):
        index_formats([a, same_name])
    with pytest.raises(ValueError, match="claimed by"):
        index_formats([a, same_topic])
