"""Versioned migrations: ``shelfsense db upgrade``.

``sql/incremental/NNN-name[.native|.timescale].sql`` run once each, in order, inside one
transaction per file; ``.native`` and ``.timescale`` files run only on their back end.
``sql/idempotent/*.sql`` (functions, views) are re-applied on every upgrade. An advisory lock
makes concurrent upgrades (several services starting at once) safe, and a second upgrade is a
no-op, so every service may run it on start.

The time-series back end is chosen once, on the first upgrade: ``timescale`` when the server
lists the ``timescaledb`` extension as available (unless ``prefer`` says ``native``), else
``native`` (daily range partitions). It is recorded in ``shelfsense_meta`` and never switched.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

import psycopg

_LOCK_KEY = 0x5E1F5E45
_META = """
create table if not exists shelfsense_meta (key text primary key, value text not null);
create table if not exists schema_migrations (
    version text primary key, name text not null, applied_at timestamptz not null default now());
"""


class Backend(StrEnum):
    NATIVE = "native"
    TIMESCALE = "timescale"


class MigrationError(RuntimeError):
    """A migration file failed; the message names it."""


@dataclass(frozen=True, slots=True)
class SqlFile:
    version: str
    name: str
    backend: Backend | None
    sql: str


def _files(folder: str) -> list[SqlFile]:
    root = resources.files("shelfsense.db").joinpath("sql", folder)
    found = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        stem = entry.name.removesuffix(".sql")
        backend = None
        for candidate in Backend:
            if stem.endswith("." + candidate):
                backend, stem = candidate, stem.removesuffix("." + candidate)
        version = stem.split("-", 1)[0]
        found.append(SqlFile(version, entry.name, backend, entry.read_text()))
    return found


def detect_backend(conn: psycopg.Connection[Any]) -> Backend:
    """TimescaleDB when the server offers the extension and preloads its library (without
    ``shared_preload_libraries = 'timescaledb'`` the extension cannot be created)."""
    row = conn.execute(
        """select exists (select 1 from pg_available_extensions where name = 'timescaledb')
                  and current_setting('shared_preload_libraries') like '%timescaledb%'"""
    ).fetchone()
    return Backend.TIMESCALE if row and row[0] else Backend.NATIVE


def _recorded_backend(conn: psycopg.Connection[Any], prefer: Backend | None) -> Backend:
    row = conn.execute(
        "select value from shelfsense_meta where key = 'timeseries_backend'"
    ).fetchone()
    if row:
        return Backend(str(row[0]))
    backend = detect_backend(conn) if prefer in (None, Backend.TIMESCALE) else Backend.NATIVE
    conn.execute(
        "insert into shelfsense_meta (key, value) values ('timeseries_backend', %s)", (backend,)
    )
    return backend


def upgrade(database_url: str, *, prefer: Backend | None = None) -> list[str]:
    """Bring the schema up to date; returns the names of the files applied (empty: no-op)."""
    applied: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute(_META)
            backend = _recorded_backend(conn, prefer)
            done = {str(r[0]) for r in conn.execute("select version from schema_migrations")}
            for file in _files("incremental"):
                if file.version in done or file.backend not in (None, backend):
                    continue
                _apply(conn, file, record=True)
                applied.append(file.name)
            for file in _files("idempotent"):
                _apply(conn, file, record=False)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def _apply(conn: psycopg.Connection[Any], file: SqlFile, *, record: bool) -> None:
    try:
        with conn.transaction():
            conn.execute(file.sql.encode())
            if record:
                conn.execute(
                    "insert into schema_migrations (version, name) values (%s, %s)",
                    (file.version, file.name),
                )
    except psycopg.Error as exc:
        raise MigrationError(f"migration {file.name} failed: {exc}") from exc
