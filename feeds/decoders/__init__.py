"""Decoders: one module per wire format, each declaring its formats (``FORMATS``, see
feeds/decoders/format.py); this registry lists the modules once and indexes their formats.

Contract of every decoder::

    decode(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]

It returns the records the message means (possibly none: a message type that is known but
ignored on purpose), or raises ``Rejected(reason, sentence)``; nothing else escapes. Topics are
mapped to format names by feeds/topics.py.

Adding a wire format: write its module (ending with ``FORMATS``), add the module to ``MODULES``
below, and test it. Its default topics, QoS and feed follow from its declaration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType, ModuleType

from feeds.decoders import frigate, native, open311, osmand, owntracks, traccar
from feeds.decoders.context import (
    CameraInfo,
    DecodeContext,
    DeviceInfo,
    ServiceCategory,
)
from feeds.decoders.format import Decoder, Feed, Format

# The order is the order of the default subscriptions.
MODULES: tuple[ModuleType, ...] = (native, owntracks, traccar, frigate, open311, osmand)


def index_formats(modules: Iterable[ModuleType]) -> dict[str, Format]:
    """Every module's declared formats by name. Two formats with one name, or two claiming the
    same default topic, are a programming error and fail on import."""
    formats: dict[str, Format] = {}
    topics: dict[str, str] = {}
    for module in modules:
        for fmt in module.FORMATS:
            if fmt.name in formats:
                raise ValueError(f"format {fmt.name!r} is declared twice ({module.__name__})")
            for pattern in fmt.topics:
                if pattern in topics:
                    raise ValueError(f"default topic {pattern!r} is claimed by {topics[pattern]} and {fmt.name}")
                topics[pattern] = fmt.name
            formats[fmt.name] = fmt
    return formats


FORMATS: Mapping[str, Format] = MappingProxyType(index_formats(MODULES))
DECODERS: Mapping[str, Decoder] = MappingProxyType({name: f.decode for name, f in FORMATS.items()})


def get_format(name: str) -> Format:
    """The format registered under ``name``; ValueError (a configuration error) otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown feed format {name!r}; known formats: {', '.join(sorted(FORMATS))}") from None


def get_decoder(name: str) -> Decoder:
    return get_format(name).decode


__all__ = [
    "DECODERS",
    "FORMATS",
    "MODULES",
    "CameraInfo",
    "DecodeContext",
    "Decoder",
    "DeviceInfo",
    "Feed",
    "Format",
    "ServiceCategory",
    "get_decoder",
    "get_format",
    "index_formats",
]
