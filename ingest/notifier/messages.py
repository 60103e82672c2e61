"""PURE wording of notifications: short enough for a phone's lock screen.

    title  "[MAJOR] Out of stock: TUNA-160"            (kind and severity first)
    body   "floor/aisle-1/shelf-1 · demo-store\nqty 0 (min 4)"

Digests fold several deliveries for one recipient into one message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ingest.notifier.model import AlertEvent, DeliveryKind

_TYPE_WORDS = {
    "out_of_stock": "Out of stock",
    "low_stock": "Low stock",
    "stale": "No data",
    "device_silent": "Device silent",
    "gateway_offline": "Gateway offline",
    "temperature": "Temperature out of range",
    "misplaced": "Misplaced item",
    "expiry": "Expiring stock",
}
_KIND_PREFIX = {
    DeliveryKind.ALERT: "",
    DeliveryKind.UPDATE: "Worse: ",
    DeliveryKind.ESCALATION: "Unacknowledged: ",
    DeliveryKind.RESOLVED: "Resolved: ",
}
_DETAIL_KEYS = ("qty", "min_qty", "temp_c", "message")


def describe(alert_type: str) -> str:
    return _TYPE_WORDS.get(alert_type, alert_type.replace("_", " ").capitalize())


def title(event: AlertEvent, kind: DeliveryKind) -> str:
    what = event.alert.sku or event.alert.device_id or event.alert.location_id
    headline = describe(event.alert.type) + (f": {what}" if what else "")
    if kind is DeliveryKind.RESOLVED:
        return _KIND_PREFIX[kind] + headline
    return f"[{event.severity.upper()}] {_KIND_PREFIX[kind]}{headline}"


def body(event: AlertEvent, kind: DeliveryKind) -> str:
    where = event.alert.location_id or event.alert.subject
    lines = [f"{where} · {event.site_id}"]
    facts = _facts(event.alert.details)
    if facts and kind is not DeliveryKind.RESOLVED:
        lines.append(facts)
    if kind is DeliveryKind.ESCALATION:
        lines.append(f"nobody acknowledged it (level {event.level})")
    return "\n".join(lines)


def _facts(details: Mapping[str, Any]) -> str:
    parts = [f"{key.replace('_', ' ')} {details[key]}" for key in _DETAIL_KEYS if key in details]
    return ", ".join(parts)


def digest(titles: Sequence[str]) -> tuple[str, str]:
    """(title, body) of one digest message listing ``titles`` in order."""
    if len(titles) == 1:
        return titles[0], "(digest)"
    return f"{len(titles)} alerts (digest)", "\n".join(f"• {t}" for t in titles)
