"""The dashboards error family.

DashboardsError
├── BuildError      a description cannot be turned into a dashboard (bad size, macro)
└── PushError       Grafana refused or could not be reached (grafana-client errors,
                    translated in `dashboards.push`)
"""

from __future__ import annotations


class DashboardsError(Exception):
    """Base of every error the dashboards package raises."""


class BuildError(DashboardsError):
    """A dashboard description is invalid."""


class PushError(DashboardsError):
    """Uploading to Grafana failed; the message says which request and why."""
