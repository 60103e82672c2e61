"""The API's one seam to PostgreSQL: a small async connection pool.

``ConnectionPool`` is the protocol routes depend on; ``SimplePool`` is a minimal implementation
(psycopg_pool is not installed here; ``psycopg_pool.AsyncConnectionPool`` fits the same protocol
and can replace it without touching any route).

Every pooled connection is in autocommit mode with the session time zone set to UTC, so each read
is its own snapshot and every ``timestamptz`` comes back as an aware UTC ``datetime``. At most
``max_size`` connections are open at once; a caller waits for a free one. A connection that
broke (server restart) or was left inside a transaction is closed instead of returned, and one
that sat idle for more than ``CHECK_IDLE_S`` is pinged before reuse (a restarted server has
closed it; the caller then gets a fresh one instead of an error).

Errors (``DatabaseUnavailable``) are the API's translation of psycopg's connection failures:

    DatabaseUnavailable   the server cannot be reached or dropped the connection -> 503
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import psycopg
from psycopg.pq import TransactionStatus

Connection = psycopg.AsyncConnection[tuple[object, ...]]
CHECK_IDLE_S = 5.0


class DatabaseUnavailable(RuntimeError):
    """The database could not be reached or dropped the connection."""


class ConnectionPool(Protocol):
    def connection(self) -> AbstractAsyncContextManager[Connection]: ...
    async def close(self) -> None: ...


async def connect(url: str, *, timeout_s: float, autocommit: bool = True) -> Connection:
    """One UTC, autocommit connection; ``DatabaseUnavailable`` when the server is unreachable."""
    try:
        return await psycopg.AsyncConnection.connect(
            url,
            autocommit=autocommit,
            connect_timeout=max(1, round(timeout_s)),
            options="-c TimeZone=UTC",
        )
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc


class SimplePool:
    """Up to ``max_size`` connections, opened on demand and kept idle for reuse."""

    def __init__(self, url: str, *, max_size: int, connect_timeout_s: float) -> None:
        self._url = url
        self._timeout_s = connect_timeout_s
        self._slots = asyncio.Semaphore(max_size)
        self._idle: list[tuple[Connection, float]] = []  # (connection, monotonic s idle since)
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        if self._closed:
            raise DatabaseUnavailable("the connection pool is closed")
        async with self._slots:
            conn = await self._reuse() or await connect(self._url, timeout_s=self._timeout_s)
            try:
                yield conn
            finally:
                await self._give_back(conn)

    async def _reuse(self) -> Connection | None:
        """The most recently used idle connection that still works, if any."""
        while self._idle:
            conn, since = self._idle.pop()
            if time.monotonic() - since < CHECK_IDLE_S and not conn.closed:
                return conn
            try:
                await conn.execute("select 1")
                return conn
            except psycopg.Error:
                await conn.close()
        return None

    async def _give_back(self, conn: Connection) -> None:
        reusable = not (conn.closed or conn.broken or self._closed)
        if reusable and conn.info.transaction_status != TransactionStatus.IDLE:
            reusable = False
        if reusable:
            self._idle.append((conn, time.monotonic()))
        else:
            await conn.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn, _ in idle:
            await conn.close()
