"""Decoders: one module per wire format, one registry from format name to decode function.

Contract of every decoder::

    decode(topic: str, payload: bytes, ctx: DecodeContext) -> list[Record]

It returns the records the message means (possibly none: a message type that is known but
ignored on purpose), or raises ``Rejected(reason, sentence)``; nothing else escapes. Topics are
mapped to these names by feeds/topics.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from dashboard.records import Record
from feeds.decoders import frigate, native, open311, osmand, owntracks, traccar
from feeds.decoders.context import (
    CameraInfo,
    DecodeContext,
    DeviceInfo,
    ServiceCategory,
)

Decoder = Callable[[str, bytes, DecodeContext], list[Record]]

DECODERS: Mapping[str, Decoder] = MappingProxyType(
    {
        "native.gps": native.decode_gps,
        "native.video": native.decode_video,
        "native.case": native.decode_case,
        "owntracks": owntracks.decode,
        "traccar.positions": traccar.decode_position,
        "traccar.events": traccar.decode_event,
        "frigate.events": frigate.decode_event,
        "frigate.reviews": frigate.decode_review,
        "open311": open311.decode,
        "osmand": osmand.decode,
    }
)


def get_decoder(name: str) -> Decoder:
    """The decoder registered under ``name``; ValueError (a configuration error) otherwise."""
    try:
        return DECODERS[name]
    except KeyError:
        raise ValueError(f"unknown feed format {name!r}; known formats: {', '.join(sorted(DECODERS))}") from None


__all__ = [
    "DECODERS",
    "CameraInfo",
    "DecodeContext",
    "Decoder",
    "DeviceInfo",
    "ServiceCategory",
    "get_decoder",
]
