"""PURE: dashboard descriptions -> grafana-foundation-sdk objects -> Grafana JSON.

`build_dashboards(backend)` turns every `DashboardSpec` into a `BuiltDashboard`: the JSON model
(for the HTTP API) and its text (for files and provisioning). The output is a function of the
descriptions and the back end only: uids come from the spec keys, panel ids count from 1 in
order, the layout is computed (`dashboards.spec`), keys are sorted and nothing reads a clock,
so building twice gives byte-identical text.

Every panel and every query names the data source by the fixed uid `DATASOURCE_UID`; the
provisioning file (provisioning/datasources/) and `push` create it under that uid.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from dashboards.errors import BuildError
from dashboards.panels import DASHBOARDS
from dashboards.spec import (
    BUCKET_MACRO,
    DIALECTS,
    GRID_COLUMNS,
    DashboardSpec,
    Dialect,
    PanelKind,
    PanelSpec,
    VariableSpec,
)
from shelfsense.db.migrate import Backend

DATASOURCE_TYPE = "grafana-postgresql-datasource"
DATASOURCE_UID = "shelfsense-pg"
DATASOURCE = model.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)
TAGS = ["shelfsense"]


@dataclass(frozen=True, slots=True)
class BuiltDashboard:
    """One dashboard for one back end: `model` is the JSON object, `text` its file content."""

    uid: str
    title: str
    backend: Backend
    model: dict[str, object]
    text: str

    @property
    def filename(self) -> str:
        return f"{self.uid}.json"


class SqlQuery(cogvariants.Dataquery):
    """A raw-SQL query of Grafana's PostgreSQL data source (the SDK has no builder for it)."""

    def __init__(self, raw_sql: str, result_format: str, ref_id: str = "A") -> None:
        self.raw_sql = raw_sql
        self.result_format = result_format
        self.ref_id = ref_id

    def to_json(self) -> dict[str, object]:
        return {
            "datasource": DATASOURCE,
            "editorMode": "code",
            "format": self.result_format,
            "rawQuery": True,
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }


class SqlQueryBuilder(cogbuilder.Builder[SqlQuery]):
    def __init__(self, raw_sql: str, result_format: str) -> None:
        self._query = SqlQuery(raw_sql, result_format)

    def build(self) -> SqlQuery:
        return self._query


# The SDK's panel builders share their common methods but no base class that declares them.
_PanelBuilder = timeseries.Panel | stat.Panel | table.Panel


def expand_buckets(sql: str, dialect: Dialect) -> str:
    """Replace every `$__bucket(expr)` by the dialect's bucket of `expr` (parentheses nest)."""
    out: list[str] = []
    rest = sql
    while (start := rest.find(BUCKET_MACRO + "(")) >= 0:
        open_at = start + len(BUCKET_MACRO)
        close_at = _matching_paren(rest, open_at)
        out += [rest[:start], dialect.bucket(rest[open_at + 1 : close_at].strip())]
        rest = rest[close_at + 1 :]
    if BUCKET_MACRO in rest:
        raise BuildError(f"{BUCKET_MACRO} without an argument list in: {sql}")
    return "".join([*out, rest])


