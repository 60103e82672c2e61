"""The database seam of alerting in ingest: what rules need that ingest does not track itself
(ranges, reorder points, lots, rule overrides), the open alerts, and the writes of changes.

Every write runs inside the engine's current transaction. An alert change writes the ``alerts``
row, one ``alert_events`` row (the outbox) and ``NOTIFY shelfsense_alerts`` with
``{"site", "event_id"}``; a change whose row the API changed meanwhile (cleared by hand) writes
nothing (``where status <> 'cleared'``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest.alert_lifecycle import Change, Clear, Open, OpenAlert, Refresh, Update, event_of
from ingest.alert_rules import Desired
from ingest.coldchain import TempRange
from ingest.lots import LotQty, consume_fefo
from ingest.store import dt, ms
from shelfsense.alerting import ALERTS_CHANNEL, AlertType
from shelfsense.domain import AlertStatus, Severity


@dataclass(frozen=True, slots=True)
class SiteExtras:
    timezone: str = "UTC"
    temp_ranges: Mapping[str, TempRange] = field(default_factory=dict)
    reorder_points: Mapping[str, int] = field(default_factory=dict)
    lead_days: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WeightLot:
    lot_id: int
    sku: str
    lot_code: str
    location: str
    expiry: date
    remaining: int


@dataclass(frozen=True, slots=True)
class TaggedLot:
    lot_id: int
    sku: str
    lot_code: str
    expiry: date
    epcs: tuple[str, ...]


class AlertStore:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    # -- reads ---------------------------------------------------------------------------
    def extras(self) -> dict[str, SiteExtras]:
        found: dict[str, SiteExtras] = {}
        for site, tz in self.conn.execute("select site_id, timezone from sites").fetchall():
            found[str(site)] = SiteExtras(
                str(tz), self._ranges(str(site)), *self._product_numbers(str(site))
            )
        return found

    def _ranges(self, site: str) -> dict[str, TempRange]:
        rows = self.conn.execute(
            """select location_id, temp_min_c, temp_max_c, coalesce(excursion_after_s, 900)
               from locations where site_id = %s and active and temp_min_c is not null
               and temp_max_c is not null""",
            (site,),
        ).fetchall()
        return {str(r[0]): TempRange(float(r[1]), float(r[2]), int(r[3])) for r in rows}

    def _product_numbers(self, site: str) -> tuple[dict[str, int], dict[str, int]]:
        rows = self.conn.execute(
            "select sku, reorder_point, expiry_lead_days from products where site_id = %s"
            " and active",
            (site,),
        ).fetchall()
        reorder = {str(r[0]): int(r[1]) for r in rows if r[1] is not None}
        lead = {str(r[0]): int(r[2]) for r in rows if r[2] is not None}
        return reorder, lead

    def rule_overrides(self) -> dict[str, dict[str, tuple[bool, Mapping[str, Any]]]]:
        found: dict[str, dict[str, tuple[bool, Mapping[str, Any]]]] = {}
        for site, key, enabled, params in self.conn.execute(
            "select site_id, rule_key, enabled, params from alert_rules"
        ).fetchall():
            found.setdefault(str(site), {})[str(key)] = (bool(enabled), params or {})
        return found

    def tag_positions(self, site: str) -> list[tuple[str, str | None, str, int]]:
        rows = self.conn.execute(
            "select epc, sku, location_id, since from rfid_tags where site_id = %s"
            " and location_id is not null",
            (site,),
        ).fetchall()
        return [(str(r[0]), r[1], str(r[2]), ms(r[3])) for r in rows]

    def weight_lots(self, site: str, horizon: date) -> list[WeightLot]:
        rows = self.conn.execute(
            """select lot_id, sku, lot_code, location_id, expiry_date, remaining_qty from lots
               where site_id = %s and remaining_qty > 0 and expiry_date <= %s
               order by expiry_date, lot_id""",
            (site, horizon),
        ).fetchall()
        return [
            WeightLot(int(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4], int(r[5])) for r in rows
        ]

    def tagged_lots(self, site: str, horizon: date) -> list[TaggedLot]:
        rows = self.conn.execute(
            """select l.lot_id, l.sku, l.lot_code, l.expiry_date, array_agg(i.epc order by i.epc)
               from lots l join lot_items i on i.lot_id = l.lot_id
               where l.site_id = %s and l.expiry_date <= %s
               group by l.lot_id order by l.expiry_date, l.lot_id""",
            (site, horizon),
        ).fetchall()
        return [TaggedLot(int(r[0]), str(r[1]), str(r[2]), r[3], tuple(r[4])) for r in rows]

    def open_alerts(self, site: str) -> list[OpenAlert]:
        rows = self.conn.execute(
            """select id, type, subject, severity, status, opened_at, details from alerts
               where site_id = %s and status <> 'cleared'""",
            (site,),
        ).fetchall()
        kinds = set(AlertType)
        return [
            OpenAlert(
                int(r[0]),
                AlertType(r[1]),
                str(r[2]),
                Severity(r[3]),
                AlertStatus(r[4]),
                ms(r[5]),
                r[6] or {},
            )
            for r in rows
            if r[1] in kinds
        ]

    def env_readings_after(
        self, site: str, gateway: str, after_id: int
    ) -> Iterator[tuple[str, int, float]]:
        """(device, ts_ms, temp_c) of the env batches after ``after_id``, in ledger order."""
        rows = self.conn.execute(
            """select l.device_id, r.ts, r.temp_c from batch_ledger l
               join sensor_readings r on r.site_id = l.site_id and r.device_id = l.device_id
                 and r.ts >= l.t0 and r.ts < l.t1
               where l.site_id = %s and l.gateway_id = %s and l.id > %s and l.kind = 'env'
                 and r.temp_c is not null
               order by l.id, r.ts""",
            (site, gateway, after_id),
        )
        for device, ts, temp_c in rows:
            yield str(device), ms(ts), float(temp_c)

    # -- writes --------------------------------------------------------------------------
    def consume(self, site: str, sku: str, location: str, units: int) -> int:
        """Take ``units`` first-expiry-first-out from the lots there; units taken from lots."""
        rows = self.conn.execute(
            """select lot_id, expiry_date, remaining_qty from lots where site_id = %s
               and sku = %s and location_id = %s and remaining_qty > 0 for update""",
            (site, sku, location),
        ).fetchall()
        lots = [LotQty(int(r[0]), r[1], int(r[2])) for r in rows]
        before = {lot.lot_id: lot.remaining for lot in lots}
        changed = consume_fefo(lots, units)
        with self.conn.cursor() as cur:
            cur.executemany(
                "update lots set remaining_qty = %s where lot_id = %s",
                [(lot.remaining, lot.lot_id) for lot in changed],
            )
        return sum(before[lot.lot_id] - lot.remaining for lot in changed)

    def apply(self, site: str, changes: Sequence[Change]) -> int:
        """Write the changes; the number of outbox events written."""
        events = 0
        for change in changes:
            row = self._write(site, change)
            kind = event_of(change)
            if row is not None and kind is not None:
                self._event(site, row, kind, change)
                events += 1
        return events

    def _write(self, site: str, change: Change) -> tuple[int, str, str] | None:
        """(alert id, severity, status) of the row written; None if nothing was."""
        match change:
            case Open(want, _):
                row = self.conn.execute(
                    """insert into alerts (site_id, type, subject, severity, status, location_id,
                         sku, device_id, lot_id, opened_at, updated_at, details)
                       values (%s, %s, %s, %s, 'active', %s, %s, %s, %s, %s, %s, %s)
                       on conflict (site_id, type, subject) where status <> 'cleared' do nothing
                       returning id, severity, status""",
                    (
                        site,
                        str(want.type),
                        want.subject,
                        str(want.severity),
                        want.location,
                        want.sku,
                        want.device,
                        want.lot_id,
                        dt(want.since_ms),
                        dt(want.since_ms),
                        Jsonb(dict(want.details)),
                    ),
                ).fetchone()
            case Update(alert, want, ts_ms) | Refresh(alert, want, ts_ms):
                bump = 1 if isinstance(change, Update) else 0
                row = self.conn.execute(
                    """update alerts set severity = %s, details = %s, updated_at = %s,
                         updates = updates + %s where id = %s and status <> 'cleared'
                       returning id, severity, status""",
                    (str(want.severity), Jsonb(dict(want.details)), dt(ts_ms), bump, alert.id),
                ).fetchone()
            case Clear(alert, ts_ms):
                row = self.conn.execute(
                    """update alerts set status = 'cleared', cleared_at = %s, updated_at = %s
                       where id = %s and status <> 'cleared' returning id, severity, status""",
                    (dt(ts_ms), dt(ts_ms), alert.id),
                ).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

    def _event(self, site: str, row: tuple[int, str, str], kind: str, change: Change) -> None:
        alert_id, severity, status = row
        payload = _payload(change, status)
        inserted = self.conn.execute(
            """insert into alert_events (site_id, alert_id, event, severity, ts, payload)
               values (%s, %s, %s, %s, %s, %s) returning id""",
            (site, alert_id, kind, severity, dt(_event_ms(change)), Jsonb(payload)),
        ).fetchone()
        assert inserted is not None
        notice = json.dumps({"site": site, "event_id": int(inserted[0])})
        self.conn.execute("select pg_notify(%s, %s)", (ALERTS_CHANNEL, notice))


def _event_ms(change: Change) -> int:
    match change:
        case Open(_, ts_ms) | Update(_, _, ts_ms) | Refresh(_, _, ts_ms) | Clear(_, ts_ms):
            return ts_ms


def _payload(change: Change, status: str) -> dict[str, Any]:
    match change:
        case Open(want, _) | Update(_, want, _) | Refresh(_, want, _):
            return _desired_payload(want, status)
        case Clear(alert, _):
            return {
                "type": str(alert.type),
                "subject": alert.subject,
                "status": status,
                "details": dict(alert.details),
            }


def _desired_payload(want: Desired, status: str) -> dict[str, Any]:
    return {
        "type": str(want.type),
        "subject": want.subject,
        "status": status,
        "location": want.location,
        "sku": want.sku,
        "device": want.device,
        "lot_id": want.lot_id,
        "details": dict(want.details),
    }
