"""Alert vocabulary shared by ingest (which raises alerts) and the API (which shows and tunes them).

``RULE_SPECS`` lists every alert rule with its default parameters, as data. A site may override
any of them (``alert_rules`` table: ``enabled`` and a ``params`` object); ``effective_rules``
merges the overrides over the defaults and ``check_override`` validates one before it is stored,
so a bad override is refused at the API and never reaches ingest. The evaluation functions live
next to the engine (``ingest.alert_rules``), keyed by the same ``AlertType``.

Subjects name what an alert concerns; one open alert exists per (site, type, subject):

    location:floor/aisle-1/shelf-1|sku:PASTA-500    low_stock, out_of_stock, misplaced,
                                                    count_mismatch
    sku:PASTA-500                                   reorder_point
    lot:17|location:floor/cooler-1                  expiring_soon, expired
    location:floor/cooler-1                         temp_excursion, stock_unknown
    device:probe-1 / gateway:gw-1                   device_offline, gateway_offline

Every change of an alert writes one ``alert_events`` row (the outbox) and a
``NOTIFY shelfsense_alerts, '{"site": ..., "event_id": ...}'`` in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shelfsense.domain import Severity

ALERTS_CHANNEL = "shelfsense_alerts"
ParamValue = bool | int | float | str


class AlertType(StrEnum):
    LOW_STOCK = "low_stock"
    REORDER_POINT = "reorder_point"
    OUT_OF_STOCK = "out_of_stock"
    EXPIRING_SOON = "expiring_soon"
    EXPIRED = "expired"
    TEMP_EXCURSION = "temp_excursion"
    DEVICE_OFFLINE = "device_offline"
    GATEWAY_OFFLINE = "gateway_offline"
    STOCK_UNKNOWN = "stock_unknown"
    MISPLACED = "misplaced"
    COUNT_MISMATCH = "count_mismatch"


class AlertEventKind(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    ESCALATED = "escalated"  # written by the notifier (part B), never by ingest


class RuleError(ValueError):
    """An override names an unknown rule or parameter, or has a value of the wrong type."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    type: AlertType
    description: str
    defaults: Mapping[str, ParamValue]


def _spec(kind: AlertType, description: str, severity: Severity, **params: ParamValue) -> RuleSpec:
    return RuleSpec(kind, description, {"severity": str(severity), **params})


RULE_SPECS: tuple[RuleSpec, ...] = (
    _spec(
        AlertType.LOW_STOCK,
        "a location's planned product below min_qty for settle_s; clears at "
        "min_qty + hysteresis_units",
        Severity.WARNING,
        hysteresis_units=1,
        settle_s=15,
        warmup_s=60,
    ),
    _spec(
        AlertType.REORDER_POINT,
        "site total of a product below its reorder_point for settle_s (no transient while "
        "readers confirm what they see); clears at reorder_point + hysteresis",
        Severity.WARNING,
        hysteresis_units=1,
        settle_s=15,
        warmup_s=60,
    ),
    _spec(
        AlertType.OUT_OF_STOCK,
        "a location's planned product at 0 for settle_s; clears at hysteresis_units",
        Severity.MAJOR,
        hysteresis_units=1,
        settle_s=15,
        warmup_s=60,
    ),
    _spec(
        AlertType.EXPIRING_SOON,
        "a lot on a stock location expires within the product's expiry_lead_days "
        "(default_lead_days when the product has none)",
        Severity.WARNING,
        default_lead_days=2,
    ),
    _spec(AlertType.EXPIRED, "an expired lot still on a stock location", Severity.MAJOR),
    _spec(
        AlertType.TEMP_EXCURSION,
        "outside the temperature range for the location's excursion_after_s (after_s > 0 "
        "overrides it); clears once back inside by hysteresis_c; critical after critical_after_s",
        Severity.MAJOR,
        after_s=0,
        hysteresis_c=0.5,
        critical_after_s=3600,
    ),
    _spec(
        AlertType.DEVICE_OFFLINE,
        "a device's stream behind its gateway's event time by after_s",
        Severity.MAJOR,
        after_s=300,
    ),
    _spec(
        AlertType.GATEWAY_OFFLINE,
        "a gateway offline (its last will or silence) for after_s of event time",
        Severity.CRITICAL,
        after_s=0,
    ),
    _spec(
        AlertType.STOCK_UNKNOWN,
        "a location's stock unknown (not observable) for after_s",
        Severity.WARNING,
        after_s=300,
    ),
    _spec(
        AlertType.MISPLACED,
        "tags of another product on a location with a planogram, there for after_s",
        Severity.INFO,
        after_s=120,
    ),
    _spec(
        AlertType.COUNT_MISMATCH,
        "a weight shelf's count and the RFID tags of its product confirmed on it differ for "
        "after_s (weight sets the stock); clears once they agree or either cannot tell",
        Severity.WARNING,
        after_s=30,
    ),
)
SPECS_BY_TYPE: Mapping[AlertType, RuleSpec] = {s.type: s for s in RULE_SPECS}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """A rule's effective settings at one site: defaults with the site's overrides on top."""

    type: AlertType
    enabled: bool
    params: Mapping[str, ParamValue]

    @property
    def severity(self) -> Severity:
        return Severity(str(self.params["severity"]))

    def number(self, name: str) -> float:
        value = self.params[name]
        assert isinstance(value, int | float) and not isinstance(value, bool)
        return float(value)


def check_override(
    key: str, enabled: object, params: object
) -> tuple[AlertType, bool, dict[str, Any]]:
    """Validate one stored or requested override; RuleError names what is wrong."""
    try:
        kind = AlertType(key)
    except ValueError:
        raise RuleError(f"unknown alert rule {key!r}; one of {', '.join(AlertType)}") from None
    if not isinstance(enabled, bool):
        raise RuleError(f"{key}: enabled must be true or false")
    if not isinstance(params, Mapping):
        raise RuleError(f"{key}: params must be an object")
    defaults = SPECS_BY_TYPE[kind].defaults
    checked: dict[str, Any] = {}
    for name, value in params.items():
        if name not in defaults:
            raise RuleError(f"{key}: unknown parameter {name!r}; one of {', '.join(defaults)}")
        checked[name] = _check_param(key, name, defaults[name], value)
    return kind, enabled, checked


def _check_param(key: str, name: str, default: ParamValue, value: object) -> ParamValue:
    if name == "severity":
        if value not in set(Severity):
            raise RuleError(f"{key}: severity must be one of {', '.join(Severity)}")
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RuleError(f"{key}: {name} must be a number")
    if value < 0:
        raise RuleError(f"{key}: {name} must be >= 0")
    return value if isinstance(default, float) else int(value) if value == int(value) else value


def effective_rules(
    overrides: Mapping[str, tuple[bool, Mapping[str, Any]]],
) -> dict[AlertType, RuleSettings]:
    """Every rule's settings; an override that no longer validates is ignored (defaults hold)."""
    rules = {}
    for spec in RULE_SPECS:
        enabled, params = True, dict(spec.defaults)
        if str(spec.type) in overrides:
            try:
                _, enabled, extra = check_override(str(spec.type), *overrides[str(spec.type)])
                params.update(extra)
            except RuleError:
                enabled, params = True, dict(spec.defaults)
        rules[spec.type] = RuleSettings(spec.type, enabled, params)
    return rules


def subject(**parts: str | int) -> str:
    """``subject(location="a", sku="b")`` -> ``location:a|sku:b`` (argument order kept)."""
    return "|".join(f"{k}:{v}" for k, v in parts.items())