def _matching_paren(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise BuildError(f"unbalanced parentheses after {BUCKET_MACRO} in: {text}")


def layout(panels: Sequence[PanelSpec]) -> list[model.GridPos]:
    """Left to right, wrapping when the next panel would not fit the 24 columns."""
    positions: list[model.GridPos] = []
    x = y = row_h = 0
    for panel in panels:
        if not 0 < panel.width <= GRID_COLUMNS or panel.height <= 0:
            raise BuildError(f"panel {panel.title!r} has size {panel.width}x{panel.height}")
        if x + panel.width > GRID_COLUMNS:
            x, y, row_h = 0, y + row_h, 0
        positions.append(model.GridPos(h=panel.height, w=panel.width, x=x, y=y))
        x, row_h = x + panel.width, max(row_h, panel.height)
    return positions


def _timeseries(spec: PanelSpec) -> _PanelBuilder:
    panel = timeseries.Panel().fill_opacity(10).show_points(common.VisibilityMode.NEVER)
    if spec.steps:
        panel = panel.line_interpolation(common.LineInterpolation.STEP_AFTER)
    if spec.dashed:
        panel = panel.override_by_regexp(
            spec.dashed,
            [
                model.DynamicConfigValue("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                model.DynamicConfigValue("custom.fillOpacity", 0),
                model.DynamicConfigValue("color", {"mode": "fixed", "fixedColor": "red"}),
            ],
        )
    return panel


def _stat(spec: PanelSpec) -> _PanelBuilder:
    return (
        stat.Panel()
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def _table(spec: PanelSpec) -> _PanelBuilder:
    panel = table.Panel()
    if spec.color_column:
        colors = {
            value: model.ValueMappingResult(color=color, index=i)
            for i, (value, color) in enumerate(spec.colors)
        }
        panel = panel.override_by_name(
            spec.color_column,
            [
                model.DynamicConfigValue("custom.cellOptions", {"type": "color-background"}),
                model.DynamicConfigValue("mappings", [model.ValueMap(colors)]),
            ],
        )
    return panel


PANEL_KINDS: dict[PanelKind, Callable[[PanelSpec], _PanelBuilder]] = {
    PanelKind.TIMESERIES: _timeseries,
    PanelKind.STAT: _stat,
    PanelKind.TABLE: _table,
}


def build_panel(
    spec: PanelSpec, panel_id: int, pos: model.GridPos, dialect: Dialect
) -> _PanelBuilder:
    sql = expand_buckets(spec.sql, dialect)
    panel = (
        PANEL_KINDS[spec.kind](spec)
        .id(panel_id)
        .title(spec.title)
        .datasource(DATASOURCE)
        .grid_pos(pos)
        .unit(spec.unit)
        .with_target(SqlQueryBuilder(sql, spec.format))
    )
    if spec.description:
        panel = panel.description(spec.description)
    if spec.min_interval:
        panel = panel.interval(spec.min_interval)
    if spec.thresholds:
        steps = [model.Threshold(value=s.value, color=s.color) for s in spec.thresholds]
        panel = panel.thresholds(
            sdk.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(steps)
        )
    return panel


def build_variable(spec: VariableSpec) -> sdk.QueryVariable:
    variable = (
        sdk.QueryVariable(spec.name)
        .label(spec.label)
        .datasource(DATASOURCE)
        .query(spec.sql)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
    if spec.multi:
        variable = variable.multi(True).include_all(True)
    return variable


def build_dashboard(spec: DashboardSpec, dialect: Dialect) -> sdk.Dashboard:
    board = (
        sdk.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(TAGS)
        .time(spec.time_from, "now")
        .refresh(spec.refresh)
        .timezone("browser")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .annotations([])
        .variables([build_variable(v) for v in spec.variables])
    )
    positions = layout(spec.panels)
    for panel_id, (panel, pos) in enumerate(zip(spec.panels, positions, strict=True), start=1):
        board = board.with_panel(build_panel(panel, panel_id, pos, dialect))
    return board


def render(board: sdk.Dashboard) -> str:
    """Canonical JSON text: sorted keys, two-space indent, one trailing newline."""
    return json.dumps(board.build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def build_dashboards(
    backend: Backend = Backend.NATIVE, specs: Iterable[DashboardSpec] = DASHBOARDS
) -> tuple[BuiltDashboard, ...]:
    """Every dashboard for `backend`, in the order of `specs`."""
    dialect = DIALECTS[backend]
    built = []
    for spec in specs:
        text = render(build_dashboard(spec, dialect))
        built.append(BuiltDashboard(spec.uid, spec.title, backend, json.loads(text), text))
    return tuple(built)
