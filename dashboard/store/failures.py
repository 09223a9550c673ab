"""Telling a failure that will pass from one that will not.

A transient failure (the database or Redis unreachable, restarting or busy; a table not yet
migrated) says "not now": the batch is kept and retried with backoff, and nothing is lost. Any
other failure of a batch that passed validation says "never, for one of these messages": the
batch is split to find it (feeds/ingest.py; parked events: feeds/pipeline.py). Here, because
the store is what knows its servers' exceptions."""

from __future__ import annotations

import redis
from sqlalchemy import exc as sql_exc

TRANSIENT: tuple[type[BaseException], ...] = (
    sql_exc.OperationalError, sql_exc.InterfaceError, sql_exc.DisconnectionError, sql_exc.TimeoutError,
    sql_exc.ProgrammingError,  # a missing table: a deployment to finish, not a message to refuse
    redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError, redis.ReadOnlyError, OSError,
)


def transient(exc: BaseException) -> bool:
    if isinstance(exc, sql_exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)
