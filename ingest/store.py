"""The database seam of ingest: everything it writes and reads back (psycopg 3).

All writes of one group of messages happen inside the caller's transaction, so a batch's
ledger row, raw rows, movements and stock changes commit together or not at all. Bulk rows
(raw reads, samples) go through binary COPY. ``ensure_partitions`` creates daily partitions
before rows for a new day are written (a no-op on TimescaleDB).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest.copybin import HEADER, TRAILER, rfid_copy_rows
from ingest.effects import MovementRow, TagPosition
from ingest.pipeline import LedgerEntry
from ingest.stockbook import Cell, CellChange
from shelfsense.domain import StockState
from shelfsense.wire import RfidColumns, SensorReading

NOTIFY_CHANNEL = "shelfsense_events"
_COPY_READS = (
    "copy rfid_reads (ts, site_id, device_id, ant, epc, rssi, n) from stdin (format binary)"
)
_DAY_MS = 86_400_000


def dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


class Store:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._days: set[date] = set()

    # -- ledger ---------------------------------------------------------------------------
    def insert_ledger(self, entries: Sequence[LedgerEntry]) -> list[int | None]:
        """Ledger ids in input order; None where (site, gateway, device, seq) was seen before.

        One statement for the whole group. Ids are drawn in input order (the rows are inserted
        sorted by their position), so the inserted entries take the returned ids in ascending
        order; which entries were inserted follows from the keys that came back.
        """
        if not entries:
            return []
        rows = self.conn.execute(
            """insert into batch_ledger (site_id, gateway_id, device_id, kind, seq, t0, t1, ants,
                 items, event)
               select site, gw, dev, kind, seq, t0, t1, ants::int[], items, event
               from unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[],
                           %s::timestamptz[], %s::timestamptz[], %s::text[], %s::int[],
                           %s::jsonb[]) with ordinality
                    as x(site, gw, dev, kind, seq, t0, t1, ants, items, event, ord)
               order by ord
               on conflict (site_id, gateway_id, device_id, seq) where seq is not null
               do nothing
               returning id, site_id, gateway_id, device_id, seq""",
            (
                [e.site_id for e in entries],
                [e.gateway_id for e in entries],
                [e.device_id for e in entries],
                [e.kind for e in entries],
                [e.seq for e in entries],
                [dt(e.t0_ms) for e in entries],
                [dt(e.t1_ms) for e in entries],
                [
                    None if e.ants is None else "{" + ",".join(map(str, e.ants)) + "}"
                    for e in entries
                ],
                [e.items for e in entries],
                [Jsonb(e.event) if e.event else None for e in entries],
            ),
        ).fetchall()
        fresh = {(r[1], r[2], r[3], r[4]) for r in rows if r[4] is not None}
        inserted: list[bool] = []
        for e in entries:
            key = (e.site_id, e.gateway_id, e.device_id, e.seq)
            inserted.append(e.seq is None or key in fresh)
            fresh.discard(key)  # a repeat inside the same group is a duplicate too
        ids = iter(sorted(int(r[0]) for r in rows))
        result = [next(ids) if ok else None for ok in inserted]
        assert next(ids, None) is None, "ledger ids and inserted entries disagree"
        return result

    def dead_letter(
        self, topic: str, reason: str, payload: bytes, ids: Sequence[str | None]
    ) -> None:
        site, gateway, device = [*ids, None, None, None][:3]
        self.conn.execute(
            """insert into dead_letters (topic, site_id, gateway_id, device_id, reason,
                 size_bytes, payload) values (%s, %s, %s, %s, %s, %s, %s)""",
            (topic, site, gateway, device, reason, len(payload), payload[:65536]),
        )

    # -- raw telemetry --------------------------------------------------------------------
    def ensure_partitions(self, lo_ms: int, hi_ms: int) -> None:
        """Daily partitions for every day in [lo, hi] (upkeep: a few days around now)."""
        self.ensure_days(range(lo_ms // _DAY_MS, hi_ms // _DAY_MS + 1))

    def ensure_days(self, days: Iterable[int]) -> None:
        """Daily partitions for exactly these days (epoch days of rows about to be written):
        a batch with a stray timestamp costs one partition, not one per day in between."""
        missing = {date(1970, 1, 1) + timedelta(days=d) for d in days} - self._days
        for day in sorted(missing):
            self.conn.execute(
                "select shelfsense_ensure_partitions(%s, %s)", (dt(ms_of(day)), dt(ms_of(day)))
            )
        self._days.update(missing)

    def drop_partitions_before(self, table: str, cutoff_ms: int) -> int:
        row = self.conn.execute(
            "select shelfsense_drop_partitions_before(%s, %s)", (table, dt(cutoff_ms))
        ).fetchone()
        self._days = {d for d in self._days if ms_of(d) >= cutoff_ms}
        return int(row[0]) if row else 0

    def forget_partitions(self) -> None:
        self._days.clear()

    def copy_rfid_reads(self, batches: Sequence[tuple[str, str, RfidColumns]]) -> None:
        """Raw reads of many batches (site, device, columns): one binary COPY for the fast ones."""
        fast = [rfid_copy_rows(site, device, cols) for site, device, cols in batches]
        with self.conn.cursor().copy(_COPY_READS) as copy:
            copy.write(HEADER + b"".join(rows for rows in fast if rows is not None) + TRAILER)
        for rows, (site, device, cols) in zip(fast, batches, strict=True):
            if rows is None and len(cols):
                self._copy_rows_slowly(site, device, cols)

    def _copy_rows_slowly(self, site: str, device: str, cols: RfidColumns) -> None:
        with self.conn.cursor().copy(_COPY_READS) as copy:
            copy.set_types(["timestamptz", "text", "text", "int2", "text", "float4", "int4"])
            for epc, ant, rssi, ts, n in zip(
                cols.epc, cols.ant, cols.rssi, cols.ts, cols.n, strict=True
            ):
                copy.write_row((dt(ts), site, device, ant, epc, rssi, n))

    def write_weight(
        self, site: str, device: str, t0: int, t1: int, hz: float, grams: Sequence[float]
    ) -> None:
        self.conn.execute(
            """insert into weight_samples (t0, t1, site_id, device_id, hz, grams)
               values (%s, %s, %s, %s, %s, %s)""",
            (dt(t0), dt(t1), site, device, hz, list(grams)),
        )

    def write_sensor(
        self, site: str, device: str, location: str | None, readings: Sequence[SensorReading]
    ) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                """insert into sensor_readings (ts, site_id, device_id, location_id, temp_c, rh,
                     batt_v) values (%s, %s, %s, %s, %s, %s, %s)""",
                [(dt(r.ts), site, device, location, r.temp_c, r.rh, r.batt_v) for r in readings],
            )

    # -- stock ----------------------------------------------------------------------------
    def insert_movements(self, site: str, ledger_id: int, rows: Sequence[MovementRow]) -> list[int]:
        """One round trip for any number of movements; ids in input order."""
        if not rows:
            return []
        result = self.conn.execute(
            """insert into movements (site_id, ts, sku, epc, from_location, to_location, qty,
                 kind, source, confidence, device_id, ledger_id, evidence)
               select %s, ts, sku, epc, fl, tl, qty, kind, source, conf, dev, %s, ev
               from unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[],
                           %s::int[], %s::text[], %s::text[], %s::real[], %s::text[],
                           %s::jsonb[]) with ordinality
                    as m(ts, sku, epc, fl, tl, qty, kind, source, conf, dev, ev, ord)
               order by ord
               returning id""",
            (
                site,
                ledger_id,
                [dt(m.ts_ms) for m in rows],
                [m.sku for m in rows],
                [m.epc for m in rows],
                [m.from_location for m in rows],
                [m.to_location for m in rows],
                [m.qty for m in rows],
                [str(m.kind) for m in rows],
                [str(m.source) for m in rows],
                [m.confidence for m in rows],
                [m.device_id or None for m in rows],
                [Jsonb(dict(m.evidence)) for m in rows],
            ),
        )
        return sorted(int(r[0]) for r in result.fetchall())

    def write_stock(self, site: str, changes: Sequence[CellChange]) -> None:
        """Every change into ``stock_history``; the latest per cell into ``stock``."""
        if not changes:
            return
        self._write_history(site, changes)
        latest = list({(c.sku, c.location): c for c in changes}.values())
        columns = (
            [c.sku for c in latest],
            [c.location for c in latest],
            [c.qty for c in latest],
            [str(c.state) for c in latest],
            [dt(c.ts_ms) for c in latest],
        )
        self.conn.execute(
            """insert into stock (site_id, sku, location_id, qty, state, updated_at)
               select %s, * from unnest(%s::text[], %s::text[], %s::int[], %s::text[],
                                        %s::timestamptz[])
               on conflict (site_id, sku, location_id) do update set qty = excluded.qty,
                 state = excluded.state, updated_at = excluded.updated_at""",
            (site, *columns),
        )

    def _write_history(self, site: str, changes: Sequence[CellChange]) -> None:
        """As deltas, in order (see shelfsense_record_stock): back-dated changes stay true."""
        self.conn.execute(
            "select shelfsense_record_stock(%s, %s, %s, %s, %s, %s)",
            (
                site,
                [c.sku for c in changes],
                [c.location for c in changes],
                [dt(c.ts_ms) for c in changes],
                [c.delta for c in changes],
                [str(c.state) for c in changes],
            ),
        )

    def write_tags(self, site: str, tags: Iterable[TagPosition]) -> None:
        latest = list({t.epc: t for t in tags}.values())
        if not latest:
            return
        self.conn.execute(
            """insert into rfid_tags (site_id, epc, sku, location_id, since)
               select %s, * from unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[])
               on conflict (site_id, epc) do update set sku = excluded.sku,
                 location_id = excluded.location_id, since = excluded.since""",
            (
                site,
                [t.epc for t in latest],
                [t.sku for t in latest],
                [t.location for t in latest],
                [dt(t.since_ms) for t in latest],
            ),
        )

    def touch_devices(self, site: str, last_t1: dict[str, int]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                """update devices set last_seen_at = now(),
                     last_t1 = greatest(last_t1, %s) where site_id = %s and device_id = %s""",
                [(dt(t1), site, dev) for dev, t1 in last_t1.items()],
            )

    def set_gateway(self, site: str, gateway: str, status: dict[str, Any]) -> None:
        self.conn.execute(
            """insert into gateways (site_id, gateway_id, state, sw, backlog, status_at,
                 last_seen_at) values (%s, %s, %s, %s, %s, %s, now())
               on conflict (site_id, gateway_id) do update set state = excluded.state,
                 sw = coalesce(excluded.sw, gateways.sw), backlog = excluded.backlog,
                 status_at = excluded.status_at, last_seen_at = now()""",
            (
                site,
                gateway,
                status.get("state", "unknown"),
                status.get("sw"),
                status.get("backlog"),
                dt(int(status["ts"])) if status.get("ts") else None,
            ),
        )

    def notify(self, event: dict[str, Any]) -> None:
        self.conn.execute("select pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(event)))

    # -- restart --------------------------------------------------------------------------
    def save_snapshot(self, site: str, gateway: str, ledger_id: int, state: dict[str, Any]) -> None:
        self.conn.execute(
            """insert into ingest_snapshots (site_id, gateway_id, ledger_id, state, saved_at)
               values (%s, %s, %s, %s, now())
               on conflict (site_id, gateway_id) do update set ledger_id = excluded.ledger_id,
                 state = excluded.state, saved_at = now()""",
            (site, gateway, ledger_id, Jsonb(state)),
        )

    def load_snapshots(self) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        rows = self.conn.execute(
            "select site_id, gateway_id, ledger_id, state from ingest_snapshots"
        ).fetchall()
        return {(str(r[0]), str(r[1])): (int(r[2]), r[3]) for r in rows}

    def load_stock(self, site: str) -> dict[tuple[str, str], Cell]:
        rows = self.conn.execute(
            "select sku, location_id, qty, state, updated_at from stock where site_id = %s", (site,)
        ).fetchall()
        return {(str(r[0]), str(r[1])): Cell(int(r[2]), StockState(r[3]), ms(r[4])) for r in rows}

    def ledger_partitions(self) -> list[tuple[str, str]]:
        rows = self.conn.execute("select distinct site_id, gateway_id from batch_ledger").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    def ledger_after(self, site: str, gateway: str, after_id: int) -> Iterator[dict[str, Any]]:
        cur = self.conn.cursor(name=f"replay_{site}_{gateway}".replace("-", "_"))
        cur.execute(
            """select id, device_id, kind, seq, t0, t1, ants, event from batch_ledger
               where site_id = %s and gateway_id = %s and id > %s order by id""",
            (site, gateway, after_id),
        )
        for r in cur:
            yield {
                "id": r[0],
                "device_id": r[1],
                "kind": r[2],
                "seq": r[3],
                "t0": ms(r[4]),
                "t1": ms(r[5]),
                "ants": r[6],
                "event": r[7],
            }
        cur.close()

    def rfid_reads(self, site: str, device: str, t0: int, t1: int) -> dict[str, list[Any]]:
        rows = self.conn.execute(
            """select epc, ant, rssi, ts, n from rfid_reads where site_id = %s and device_id = %s
               and ts >= %s and ts < %s order by ts, epc, ant""",
            (site, device, dt(t0), dt(t1)),
        ).fetchall()
        return {
            "epc": [r[0] for r in rows],
            "ant": [r[1] for r in rows],
            "rssi": [r[2] for r in rows],
            "ts": [ms(r[3]) for r in rows],
            "n": [r[4] for r in rows],
        }

    def weight_grams(self, site: str, device: str, t0: int) -> tuple[float, list[float]] | None:
        row = self.conn.execute(
            "select hz, grams from weight_samples"
            " where site_id = %s and device_id = %s and t0 = %s",
            (site, device, dt(t0)),
        ).fetchone()
        return (float(row[0]), [float(g) for g in row[1]]) if row else None


def ms_of(day: date) -> int:
    return ms(datetime(day.year, day.month, day.day, tzinfo=UTC))
