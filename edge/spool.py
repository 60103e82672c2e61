"""The disk-first store-and-forward queue between the batcher and the broker.

A batch is stored before it is published and deleted only after the broker acknowledged it
(QoS 1 PUBACK), so a crash at any moment loses nothing that was stored and the worst case is a
re-publish (ingest de-duplicates by (stream, seq)). Invariants, for both implementations:

- ``append_many`` assigns each item its stream's next seq, in item order, and stores the payloads
  built with them in ONE transaction, all or nothing: if a payload builder or a write fails,
  nothing of the call is stored and no seq is used. A seq is never handed out twice, not even
  after a crash or restart. ``append`` is ``append_many`` of one item.
- a batch is on disk (committed) before ``append_many`` returns, so before it can be published.
- seq keeps increasing even when the queue is empty: the next seq of each stream lives in its
  own table (``streams``) and is never deleted. Losing the spool file restarts seq at 0, which
  ingest would take for duplicates; the spool file must live on persistent storage.
- ids increase forever (SQLite ``AUTOINCREMENT``), so a reader's ``after_id`` cursor never skips
  a batch stored after the queue ran empty.
- ``pending`` returns batches in id order, which is store order, which per stream is seq order.

``SqliteSpool`` runs SQLite in WAL mode with ``synchronous=FULL``: a committed append is on disk
before the batch can be published. With NORMAL a power cut could undo appends that the broker
already acknowledged downstream, and the rolled-back ``next_seq`` would hand the same seq to a
different batch, which ingest would then drop as a duplicate. Every commit costs one fsync, so
writers group: the agent stores all batches of one tick with one ``append_many``, and the
publisher acks in groups (``ack_many``). One process at a time: a second ``SqliteSpool`` on
the same file raises ``SpoolLocked``. The object is thread-safe (one connection, one lock).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple, Protocol

from edge.errors import SpoolError, SpoolLocked

SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    stream_key TEXT PRIMARY KEY,
    next_seq   INTEGER NOT NULL CHECK (next_seq >= 0)
);
CREATE TABLE IF NOT EXISTS batches (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_key TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    topic      TEXT    NOT NULL,
    payload    BLOB    NOT NULL,
    UNIQUE (stream_key, seq)
);
"""

MakePayload = Callable[[int], bytes]


class NewBatch(NamedTuple):
    """One item of ``append_many``: the payload is built once its seq is known."""

    stream_key: str
    topic: str
    make_payload: MakePayload


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    id: int
    stream_key: str
    seq: int
    topic: str
    payload: bytes


class Spool(Protocol):
    def append(self, stream_key: str, topic: str, make_payload: MakePayload) -> SpooledBatch:
        """Store ``make_payload(seq)`` under the stream's next seq, atomically."""
        ...

    def append_many(self, items: Iterable[NewBatch]) -> list[SpooledBatch]:
        """``append`` of every item, in order, in ONE transaction: all stored or none.

        Items of the same stream get consecutive seqs in item order, and ids increase in item
        order. If a payload builder raises (or the write fails) nothing of the call is stored,
        no seq is used, and the error propagates.
        """
        ...

    def pending(self, after_id: int = 0, limit: int = 1000) -> list[SpooledBatch]:
        """Up to ``limit`` stored batches with id > ``after_id``, oldest first."""
        ...

    def ack(self, batch_id: int) -> None:
        """Delete one batch (acknowledged by the broker). Unknown ids are ignored."""
        ...

    def ack_many(self, batch_ids: Iterable[int]) -> None: ...

    def backlog(self) -> int:
        """Batches stored and not yet acknowledged."""
        ...

    def close(self) -> None: ...


