"""The ingest engine: owns all mutable ingest state and applies groups of messages.

One thread calls ``process`` with a group of received messages; the engine decodes and routes
them (pure), inserts their ledger rows (dropping duplicates), feeds the new ones through the
partition trackers (pure), and writes everything the group changed, in one transaction. If the
transaction fails the in-memory state may be ahead of the database, so the engine throws it
away and rebuilds it from the last snapshots plus a replay of the ledger (``rebuild``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ingest.alert_store import AlertStore
from ingest.alerting import Alerting
from ingest.catalog import SiteCatalog, catalog_versions, load_catalogs
from ingest.config import IngestConfig
from ingest.effects import Effects
from ingest.ownership import book_effects
from ingest.partition import Partition
from ingest.pipeline import Accepted, LedgerEntry, PartitionKey, apply, ledger_entry, route
from ingest.replay import replay_partition
from ingest.stockbook import StockBook
from ingest.store import Store
from ingest.subscriber import Received
from shelfsense.wire import (
    GatewayStatus,
    RfidBatch,
    RfidColumns,
    SensorBatch,
    WeightBatch,
    decode,
)

log = logging.getLogger(__name__)
_DAY_MS = 86_400_000


@dataclass(slots=True)
class Counters:
    messages: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    reads: int = 0
    movements: int = 0
    unknown_epcs: int = 0


@dataclass(slots=True)
class _SiteWrites:
    """What one group changed in one site, collected before the stock book is consulted."""

    movement_ids: list[int] = field(default_factory=list)
    last_t1: dict[str, int] = field(default_factory=dict)
    alerts: bool = False
    max_ledger_id: int = 0


class Engine:
    def __init__(self, config: IngestConfig, conn: psycopg.Connection[Any]) -> None:
        self.config = config
        self.store = Store(conn)
        self.counters = Counters()
        self.catalogs: dict[str, SiteCatalog] = {}
        self.books: dict[str, StockBook] = {}
        self.partitions: dict[PartitionKey, Partition] = {}
        self.last_ledger_id: dict[PartitionKey, int] = {}
        self.dirty: set[PartitionKey] = set()
        self.last_arrival_ms: dict[PartitionKey, int] = {}
        self.silenced: set[PartitionKey] = set()
        self._raw_reads: list[tuple[str, str, RfidColumns]] = []  # this group's, COPYed at its end
        self.alerting = Alerting(AlertStore(conn))

    # -- lifecycle ------------------------------------------------------------------------
    def rebuild(self, now_ms: int) -> None:
        """(Re)load everything from the database: catalogs, stock, snapshots + ledger replay."""
        conn = self.store.conn
        self.store.forget_partitions()
        with conn.transaction():
            self.catalogs = load_catalogs(conn)
            self.alerting.load(self.catalogs, now_ms)
            self.books = {
                site: StockBook(cat.min_qty, self.store.load_stock(site))
                for site, cat in self.catalogs.items()
            }
            snapshots = self.store.load_snapshots()
            keys = set(snapshots) | set(self.store.ledger_partitions())
            keys |= {
                (s, d.gateway_id) for s, c in self.catalogs.items() for d in c.devices.values()
            }
            self.partitions, self.last_ledger_id = {}, {}
            for key in sorted(k for k in keys if k[0] in self.catalogs):
                self._load_partition(key, snapshots.get(key))
            for site in self.catalogs:
                ts_ms = self._site_watermark(site) or now_ms
                self._seed_planogram(site, ts_ms)
                self._restate_observability(site, ts_ms)
            self._write_stock(self.catalogs)
        self.dirty.clear()

    def upkeep(self, now_ms: int) -> None:
        """Hourly: daily partitions two days ahead, and raw telemetry past its retention dropped
        (native partitions; TimescaleDB's own policies do both there)."""
        day_ms = 86_400_000
        cfg = self.config
        with self.store.conn.transaction():
            self.store.ensure_partitions(now_ms - day_ms, now_ms + 2 * day_ms)
            for table, days in (
                ("rfid_reads", cfg.raw_retention_days),
                ("weight_samples", cfg.raw_retention_days),
                ("sensor_readings", cfg.sensor_retention_days),
            ):
                self.store.drop_partitions_before(table, now_ms - days * day_ms)

    def catalogs_changed(self) -> bool:
        versions = catalog_versions(self.store.conn)
        self.store.conn.commit()
        return versions != {s: c.version for s, c in self.catalogs.items()}

    def save_snapshots(self, keys: Iterable[PartitionKey] | None = None) -> None:
        with self.store.conn.transaction():
            for key in list(keys if keys is not None else self.dirty):
                part = self.partitions.get(key)
                if part is not None and key in self.last_ledger_id:
                    self.store.save_snapshot(*key, self.last_ledger_id[key], part.snapshot())
        self.dirty.clear()

    # -- the hot path ---------------------------------------------------------------------
    def process(self, group: Sequence[Received]) -> None:
        writes: dict[str, _SiteWrites] = {}
        with self.store.conn.transaction():
            accepted: list[tuple[Received, Accepted, LedgerEntry]] = []
            for msg in group:
                self.counters.messages += 1
                routed = route(
                    decode(msg.topic, msg.payload, prefix=self.config.prefix), self.catalogs
                )
                if isinstance(routed, Accepted):
                    accepted.append((msg, routed, ledger_entry(routed, msg.arrival_ms)))
                else:
                    self._reject(msg, routed.reason, routed.topic)
            ids = self.store.insert_ledger([e for _, _, e in accepted])
            for (msg, acc, entry), ledger_id in zip(accepted, ids, strict=True):
                if ledger_id is None:
                    self.counters.duplicates += 1
                    continue
                self._apply_new(msg, acc, entry, ledger_id, writes)
            self._finish_group(writes, max(m.arrival_ms for m in group))

    def check_silence(self, now_ms: int) -> None:
        """A gateway that sent nothing for ``partition_silence_s`` (wall time): its devices
        stop observing at their last event time. Recorded in the ledger, so replays agree."""
        limit_ms = int(self.config.partition_silence_s * 1000)
        quiet = [
            k
            for k, t in self.last_arrival_ms.items()
            if now_ms - t > limit_ms and k not in self.silenced and k in self.partitions
        ]
        if not quiet:
            return
        writes: dict[str, _SiteWrites] = {}
        with self.store.conn.transaction():
            for key in quiet:
                part = self.partitions[key]
                entry = LedgerEntry(
                    key[0],
                    key[1],
                    "",
                    "silence",
                    None,
                    part.watermark_ms,
                    part.watermark_ms + 1,
                    None,
                    0,
                    {"wall_ms": now_ms},
                )
                (ledger_id,) = self.store.insert_ledger([entry])
                assert ledger_id is not None
                effects = part.gateway_offline(part.watermark_ms)
                self._record(key, ledger_id, effects, entry, writes)
                self.silenced.add(key)
                log.warning(
                    "gateway %s/%s silent for %.0f s: its stock is unknown", *key, limit_ms / 1000
                )
            self._finish_group(writes, now_ms)

    def tick(self, now_ms: int) -> None:
        """Time-based alerting for every site (expiry by wall time, offline devices by event
        time), with rule overrides and lots reloaded: the service calls it every
        ``catalog_poll_s``."""
        with self.store.conn.transaction():
            self.alerting.refresh(self.catalogs, now_ms)
            for site in self.catalogs:
                if self._evaluate_alerts(site, now_ms):
                    self.store.notify(
                        {
                            "site": site,
                            "ledger_id": self._site_ledger_id(site),
                            "movements": [],
                            "stock_changed": False,
                            "alerts": True,
                        }
                    )

    # -- internals ------------------------------------------------------------------------
    def _apply_new(
        self,
        msg: Received,
        acc: Accepted,
        entry: LedgerEntry,
        ledger_id: int,
        writes: dict[str, _SiteWrites],
    ) -> None:
        key = acc.key
        part = self.partitions.get(key) or self._new_partition(key)
        self.counters.accepted += 1
        self.last_arrival_ms[key] = msg.arrival_ms
        self.silenced.discard(key)
        payload = acc.message.payload
        self._write_raw(key[0], acc, payload)
        if isinstance(payload, SensorBatch) and acc.device and acc.device.location:
            readings = [(r.ts, r.temp_c) for r in payload.readings if r.temp_c is not None]
            part.feed_temperatures(acc.device.location, readings)
        effects = apply(part, acc, entry)
        self._record(key, ledger_id, effects, entry, writes)
        if isinstance(payload, GatewayStatus):
            self.store.set_gateway(key[0], key[1], payload.model_dump(mode="json"))
        elif acc.device is not None:
            site_writes = writes.setdefault(key[0], _SiteWrites())
            site_writes.last_t1[acc.device.device_id] = entry.t1_ms

    def _record(
        self,
        key: PartitionKey,
        ledger_id: int,
        effects: Effects,
        entry: LedgerEntry,
        writes: dict[str, _SiteWrites],
    ) -> None:
        site = key[0]
        site_writes = writes.setdefault(site, _SiteWrites())
        site_writes.max_ledger_id = max(site_writes.max_ledger_id, ledger_id)
        self.last_ledger_id[key] = ledger_id
        self.dirty.add(key)
        if effects.unknown_epcs:
            self.counters.unknown_epcs += len(effects.unknown_epcs)
            self.store.dead_letter(
                f"{self.config.prefix}/v1/{site}/{key[1]}/rfid/{entry.device_id}",
                "non-SGTIN EPCs counted as unknown tags (the rest of the batch was applied): "
                + ", ".join(effects.unknown_epcs[:20]),
                b"",
                (site, key[1], entry.device_id),
            )
        if effects.movements:
            site_writes.movement_ids += self.store.insert_movements(
                site, ledger_id, effects.movements
            )
            self.counters.movements += len(effects.movements)
        self.store.write_tags(site, effects.tags)
        self.alerting.tags_moved(site, self.catalogs[site], effects.tags)
        self.alerting.picked(site, effects.movements)
        self._book_effects(site, effects, entry.t1_ms)

    def _book_effects(self, site: str, effects: Effects, ts_ms: int) -> None:
        book_effects(self.books[site], self.catalogs[site], effects)
        self._restate_observability(site, ts_ms)

    def _restate_observability(self, site: str, ts_ms: int) -> None:
        unobservable: set[str] = set()
        for (s, _), part in self.partitions.items():
            if s == site:
                unobservable |= part.unobservable_locations()
        self.books[site].set_unobservable(unobservable, ts_ms)

    def _finish_group(self, writes: Mapping[str, _SiteWrites], wall_ms: int) -> None:
        if self._raw_reads:  # the group's raw reads, in one binary COPY
            self.store.copy_rfid_reads(self._raw_reads)
            self._raw_reads = []
        changed = self._write_stock(writes)
        for site, w in writes.items():
            w.alerts = self._evaluate_alerts(site, wall_ms) > 0
            if w.last_t1:
                self.store.touch_devices(site, w.last_t1)
            self.store.notify(
                {
                    "site": site,
                    "ledger_id": w.max_ledger_id,
                    "movements": w.movement_ids[:200],
                    "stock_changed": site in changed,
                    "alerts": w.alerts,
                }
            )

    def _write_stock(self, sites: Iterable[str]) -> set[str]:
        changed = set()
        for site in sites:
            changes = self.books[site].drain_changes()
            if changes:
                self.store.write_stock(site, changes)
                changed.add(site)
        return changed

    def _write_raw(self, site: str, acc: Accepted, payload: object) -> None:
        device = acc.device
        if device is None:
            return
        if isinstance(payload, RfidBatch):
            cols = payload.columns()
            if len(cols):
                self.store.ensure_days(_days_of(cols.ts))
                self._raw_reads.append((site, device.device_id, cols))
                self.counters.reads += len(cols)
        elif isinstance(payload, WeightBatch):
            self.store.ensure_days({payload.t0 // _DAY_MS})
            self.store.write_weight(
                site, device.device_id, payload.t0, payload.t1, payload.hz, payload.g
            )
        elif isinstance(payload, SensorBatch) and payload.readings:
            self.store.ensure_days(_days_of([r.ts for r in payload.readings]))
            self.store.write_sensor(site, device.device_id, device.location, payload.readings)

    def _reject(self, msg: Received, reason: str, topic: object | None) -> None:
        self.counters.rejected += 1
        ids = (
            getattr(topic, "site", None),
            getattr(topic, "gateway", None),
            getattr(topic, "device", None),
        )
        self.store.dead_letter(
            msg.topic, reason, msg.payload, tuple(str(i) if i is not None else None for i in ids)
        )
        log.info("dead letter from %s: %s", msg.topic, reason)

    def _new_partition(self, key: PartitionKey) -> Partition:
        part = Partition(
            self.catalogs[key[0]],
            key[1],
            self.config.tracker,
            scale_silence_ms=self.config.scale_silence_ms,
            temp_ranges=self.alerting.temp_ranges(key[0]),
        )
        self.partitions[key] = part
        return part

    def _load_partition(self, key: PartitionKey, snap: tuple[int, dict[str, Any]] | None) -> None:
        part = self._new_partition(key)
        after = 0
        if snap is not None:
            after, state = snap
            part.restore(state)
        self.last_ledger_id[key] = replay_partition(self.store, part, key, after)
        self.alerting.replay_temperatures(part, after)

    def _seed_planogram(self, site: str, ts_ms: int) -> None:
        catalog, book = self.catalogs[site], self.books[site]
        for loc in sorted(catalog.observed_locations()):
            sku = catalog.locations[loc].sku
            if sku is not None:
                book.ensure(sku, loc, ts_ms)

    def _evaluate_alerts(self, site: str, wall_ms: int) -> int:
        parts = [p for (s, _), p in sorted(self.partitions.items()) if s == site]
        return self.alerting.evaluate(self.catalogs[site], self.books[site], parts, wall_ms)

    def _site_ledger_id(self, site: str) -> int:
        return max((i for (s, _), i in self.last_ledger_id.items() if s == site), default=0)

    def _site_watermark(self, site: str) -> int:
        marks = [p.watermark_ms for (s, _), p in self.partitions.items() if s == site]
        return max(marks, default=0)


def _days_of(ts_ms: list[int]) -> set[int]:
    """Epoch days that rows with these timestamps fall in (usually one or two)."""
    lo, hi = min(ts_ms) // _DAY_MS, max(ts_ms) // _DAY_MS
    return {lo, hi} if hi - lo <= 1 else {ts // _DAY_MS for ts in ts_ms}
