"""``append_many``, one contract for both spools: every test runs against MemorySpool and
SqliteSpool (as in tests/integration/test_spool_contract.py, which covers ``append``).

Tests marked for ``sqlite`` only reopen the file (a restart) or break its tables on purpose.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.spools import SPOOL_FILE, OpenSpool, payload_with

from edge.errors import SpoolError
from edge.spool import MemorySpool, NewBatch, Spool, SqliteSpool


def item(stream_key: str, make_payload: Callable[[int], bytes] = payload_with) -> NewBatch:
    return NewBatch(stream_key, f"topic/{stream_key}", make_payload)


def test_each_item_gets_its_streams_next_seq_in_item_order(open_spool: OpenSpool) -> None:
    spool = open_spool()
    spool.append("a", "topic/a", payload_with)  # a is at seq 1 before the call
    stored = spool.append_many([item("a"), item("b"), item("a"), item("c"), item("a")])
    assert [(b.stream_key, b.seq, b.topic, b.payload) for b in stored] == [
        ("a", 1, "topic/a", b'{"seq":1}'),
        ("b", 0, "topic/b", b'{"seq":0}'),
        ("a", 2, "topic/a", b'{"seq":2}'),
        ("c", 0, "topic/c", b'{"seq":0}'),
        ("a", 3, "topic/a", b'{"seq":3}'),
    ]
    assert spool.pending()[1:] == stored, "stored in item order, as returned"
    after = spool.append_many([item("c"), item("a"), item("b")])
    assert [(b.stream_key, b.seq) for b in after] == [("c", 1), ("a", 4), ("b", 1)]
    assert spool.append("a", "topic/a", payload_with).seq == 5, "append continues the same seq"


def test_ids_increase_in_item_order_and_across_calls_even_after_the_queue_ran_empty(
    open_spool: OpenSpool,
) -> None:
    spool = open_spool()
    first = spool.append_many([item("a"), item("b"), item("a")])
    spool.ack_many(b.id for b in first)
    assert spool.backlog() == 0
    second = spool.append_many([item("b"), item("a")])
    ids = [b.id for b in first + second]
    assert ids == sorted(set(ids)), "strictly increasing"
    assert spool.pending(after_id=first[-1].id) == second


def test_a_failing_payload_builder_stores_nothing_of_the_call_and_uses_no_seq(
    open_spool: OpenSpool,
) -> None:
    spool = open_spool()
    kept = spool.append("a", "topic/a", payload_with)
    built: list[int] = []

    def noted(seq: int) -> bytes:
        built.append(seq)
        return payload_with(seq)

    def broken(seq: int) -> bytes:
        raise ValueError("cannot encode")

    with pytest.raises(ValueError, match="cannot encode"):
        spool.append_many([item("a", noted), item("b", noted), item("c", broken), item("a")])
    assert built == [1, 0], "the items before the broken one were built, then rolled back"
    assert spool.pending() == [kept]
    assert spool.backlog() == 1
    again = spool.append_many([item("a"), item("b"), item("c")])
    assert [(b.stream_key, b.seq) for b in again] == [("a", 1), ("b", 0), ("c", 0)]


def test_no_items_store_nothing(open_spool: OpenSpool) -> None:
    spool = open_spool()
    assert spool.append_many([]) == []
    assert spool.append_many(iter([])) == []
    assert spool.backlog() == 0
    assert spool.append("a", "topic/a", payload_with).seq == 0


def test_items_may_come_from_a_generator(open_spool: OpenSpool) -> None:
    spool = open_spool()
    stored = spool.append_many(item(key) for key in ("a", "a", "b"))
    assert [(b.stream_key, b.seq) for b in stored] == [("a", 0), ("a", 1), ("b", 0)]


@pytest.mark.parametrize("open_spool", ["sqlite"], indirect=True)
def test_what_append_many_returned_is_on_disk_and_seq_survives_a_restart(
    open_spool: OpenSpool,
) -> None:
    spool = open_spool()
    stored = spool.append_many([item("a"), item("b"), item("a")])
    spool = open_spool()
    assert spool.pending() == stored
    assert [b.seq for b in spool.append_many([item("b"), item("a")])] == [1, 2]


@pytest.mark.parametrize("open_spool", ["sqlite"], indirect=True)
def test_a_failing_insert_rolls_back_the_whole_call(open_spool: OpenSpool, tmp_path: Path) -> None:
    spool = open_spool()
    kept = spool.append("a", "topic/a", payload_with)
    with sqlite3.connect(tmp_path / SPOOL_FILE) as other:  # a row in the way of b's seq 0
        other.execute(
            "INSERT INTO batches (stream_key, seq, topic, payload) VALUES ('b', 0, 't', x'00')"
        )
    with pytest.raises(SpoolError, match="UNIQUE"):
        spool.append_many([item("a"), item("b"), item("c")])
    with sqlite3.connect(tmp_path / SPOOL_FILE) as other:
        other.execute("DELETE FROM batches WHERE stream_key = 'b'")
    assert spool.pending() == [kept]
    again = spool.append_many([item("a"), item("b"), item("c")])
    assert [(b.stream_key, b.seq) for b in again] == [("a", 1), ("b", 0), ("c", 0)]


# --- the same, over many shapes of calls ---------------------------------------------------

calls = st.lists(st.lists(st.sampled_from("abc"), max_size=6), min_size=1, max_size=5)


def _check_calls(spool: Spool, keys_per_call: list[list[str]]) -> None:
    returned = [spool.append_many([item(k) for k in keys]) for keys in keys_per_call]
    flat = [batch for batches in returned for batch in batches]
    assert [b.stream_key for b in flat] == [k for keys in keys_per_call for k in keys]
    for key in "abc":
        seqs = [b.seq for b in flat if b.stream_key == key]
        assert seqs == list(range(len(seqs))), f"stream {key}: gap-free, in order"
    assert all(b.payload == payload_with(b.seq) for b in flat)
    assert [b.id for b in flat] == sorted({b.id for b in flat})
    assert spool.pending(limit=10**6) == flat


@settings(max_examples=40)
@given(keys_per_call=calls)
def test_memory_spool_seqs_are_gap_free_per_stream_over_any_calls(
    keys_per_call: list[list[str]],
) -> None:
    _check_calls(MemorySpool(), keys_per_call)


@settings(max_examples=40)
@given(keys_per_call=calls)
def test_sqlite_spool_seqs_are_gap_free_per_stream_over_any_calls(
    keys_per_call: list[list[str]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spool = SqliteSpool(Path(tmp) / SPOOL_FILE)
        try:
            _check_calls(spool, keys_per_call)
        finally:
            spool.close()