class MemorySpool:
    """The in-memory fake: same behaviour, nothing survives the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_seq: dict[str, int] = {}
        self._batches: dict[int, SpooledBatch] = {}
        self._last_id = 0

    def append(self, stream_key: str, topic: str, make_payload: MakePayload) -> SpooledBatch:
        return self.append_many([NewBatch(stream_key, topic, make_payload)])[0]

    def append_many(self, items: Iterable[NewBatch]) -> list[SpooledBatch]:
        with self._lock:
            next_seq: dict[str, int] = {}  # this call's seqs, kept apart until all payloads built
            stored: list[SpooledBatch] = []
            for stream_key, topic, make_payload in items:
                seq = next_seq.get(stream_key, self._next_seq.get(stream_key, 0))
                payload = make_payload(seq)
                batch_id = self._last_id + len(stored) + 1
                stored.append(SpooledBatch(batch_id, stream_key, seq, topic, payload))
                next_seq[stream_key] = seq + 1
            self._batches.update((batch.id, batch) for batch in stored)
            self._next_seq.update(next_seq)
            self._last_id += len(stored)
            return stored

    def pending(self, after_id: int = 0, limit: int = 1000) -> list[SpooledBatch]:
        with self._lock:
            ids = sorted(i for i in self._batches if i > after_id)[:limit]
            return [self._batches[i] for i in ids]

    def ack(self, batch_id: int) -> None:
        self.ack_many([batch_id])

    def ack_many(self, batch_ids: Iterable[int]) -> None:
        with self._lock:
            for batch_id in batch_ids:
                self._batches.pop(batch_id, None)

    def backlog(self) -> int:
        with self._lock:
            return len(self._batches)

    def close(self) -> None:
        pass


class SqliteSpool:
    """The spool in one SQLite file (plus ``-wal``/``-shm`` and a ``.lock`` file beside it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._lock_file = _lock_exclusively(self.path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            self._lock_file.close()
            raise SpoolError(f"cannot open spool {self.path}: {exc}") from exc

    def append(self, stream_key: str, topic: str, make_payload: MakePayload) -> SpooledBatch:
        return self.append_many([NewBatch(stream_key, topic, make_payload)])[0]

    def append_many(self, items: Iterable[NewBatch]) -> list[SpooledBatch]:
        items = list(items)
        if not items:
            return []
        with self._lock, self._transaction():
            next_seq: dict[str, int] = {}
            stored: list[SpooledBatch] = []
            for stream_key, topic, make_payload in items:
                seq = next_seq.get(stream_key)
                if seq is None:
                    seq = self._stored_next_seq(stream_key)
                payload = make_payload(seq)
                cursor = self._db.execute(
                    "INSERT INTO batches (stream_key, seq, topic, payload) VALUES (?, ?, ?, ?)",
                    (stream_key, seq, topic, payload),
                )
                assert cursor.lastrowid is not None
                stored.append(SpooledBatch(cursor.lastrowid, stream_key, seq, topic, payload))
                next_seq[stream_key] = seq + 1
            self._db.executemany(
                "INSERT INTO streams (stream_key, next_seq) VALUES (?, ?) "
                "ON CONFLICT (stream_key) DO UPDATE SET next_seq = excluded.next_seq",
                list(next_seq.items()),
            )
            return stored

    def _stored_next_seq(self, stream_key: str) -> int:
        row = self._db.execute(
            "SELECT next_seq FROM streams WHERE stream_key = ?", (stream_key,)
        ).fetchone()
        return int(row[0]) if row else 0

    def pending(self, after_id: int = 0, limit: int = 1000) -> list[SpooledBatch]:
        with self._lock, _translated("read"):
            rows = self._db.execute(
                "SELECT id, stream_key, seq, topic, payload FROM batches "
                "WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [SpooledBatch(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def ack(self, batch_id: int) -> None:
        self.ack_many([batch_id])

    def ack_many(self, batch_ids: Iterable[int]) -> None:
        ids = [(batch_id,) for batch_id in batch_ids]
        if not ids:
            return
        with self._lock, self._transaction():
            self._db.executemany("DELETE FROM batches WHERE id = ?", ids)

    def backlog(self) -> int:
        with self._lock, _translated("count"):
            return int(self._db.execute("SELECT count(*) FROM batches").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._lock_file.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT; ROLLBACK on any error; sqlite3 errors become SpoolError."""
        with _translated("begin"):
            self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise SpoolError(f"spool write failed: {exc}") from exc
            raise


@contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise SpoolError(f"spool {what} failed: {exc}") from exc


def _lock_exclusively(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = open(f"{path}.lock", "ab")  # noqa: SIM115 (held open while the spool is)
    try:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        lock_file.close()
        raise SpoolLocked(f"spool {path} is in use by another process") from exc
    os.set_inheritable(lock_file.fileno(), False)
    return lock_file
