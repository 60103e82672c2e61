"""PURE alert life cycle: the open alerts and the desired ones in, the changes to make out.

    (none) --opened--> active --acknowledged (API)--> acknowledged
       ^                 |  \\--updated (severity or a significant detail changed)
       |                 |                                   |
       +-- a new alert --+---------- cleared <---------------+   (condition gone, or API clear)

One open alert exists per (type, subject): while its condition holds it is updated in place,
never repeated. An acknowledged alert stays acknowledged while the condition holds (ingest never
writes ``status`` except to clear). A cleared alert is history; if its condition still holds
(an operator cleared it by hand) the next evaluation opens a new one.

``plan(open_alerts, desired, ...)`` returns one change per alert that needs a write:
``Open`` (a new alert, event ``opened``), ``Update`` (event ``updated``), ``Refresh`` (details
changed in a way nobody needs to hear about: rewrite the row, no event) and ``Clear`` (event
``cleared``). Only alerts of the types in ``scope`` are considered for clearing, so an alert
type ingest does not own is never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ingest.alert_rules import AlertKey, Desired
from shelfsense.alerting import AlertType
from shelfsense.domain import AlertStatus, Severity


@dataclass(frozen=True, slots=True)
class OpenAlert:
    id: int
    type: AlertType
    subject: str
    severity: Severity
    status: AlertStatus  # active or acknowledged
    opened_ms: int
    details: Mapping[str, Any]

    @property
    def key(self) -> AlertKey:
        return (self.type, self.subject)


@dataclass(frozen=True, slots=True)
class Open:
    desired: Desired
    ts_ms: int  # when it opened (the condition began at ``desired.since_ms``)


@dataclass(frozen=True, slots=True)
class Update:
    alert: OpenAlert
    desired: Desired
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Refresh:
    alert: OpenAlert
    desired: Desired
    ts_ms: int


@dataclass(frozen=True, slots=True)
class Clear:
    alert: OpenAlert
    ts_ms: int


Change = Open | Update | Refresh | Clear


def plan(
    open_alerts: Iterable[OpenAlert],
    desired: Mapping[AlertKey, Desired],
    *,
    scope: Iterable[AlertType],
    significant: Mapping[AlertType, tuple[str, ...]],
    now_ms: Callable[[AlertType], int],
) -> list[Change]:
    """``now_ms(type)``: the clock that stamps updates and clears of that type."""
    types = set(scope)
    current = {a.key: a for a in open_alerts if a.type in types}
    changes: list[Change] = []
    for key, want in sorted(desired.items()):
        alert = current.get(key)
        if alert is None:
            changes.append(Open(want, max(now_ms(want.type), want.since_ms)))
        else:
            changes += _compare(alert, want, significant, now_ms)
    for key, alert in sorted(current.items()):
        if key not in desired:
            changes.append(Clear(alert, max(now_ms(alert.type), alert.opened_ms)))
    return changes


def _compare(
    alert: OpenAlert,
    want: Desired,
    significant: Mapping[AlertType, tuple[str, ...]],
    now_ms: Callable[[AlertType], int],
) -> list[Change]:
    ts_ms = max(now_ms(alert.type), alert.opened_ms)
    if alert.severity != want.severity:
        return [Update(alert, want, ts_ms)]
    keys = significant.get(alert.type, ())
    if any(alert.details.get(k) != want.details.get(k) for k in keys):
        return [Update(alert, want, ts_ms)]
    if _normal(alert.details) != _normal(want.details):
        return [Refresh(alert, want, ts_ms)]
    return []


def _normal(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as they come back from jsonb (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in details.items()}


def event_of(change: Change) -> str | None:
    """The outbox event a change writes (None: a silent refresh)."""
    match change:
        case Open():
            return "opened"
        case Update():
            return "updated"
        case Clear():
            return "cleared"
        case Refresh():
            return None
