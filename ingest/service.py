"""Wiring of the ingest service: ``run_ingest(config, stop=...)``.

One thread (this one) owns the engine and its state. It takes groups of messages from the
broker seam, applies each group in one transaction, and only then acknowledges the group to
the broker. A database error rolls the transaction back, rebuilds the state from the database
and applies the same group again; until that succeeds nothing is acknowledged, so nothing
acknowledged is lost and the ledger makes sure nothing is applied twice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg

from ingest.config import IngestConfig
from ingest.engine import Engine
from ingest.subscriber import MqttSource, Received, Source
from shelfsense.clock import Clock, SystemClock
from shelfsense.db.migrate import upgrade

log = logging.getLogger(__name__)


def run_ingest(
    config: IngestConfig,
    *,
    stop: threading.Event,
    clock: Clock | None = None,
    source: Source | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Run until ``stop`` is set. ``ready`` is set once the subscription is in place."""
    clock = clock or SystemClock()
    upgrade(config.database_url)
    source = source or MqttSource(
        config.mqtt,
        client_id=config.client_id,
        topic_filters=config.topic_filters(),
        receive_maximum=config.receive_maximum,
        mqtt5=config.mqtt5,
    )
    conn = _connect(config.database_url, stop)
    if conn is None:
        return
    engine = Engine(config, conn)
    engine.rebuild(clock.now_ms())
    source.start()
    if source.wait_ready(30.0) and ready is not None:
        ready.set()
    log.info("ingest running: %s", ", ".join(config.topic_filters()))
    try:
        engine = _loop(engine, source, stop, clock)
    finally:
        _shutdown(engine, source)


class _Stopped(Exception):
    """Stop was asked for while recovering from a database error; nothing more is acked."""


def _loop(engine: Engine, source: Source, stop: threading.Event, clock: Clock) -> Engine:
    try:
        return _serve(engine, source, stop, clock)
    except _Stopped:
        return engine  # un-acknowledged messages stay with the broker's session


def _serve(engine: Engine, source: Source, stop: threading.Event, clock: Clock) -> Engine:
    cfg = engine.config
    next_snapshot = next_catalog = next_upkeep = time.monotonic()
    while not stop.is_set():
        group = source.take(cfg.group_max_messages, cfg.group_wait_s)
        if group:
            engine = _apply_until_done(engine, group, stop, clock)
            source.ack(group)
        now = time.monotonic()
        if now >= next_upkeep:
            next_upkeep = now + 3600
            engine = _guarded(engine, stop, clock, lambda e: e.upkeep(clock.now_ms()))
        if now >= next_catalog:
            next_catalog = now + cfg.catalog_poll_s
            engine = _guarded(engine, stop, clock, lambda e: _maybe_reload(e, clock))
            engine = _guarded(engine, stop, clock, lambda e: e.check_silence(clock.now_ms()))
            engine = _guarded(engine, stop, clock, lambda e: e.tick(clock.now_ms()))
        if now >= next_snapshot and engine.dirty:
            next_snapshot = now + cfg.snapshot_every_s
            engine = _guarded(engine, stop, clock, lambda e: e.save_snapshots())
    return engine


def _apply_until_done(
    engine: Engine, group: list[Received], stop: threading.Event, clock: Clock
) -> Engine:
    """Apply a group; on a database error rebuild and retry (with backoff) until it commits."""
    delay_s = 0.5
    while True:
        try:
            engine.process(group)
            return engine
        except psycopg.OperationalError as exc:
            log.error("database unavailable (%s); retrying in %.1f s", exc, delay_s)
        except psycopg.Error as exc:
            log.exception("applying a group failed (%s); rebuilding state", exc)
        if stop.wait(delay_s):
            raise _Stopped  # un-acknowledged: the broker delivers the group again
        delay_s = min(delay_s * 2, 10.0)
        engine = _rebuilt(engine, stop, clock)


def _guarded(engine: Engine, stop: threading.Event, clock: Clock, step: object) -> Engine:
    try:
        step(engine)  # type: ignore[operator]
        return engine
    except psycopg.Error as exc:
        log.error("database error (%s); rebuilding state", exc)
        return _rebuilt(engine, stop, clock)


def _maybe_reload(engine: Engine, clock: Clock) -> None:
    if engine.catalogs_changed():
        log.info("a site changed: reloading catalogs")
        engine.save_snapshots(list(engine.partitions))
        engine.rebuild(clock.now_ms())


def _rebuilt(engine: Engine, stop: threading.Event, clock: Clock) -> Engine:
    while not stop.is_set():
        conn = _connect(engine.config.database_url, stop)
        if conn is None:
            break
        try:
            engine.store.conn.close()
            fresh = Engine(engine.config, conn)
            fresh.counters = engine.counters
            fresh.rebuild(clock.now_ms())
            return fresh
        except psycopg.Error as exc:
            log.error("rebuilding state failed (%s); retrying", exc)
            stop.wait(2.0)
    raise _Stopped


def _connect(url: str, stop: threading.Event) -> psycopg.Connection[Any] | None:
    delay_s = 0.5
    while not stop.is_set():
        try:
            return psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:
            log.error("cannot connect to the database (%s); retrying in %.1f s", exc, delay_s)
            stop.wait(delay_s)
            delay_s = min(delay_s * 2, 10.0)
    return None


def _shutdown(engine: Engine, source: Source) -> None:
    try:
        engine.save_snapshots(list(engine.partitions))
    except psycopg.Error as exc:
        log.warning("could not save snapshots on shutdown: %s", exc)
    source.stop()
    engine.store.conn.close()
    c = engine.counters
    log.info(
        "ingest stopped: %d messages, %d accepted, %d duplicates, %d rejected, %d reads, "
        "%d movements",
        c.messages,
        c.accepted,
        c.duplicates,
        c.rejected,
        c.reads,
        c.movements,
    )
