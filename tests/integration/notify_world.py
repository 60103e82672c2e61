"""Alerts and recipients written straight into the database, and the notifier in a thread.

Rows are written the way ingest's alert engine writes them (an ``alerts`` row, an
``alert_events`` outbox row and ``NOTIFY shelfsense_alerts`` in one transaction), so these tests
do not depend on the engine:

    with CaptureServer() as capture, notifier_thread(url) as _:
        recipient(url, "anna", [f"ntfy://{capture.base}/anna"])
        alert_id = open_alert(url)
        capture.wait_for(1)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, time
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest.notifier.channels import Notifier
from ingest.notifier.config import NotifyConfig
from ingest.notifier.policy import PolicyConfig
from ingest.notifier.service import run_notify
from shelfsense.clock import Clock
from shelfsense.domain import Severity

SITE = "notify-store"
FAST = {
    "poll_s": 0.5,
    "tick_s": 0.05,
    "retry_base_s": 0.05,
    "retry_cap_s": 0.2,
    "http_timeout_s": 2.0,
    "lease_s": 5.0,
}


def connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(url, autocommit=True)


def rows(url: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def recipient(
    url: str,
    name: str,
    channels: Sequence[str],
    *,
    level: int = 1,
    min_severity: str = "warning",
    quiet: tuple[time, time] | None = None,
    timezone: str = "UTC",
    digest_severity: str | None = None,
    token_id: int | None = None,
) -> int:
    start, end = quiet or (None, None)
    with connect(url) as conn:
        row = conn.execute(
            "insert into recipients (name, escalation_level, min_severity, channels, timezone, "
            "quiet_start, quiet_end, digest_severity, token_id) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (
                name,
                level,
                min_severity,
                list(channels),
                timezone,
                start,
                end,
                digest_severity,
                token_id,
            ),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _event(conn: psycopg.Connection[tuple[Any, ...]], alert_id: int, kind: str, sev: str) -> int:
    row = conn.execute(
        "insert into alert_events (site_id, alert_id, event, severity, ts, payload) "
        "values (%s, %s, %s, %s, now(), %s) returning id",
        (SITE, alert_id, kind, sev, Jsonb({})),
    ).fetchone()
    assert row is not None
    note = json.dumps({"site": SITE, "event_id": int(row[0])})
    conn.execute("select pg_notify('shelfsense_alerts', %s)", (note,))
    return int(row[0])


def open_alert(
    url: str, *, severity: str = "major", sku: str = "TUNA-160", type_: str = "out_of_stock"
) -> int:
    """A new active alert and its ``opened`` event; returns the alert id."""
    location = f"floor/aisle-1/{sku.lower()}"
    with connect(url) as conn, conn.transaction():
        row = conn.execute(
            "insert into alerts (site_id, type, subject, severity, location_id, sku, opened_at, "
            "updated_at, details) values (%s, %s, %s, %s, %s, %s, now(), now(), %s) returning id",
            (
                SITE,
                type_,
                f"location:{location}|sku:{sku}",
                severity,
                location,
                sku,
                Jsonb({"qty": 0, "min_qty": 4}),
            ),
        ).fetchone()
        assert row is not None
        _event(conn, int(row[0]), "opened", severity)
    return int(row[0])


def update_alert(url: str, alert_id: int, severity: str) -> int:
    with connect(url) as conn, conn.transaction():
        conn.execute(
            "update alerts set severity = %s, updates = updates + 1, updated_at = now() "
            "where id = %s",
            (severity, alert_id),
        )
        return _event(conn, alert_id, "updated", severity)


def clear_alert(url: str, alert_id: int) -> int:
    with connect(url) as conn, conn.transaction():
        row = conn.execute(
            "update alerts set status = 'cleared', cleared_at = now() where id = %s "
            "returning severity",
            (alert_id,),
        ).fetchone()
        assert row is not None
        return _event(conn, alert_id, "cleared", str(row[0]))


def deliveries(url: str, alert_id: int) -> list[dict[str, Any]]:
    names = ("id", "recipient_id", "kind", "status", "attempts", "last_error", "channel", "digest")
    found = rows(
        url, f"select {', '.join(names)} from deliveries where alert_id = %s order by id", alert_id
    )
    return [dict(zip(names, r, strict=True)) for r in found]


def processed(url: str, event_id: int) -> bool:
    return bool(rows(url, "select 1 from notify_processed where alert_event_id = %s", event_id))


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000)


@contextmanager
def notifier_thread(
    url: str,
    *,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    public_url: str | None = None,
    escalation_delays_s: tuple[float, ...] = (300.0,),
    digest_every_s: float = 900.0,
    repeat_every_s: Mapping[Severity, float] | None = None,
    repeat_max: int = 3,
    **overrides: Any,
) -> Iterator[NotifyConfig]:
    """The notifier in a thread with fast timers; reminders are off unless ``repeat_every_s``
    names intervals (so the other tests count messages without them)."""
    policy = PolicyConfig(
        digest_every_s=digest_every_s,
        escalation_delays_s=escalation_delays_s,
        repeat_every_s=dict(repeat_every_s or {}),
        repeat_max=repeat_max,
    )
    config = NotifyConfig(
        database_url=url, public_url=public_url, policy=policy, **{**FAST, **overrides}
    )
    stop, ready = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_notify(config, stop=stop, clock=clock, notifier=notifier, ready=ready)
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=target, name="notify", daemon=True)
    thread.start()
    try:
        assert ready.wait(30), "the notifier did not start within 30 s"
        assert not errors, f"the notifier failed to start: {errors[0]!r}"
        yield config
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive(), "the notifier did not stop within 20 s"
    assert not errors, f"the notifier failed: {errors[0]!r}"
