"""The vocabulary of dashboard descriptions: frozen data, no Grafana types.

A dashboard is a `DashboardSpec`: a title, template variables and a tuple of `PanelSpec`. A
panel names what it shows (kind, SQL, unit, thresholds) and the columns its SQL returns, in
order; `dashboards.build` turns the descriptions into Grafana JSON, and the integration tests
run every panel's SQL against a real database and compare the columns.

Panel SQL is the SQL of Grafana's PostgreSQL data source: Grafana expands its macros
(`$__timeFilter(col)`, `$__timeFrom()`, `$__timeTo()`, `$__interval_ms`) and the variables
(`${site:sqlstring}`, quoted and escaped). One macro is ours: `$__bucket(col)` is the start of
the `$__interval_ms`-wide time bucket holding `col`; `build` replaces it per back end with a
`Dialect`'s `bucket` function (`date_bin` natively, `time_bucket` on TimescaleDB), so no
`$__bucket` ever reaches Grafana.

Layout: panels flow left to right on Grafana's 24-column grid, `width` columns by `height`
rows each, wrapping to a new line when the next panel would not fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from shelfsense.db.migrate import Backend

GRID_COLUMNS = 24
INTERVAL_MS = "$__interval_ms"
BUCKET_MACRO = "$__bucket"


class PanelKind(StrEnum):
    """Grafana panel plugin ids."""

    TIMESERIES = "timeseries"
    STAT = "stat"
    TABLE = "table"


class ResultFormat(StrEnum):
    """How Grafana reads the query result: a time series frame or a plain table."""

    TIME_SERIES = "time_series"
    TABLE = "table"


@dataclass(frozen=True, slots=True)
class Step:
    """One threshold step: from `value` upwards (None: the base step) the panel shows `color`."""

    color: str
    value: float | None = None


@dataclass(frozen=True, slots=True)
class PanelSpec:
    """One panel. `columns` are the SQL result's column names, in order.

    `colors` maps text values of `color_column` (e.g. stock state) to colours; `dashed` is a
    regular expression of series names drawn as dashed limit lines; `min_interval` bounds
    `$__interval_ms` from below (queries over the per-minute roll-ups use "1m").
    """

    title: str
    kind: PanelKind
    sql: str
    columns: tuple[str, ...]
    unit: str = "short"
    description: str = ""
    thresholds: tuple[Step, ...] = ()
    width: int = 12
    height: int = 8
    min_interval: str | None = None
    color_column: str | None = None
    colors: tuple[tuple[str, str], ...] = ()
    dashed: str | None = None
    steps: bool = False

    @property
    def format(self) -> ResultFormat:
        if self.kind is PanelKind.TIMESERIES:
            return ResultFormat.TIME_SERIES
        return ResultFormat.TABLE


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """A query variable; `multi` also offers "All" (use it as `col in (${name:sqlstring})`)."""

    name: str
    label: str
    sql: str
    multi: bool = False


@dataclass(frozen=True, slots=True)
class DashboardSpec:
    """A dashboard; its uid is `shelfsense-<key>` and its file `<uid>.json`."""

    key: str
    title: str
    description: str
    variables: tuple[VariableSpec, ...]
    panels: tuple[PanelSpec, ...]
    time_from: str = "now-6h"
    refresh: str = "30s"

    @property
    def uid(self) -> str:
        return f"shelfsense-{self.key}"


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one time-series back end spells `$__bucket(col)`: `bucket(col) -> SQL`."""

    backend: Backend
    bucket: Callable[[str], str]


_WIDTH = f"{INTERVAL_MS} * interval '1 millisecond'"

DIALECTS: dict[Backend, Dialect] = {
    Backend.NATIVE: Dialect(
        Backend.NATIVE,
        lambda col: f"date_bin({_WIDTH}, {col}, timestamptz '2000-01-01 00:00:00+00')",
    ),
    Backend.TIMESCALE: Dialect(Backend.TIMESCALE, lambda col: f"time_bucket({_WIDTH}, {col})"),
}


def cols(names: str) -> tuple[str, ...]:
    """`cols("time metric qty")` -> `("time", "metric", "qty")`: column lists stay one line."""
    return tuple(names.split())
