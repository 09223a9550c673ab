"""Engines and schema upgrades. One function makes an engine from a URL, for both dialects."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite

MIGRATIONS = Path(__file__).with_name("migrations")


def _normalise(url: str) -> str:
    # psycopg 3 is the driver we ship; a bare postgresql:// would look for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


@cache
def engine_for(url: str) -> Engine:
    url = _normalise(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None + an explicit BEGIN IMMEDIATE: pysqlite's legacy transaction
        # handling otherwise upgrades read locks to write locks mid-transaction and hits
        # SQLITE_BUSY when the web workers read while ingest writes.
        engine = create_engine(url, isolation_level=None)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, _record: Any) -> None:
            cur = dbapi.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def dialect_insert(engine: Engine, table: Table) -> Any:
    """INSERT for this engine's dialect: both have ON CONFLICT (upserts, insert-if-new)."""
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(table)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", _normalise(url).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the schema to head. Safe to call from several processes at once on PostgreSQL:
    an advisory lock makes the others wait instead of racing on CREATE TABLE."""
    engine = engine_for(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(727172)"))
            try:
                command.upgrade(_with_connection(url, conn), "head")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(727172)"))
                conn.commit()
    else:
        with engine.connect() as conn:
            command.upgrade(_with_connection(url, conn), "head")


def _with_connection(url: str, conn: Any) -> Config:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    return cfg


def ping(url: str) -> bool:
    try:
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
