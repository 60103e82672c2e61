"""One contract, two spools: every test runs against MemorySpool and SqliteSpool.

Tests marked `durable` reopen the spool (a restart), which only the SQLite spool survives.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
from support.spools import OpenSpool, payload_with

from edge.errors import SpoolLocked
from edge.spool import SqliteSpool


def test_append_assigns_seq_per_stream_from_zero_and_stores_the_payload_built_with_it(
    open_spool: OpenSpool,
) -> None:
    spool = open_spool()
    a0 = spool.append("s/g/a", "t/a", payload_with)
    b0 = spool.append("s/g/b", "t/b", payload_with)
    a1 = spool.append("s/g/a", "t/a", payload_with)
    assert [(b.stream_key, b.seq, b.payload) for b in (a0, b0, a1)] == [
        ("s/g/a", 0, b'{"seq":0}'),
        ("s/g/b", 0, b'{"seq":0}'),
        ("s/g/a", 1, b'{"seq":1}'),
    ]
    assert a0.id < b0.id < a1.id


def test_pending_is_in_id_order_after_a_cursor_and_bounded(open_spool: OpenSpool) -> None:
    spool = open_spool()
    stored = [spool.append(f"k{i % 3}", f"t{i % 3}", payload_with) for i in range(10)]
    assert spool.pending() == stored
    assert spool.pending(after_id=stored[3].id, limit=4) == stored[4:8]
    assert spool.pending(after_id=stored[-1].id) == []


def test_ack_deletes_and_backlog_counts_what_is_left(open_spool: OpenSpool) -> None:
    spool = open_spool()
    stored = [spool.append("k", "t", payload_with) for _ in range(5)]
    spool.ack(stored[1].id)
    spool.ack_many([stored[0].id, stored[3].id, 999_999])
    spool.ack(stored[1].id)  # a second PUBACK for a re-sent batch changes nothing
    assert spool.backlog() == 2
    assert [b.seq for b in spool.pending()] == [2, 4]


def test_a_failing_payload_builder_stores_nothing_and_uses_no_seq(open_spool: OpenSpool) -> None:
    spool = open_spool()

    def broken(seq: int) -> bytes:
        raise ValueError("cannot encode")

    with pytest.raises(ValueError, match="cannot encode"):
        spool.append("k", "t", broken)
    assert spool.backlog() == 0
    assert spool.append("k", "t", payload_with).seq == 0


def test_ids_keep_increasing_after_the_queue_ran_empty(open_spool: OpenSpool) -> None:
    spool = open_spool()
    first = spool.append("k", "t", payload_with)
    spool.ack(first.id)
    second = spool.append("k", "t", payload_with)
    assert second.id > first.id
    assert spool.pending(after_id=first.id) == [second]


@pytest.mark.parametrize("open_spool", ["sqlite"], indirect=True)
def test_seq_and_backlog_survive_a_restart_even_with_an_empty_queue(open_spool: OpenSpool) -> None:
    spool = open_spool()
    for _ in range(3):
        spool.ack(spool.append("k", "t", payload_with).id)
    kept = spool.append("other", "t", payload_with)
    spool = open_spool()
    assert spool.pending() == [kept]
    assert spool.append("k", "t", payload_with).seq == 3
    assert spool.append("other", "t", payload_with).seq == 1


def test_a_second_process_cannot_open_the_same_spool(tmp_path: Path) -> None:
    path = tmp_path / "edge.spool.sqlite"
    with pytest.raises(SpoolLocked):
        first = SqliteSpool(path)
        try:
            SqliteSpool(path)
        finally:
            first.close()
    SqliteSpool(path).close()  # free again once the holder closed it


def _append_forever(path: str, ready: Event) -> None:
    spool = SqliteSpool(path)
    ready.set()
    while True:
        spool.append("k", "t", payload_with)


def test_a_kill_9_mid_append_keeps_every_committed_batch_and_never_reuses_a_seq(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "edge.spool.sqlite")
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    writer = context.Process(target=_append_forever, args=(path, ready))
    writer.start()
    assert ready.wait(30)
    writer.join(0.5)  # let it append for a while; it never ends on its own
    os.kill(writer.pid or 0, signal.SIGKILL)
    writer.join()
    spool = SqliteSpool(path)
    try:
        seqs = [b.seq for b in spool.pending(limit=10**9)]
        assert seqs == list(range(len(seqs))) and seqs, "stored batches are gap-free from 0"
        assert spool.append("k", "t", payload_with).seq == len(seqs)
    finally:
        spool.close()
