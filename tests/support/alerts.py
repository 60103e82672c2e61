"""Helpers for alerting tests: sensor and scale batches, and reads of alerts and their events."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import psycopg

from support.wire import weight


def sensor(seq: int, t0: int, temps_c: list[float], period_ms: int = 30_000) -> bytes:
    """One env batch of readings every ``period_ms`` from ``t0``."""
    readings = [{"ts": t0 + i * period_ms, "temp_c": t} for i, t in enumerate(temps_c)]
    body = {"v": 1, "seq": seq, "t0": t0, "t1": t0 + len(temps_c) * period_ms, "readings": readings}
    return json.dumps(body).encode()


def scale_seconds(seq0: int, t0: int, grams: Sequence[float]) -> list[bytes]:
    """One 1 s weight batch (10 Hz) per entry of ``grams``, with a little deterministic noise."""
    out = []
    for i, level in enumerate(grams):
        samples = [level + 0.3 * math.sin(1.7 * (i * 10 + k)) for k in range(10)]
        out.append(weight(seq0 + i, t0 + i * 1000, samples))
    return out


def alerts(url: str, site: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn:
        cur = conn.execute(
            """select id, type, subject, severity, status, location_id, sku, details, updates
               from alerts where site_id = %s order by id""",
            (site,),
        )
        names = [d.name for d in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def open_alerts(url: str, site: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {(a["type"], a["subject"]): a for a in alerts(url, site) if a["status"] != "cleared"}


def events(url: str, site: str) -> list[tuple[int, str, str, str]]:
    """(alert id, event, type, subject) in outbox order."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """select e.alert_id, e.event, a.type, a.subject from alert_events e
               join alerts a on a.id = e.alert_id where e.site_id = %s order by e.id""",
            (site,),
        ).fetchall()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
