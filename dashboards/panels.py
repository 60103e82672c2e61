"""Every shelfsense dashboard, as data: `DASHBOARDS`, a tuple of `DashboardSpec`.

Five dashboards read the shelfsense schema (shelfsense/db/sql) through Grafana's PostgreSQL
data source: the store overview, one shelf in detail and the cold chain (`panels_store`), the
devices and the ingest pipeline itself (`panels_ops`).

Conventions every panel follows:
- The SQL is written once for both time-series back ends: tables and columns are the same, and
  `$__bucket(col)` becomes `date_bin` or `time_bucket` at build time (see `dashboards.spec`).
- Every query is filtered by `${site:sqlstring}`; shelf detail also by `${location:sqlstring}`,
  the devices dashboard by `device_id in (${device:sqlstring})` (multi-valued, "All" allowed).
- Times are timestamptz; durations are seconds (`_s`); rates are per second or per minute, as
  the column names say (`batches_per_min`, `reads_per_s`). Time-series results are long
  (`time`, `metric`, values...) or wide (`time`, values...), ordered by `time`.
- `columns` lists the result's columns in order; the integration tests hold the SQL to it.
"""

from __future__ import annotations

from dashboards.panels_ops import DEVICES, PIPELINE
from dashboards.panels_store import COLD_CHAIN, SHELF_DETAIL, STORE_OVERVIEW
from dashboards.spec import DashboardSpec

__all__ = ["COLD_CHAIN", "DASHBOARDS", "DEVICES", "PIPELINE", "SHELF_DETAIL", "STORE_OVERVIEW"]

DASHBOARDS: tuple[DashboardSpec, ...] = (
    STORE_OVERVIEW,
    SHELF_DETAIL,
    DEVICES,
    COLD_CHAIN,
    PIPELINE,
)
