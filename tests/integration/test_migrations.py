"""Migrations: idempotent, safe to run concurrently, and the native path is what runs here."""

from __future__ import annotations

import threading

import psycopg

from shelfsense.db.migrate import Backend, _files, upgrade


def test_upgrade_twice_is_a_no_op_and_records_the_backend(empty_database_url: str) -> None:
    first = upgrade(empty_database_url)
    assert first and all(".timescale." not in name for name in first)
    assert upgrade(empty_database_url) == []
    with psycopg.connect(empty_database_url) as conn:
        backend = conn.execute(
            "select value from shelfsense_meta where key = 'timeseries_backend'"
        ).fetchone()
        parts = conn.execute(
            "select count(*) from pg_partitioned_table p join pg_class c on c.oid = p.partrelid"
            " where c.relname in ('rfid_reads','weight_samples','sensor_readings')"
        ).fetchone()
    assert backend == (Backend.NATIVE,)
    assert parts == (3,)


def test_concurrent_upgrades_apply_each_file_once(empty_database_url: str) -> None:
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(upgrade(empty_database_url)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    applied = [name for r in results for name in r]
    assert sorted(applied) == sorted(
        f.name for f in _files("incremental") if f.backend in (None, Backend.NATIVE)
    )


def test_partitions_are_created_ahead_and_dropped_by_age(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("select shelfsense_ensure_partitions('2025-01-01', '2025-01-03')")
        conn.execute("select shelfsense_ensure_partitions('2025-01-02', '2025-01-03')")  # again
        conn.execute(
            "insert into rfid_reads (ts, site_id, device_id, ant, epc) values"
            " ('2025-01-02 12:00Z', 's', 'd', 1, '30')"
        )
        dropped = conn.execute(
            "select shelfsense_drop_partitions_before('rfid_reads', '2025-01-03')"
        ).fetchone()
        left = conn.execute("select count(*) from rfid_reads").fetchone()
    assert dropped == (2,)  # 1 and 2 January; 3 January is kept
    assert left == (0,)


def test_timescale_files_pair_with_native_ones() -> None:
    """Every time-series file exists on both paths, so the same queries find the same tables."""
    files = _files("incremental")
    native = {f.version for f in files if f.backend == Backend.NATIVE}
    timescale = {f.version for f in files if f.backend == Backend.TIMESCALE}
    assert native == timescale
