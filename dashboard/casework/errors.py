"""Refusals of the case domain. The feeds layer turns each into a dead letter with its reason."""

from __future__ import annotations


class CaseworkError(Exception):
    """Base class: ``reason`` is a sentence an operator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownAction(CaseworkError):
    """The action string is not in the wire vocabulary of ``actions.Action``."""


class IllegalTransition(CaseworkError):
    """The action is known but not allowed in the case's current state (docs/domain.md §4)."""


class InvalidCaseData(CaseworkError):
    """A case field carried by an event cannot be used (wrong type, unknown category, ...)."""
