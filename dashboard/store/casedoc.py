"""CaseState <-> JSON document, for the SQL projection (case.doc) and the Redis hot state.

Generic over casework's frozen dataclasses: enums become their values, nested dataclasses dicts,
tuples lists; reading back follows the field type hints. So a field added to CaseState needs no
change here.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from functools import cache
from typing import Any

from dashboard.casework.casestate import CaseState


def to_doc(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_doc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [to_doc(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _from(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is not type(None):
                return _from(arg, value)
    if origin is tuple:
        (inner, *_rest) = typing.get_args(tp)
        return tuple(_from(inner, v) for v in value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        return tp(**{k: _from(hints[k], v) for k, v in value.items() if k in hints})
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def from_doc(doc: dict[str, Any]) -> CaseState:
    return _from(CaseState, doc)
