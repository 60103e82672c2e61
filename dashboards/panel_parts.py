"""Pieces the dashboards share: the template variables, colour maps and a count stat.

Variables: `site` (every site), `location` (the site's stock and cooler locations), `device`
(the site's devices, multi-valued with "All"). Panels quote them with `:sqlstring`.
"""

from __future__ import annotations

from dashboards.spec import PanelKind, PanelSpec, Step, VariableSpec

GREEN = Step("green")
STATE_COLORS = (("ok", "green"), ("low", "orange"), ("out", "red"), ("unknown", "text"))
SEVERITY_COLORS = (
    ("info", "blue"),
    ("warning", "yellow"),
    ("major", "orange"),
    ("critical", "red"),
)

SITE = VariableSpec(
    "site",
    "Site",
    "select site_id as __value, name as __text from sites order by site_id",
)
LOCATION = VariableSpec(
    "location",
    "Location",
    "select location_id from locations where site_id = ${site:sqlstring} and active "
    "and kind in ('shelf', 'storage', 'cooler') order by location_id",
)
DEVICE = VariableSpec(
    "device",
    "Device",
    "select device_id from devices where site_id = ${site:sqlstring} and active order by device_id",
    multi=True,
)


def count_stat(title: str, column: str, sql: str, warn: str = "red") -> PanelSpec:
    """A stat panel of one count: green at zero, `warn` from one up."""
    return PanelSpec(
        title, PanelKind.STAT, sql, (column,), thresholds=(GREEN, Step(warn, 1)), width=6, height=4
    )
