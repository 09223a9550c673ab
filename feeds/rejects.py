"""Why a message was refused. Every refusal carries one of these codes and a sentence an operator
can act on; the code is what the counters and /healthz group by. Codes are at most 32
characters: the dead_letter.reason column's size."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    INVALID_JSON = "invalid_json"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"  # NaN or ±inf anywhere a number is expected
    COORD_OUT_OF_RANGE = "coord_out_of_range"  # not a place on Earth
    OUTSIDE_CITY = "outside_city"  # a place, but far outside the configured city bounds
    FUTURE_TIMESTAMP = "future_timestamp"
    OVERSIZED = "oversized"
    # Storable values only (the bounds are dashboard/limits.py's, checked by feeds/validate.py):
    TOO_LONG = "too_long"  # a text longer than its bound (its SQL column, mostly)
    BAD_TEXT = "bad_text"  # a NUL or a lone surrogate: text PostgreSQL cannot store
    TOO_DEEP = "too_deep"  # a case payload nested deeper than its bound
    TOO_LARGE = "too_large"  # a case payload larger than its bound, as JSON
    BAD_TIME = "bad_time"  # a time before 2000 or after 2100: a clock fault, or past what SQL keeps
    BAD_NUMBER = "bad_number"  # an integer beyond 64 bits in a case payload
    UNKNOWN_TOPIC = "unknown_topic"
    UNKNOWN_DEVICE = "unknown_device"
    UNKNOWN_ACTION = "unknown_action"
    ILLEGAL_TRANSITION = "illegal_transition"
    UNSUPPORTED = "unsupported"  # a known format, but a message type we do not take
    CONFLICTING_DUPLICATE = "conflicting_duplicate"  # an event_id already taken by a different event
    STORE_FAILED = "store_failed"  # passed every check, yet the database refused it (a bug to report)


class Rejected(Exception):
    """Raised by any pipeline step; the worker turns it into a dead letter and goes on."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


def store_failed(exc: BaseException) -> Rejected:
    """The refusal of a message that passed every check yet the database would not take: the
    ingest worker, a parked event's retry and `gridwall deadletters replay` all refuse it so."""
    return Rejected(Reason.STORE_FAILED, f"the database refused it: {type(exc).__name__}: {str(exc)[:300]}")
