"""shelfsense dashboards: Grafana dashboards as code.

Descriptions (`panels`, data) -> `build_dashboards(backend)` (pure, reproducible JSON) ->
files under json/<backend>/ for provisioning, or `push_dashboards(...)` to a running Grafana.
The provisioning files for the data source and the dashboards live in provisioning/.
"""

from dashboards.build import DATASOURCE_UID, BuiltDashboard, build_dashboards
from dashboards.errors import BuildError, DashboardsError, PushError
from dashboards.panels import DASHBOARDS
from dashboards.push import PostgresSource, PushResult, push_dashboards

__all__ = [
    "DASHBOARDS",
    "DATASOURCE_UID",
    "BuildError",
    "BuiltDashboard",
    "DashboardsError",
    "PostgresSource",
    "PushError",
    "PushResult",
    "build_dashboards",
    "push_dashboards",
]
