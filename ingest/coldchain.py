"""PURE cold-chain tracking: per location, how long the temperature has been out of its range.

``ColdChain.feed(location, readings)`` takes a probe's readings (event time ``ts_ms``, °C) in
order and keeps, per location with a range, the last reading and the start of the current
out-of-range run (``out_since_ms``, the first reading outside the range; None while inside) with
the extremes seen during it. It decides nothing: the alert rule (``ingest.alert_rules``) says an
excursion is confirmed once ``last_ts_ms - out_since_ms >= excursion_after_s`` and holds it until
the temperature is back inside by a margin (hysteresis).

Readings older than the last one seen for the location (a second probe lagging behind, a late
batch) are ignored, so the state only moves forward in event time. The state round-trips
through ``snapshot()`` / ``restore()`` (JSON-safe) and depends only on the readings fed.

``mean_kinetic_temperature`` (USP <1160>) is re-exported from ``shelfsense.mkt``, where the API
can use it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from shelfsense.mkt import mean_kinetic_temperature

__all__ = ["ColdChain", "LocationTemp", "TempRange", "mean_kinetic_temperature"]


@dataclass(frozen=True, slots=True)
class TempRange:
    low_c: float
    high_c: float
    excursion_after_s: int = 900

    def contains(self, temp_c: float, margin_c: float = 0.0) -> bool:
        return self.low_c + margin_c <= temp_c <= self.high_c - margin_c


@dataclass(frozen=True, slots=True)
class LocationTemp:
    last_ts_ms: int
    last_temp_c: float
    out_since_ms: int | None = None  # first reading of the current out-of-range run
    min_c: float | None = None  # extremes during the current run (None while inside)
    max_c: float | None = None

    def out_for_ms(self) -> int:
        return 0 if self.out_since_ms is None else self.last_ts_ms - self.out_since_ms


class ColdChain:
    def __init__(self, ranges: Mapping[str, TempRange]) -> None:
        self.ranges = dict(ranges)
        self._states: dict[str, LocationTemp] = {}

    def feed(self, location: str, readings: Iterable[tuple[int, float]]) -> None:
        """``readings``: (ts_ms, temp_c) pairs; locations without a range are not tracked."""
        bounds = self.ranges.get(location)
        if bounds is None:
            return
        for ts_ms, temp_c in readings:
            state = self._states.get(location)
            if state is not None and ts_ms <= state.last_ts_ms:
                continue
            self._states[location] = _step(state, bounds, ts_ms, temp_c)

    def states(self) -> Mapping[str, LocationTemp]:
        return self._states

    def snapshot(self) -> dict[str, Any]:
        return {loc: asdict(s) for loc, s in sorted(self._states.items())}

    def restore(self, snap: Mapping[str, Any]) -> None:
        self._states = {
            str(loc): LocationTemp(**{k: v for k, v in s.items() if k in _FIELDS})
            for loc, s in snap.items()
            if loc in self.ranges
        }


_FIELDS = frozenset(LocationTemp.__dataclass_fields__)


def _step(state: LocationTemp | None, bounds: TempRange, ts_ms: int, temp_c: float) -> LocationTemp:
    if bounds.contains(temp_c):
        return LocationTemp(ts_ms, temp_c)
    if state is None or state.out_since_ms is None:
        return LocationTemp(ts_ms, temp_c, ts_ms, temp_c, temp_c)
    return replace(
        state,
        last_ts_ms=ts_ms,
        last_temp_c=temp_c,
        min_c=min(temp_c, state.min_c if state.min_c is not None else temp_c),
        max_c=max(temp_c, state.max_c if state.max_c is not None else temp_c),
    )
