"""PURE wording of notifications: short enough for a phone's lock screen.

    title  "[MAJOR] Out of stock: TUNA-160"            (kind and severity first)
    body   "floor/aisle-1/shelf-1 · demo-store\nqty 0 (min 4)"
    reminder  "[CRITICAL] Reminder 2: Out of stock: TUNA-160" + "…\nreminder 2 of 3, not
              acknowledged yet"

Digests fold several deliveries for one recipient into one message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ingest.notifier.model import AlertEvent, AlertInfo, DeliveryKind
from shelfsense.domain import Severity

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
    DeliveryKind.REMINDER: "Reminder: ",
}
_DETAIL_KEYS = ("qty", "min_qty", "temp_c", "message")


def describe(alert_type: str) -> str:
    return _TYPE_WORDS.get(alert_type, alert_type.replace("_", " ").capitalize())


def _headline(alert: AlertInfo) -> str:
    what = alert.sku or alert.device_id or alert.location_id
    return describe(alert.type) + (f": {what}" if what else "")


def title(event: AlertEvent, kind: DeliveryKind) -> str:
    headline = _headline(event.alert)
    if kind is DeliveryKind.RESOLVED:
        return _KIND_PREFIX[kind] + headline
    return f"[{event.severity.upper()}] {_KIND_PREFIX[kind]}{headline}"


def body(event: AlertEvent, kind: DeliveryKind) -> str:
    lines = _where_and_facts(event.alert, event.site_id, kind is not DeliveryKind.RESOLVED)
    if kind is DeliveryKind.ESCALATION:
        lines.append(f"nobody acknowledged it (level {event.level})")
    return "\n".join(lines)


def _where_and_facts(alert: AlertInfo, site_id: str, with_facts: bool) -> list[str]:
    lines = [f"{alert.location_id or alert.subject} · {site_id}"]
    facts = _facts(alert.details)
    if facts and with_facts:
        lines.append(facts)
    return lines


def reminder(
    alert: AlertInfo, site_id: str, severity: Severity, repeat_n: int, repeat_max: int
) -> tuple[str, str]:
    """(title, body) of the ``repeat_n``-th reminder (1-based) of an unacknowledged alert."""
    title_ = f"[{severity.upper()}] Reminder {repeat_n}: {_headline(alert)}"
    lines = _where_and_facts(alert, site_id, True)
    lines.append(f"reminder {repeat_n} of {repeat_max}, not acknowledged yet")
    return title_, "\n".join(lines)


def _facts(details: Mapping[str, Any]) -> str:
    parts = [f"{key.replace('_', ' ')} {details[key]}" for key in _DETAIL_KEYS if key in details]
    return ", ".join(parts)


def digest(titles: Sequence[str]) -> tuple[str, str]:
    """(title, body) of one digest message listing ``titles`` in order."""
    if len(titles) == 1:
        return titles[0], "(digest)"
    return f"{len(titles)} alerts (digest)", "\n".join(f"• {t}" for t in titles)
