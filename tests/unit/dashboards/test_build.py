"""The built dashboards: reproducible, committed, and structurally sound Grafana JSON."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as sdk_model

import dashboards
from dashboards import DASHBOARDS, DATASOURCE_UID, BuildError, BuiltDashboard, build_dashboards
from dashboards.build import DATASOURCE_TYPE, expand_buckets, layout
from dashboards.cli import DEFAULT_OUT
from dashboards.push import folder_uid
from dashboards.spec import DIALECTS, PanelKind, PanelSpec
from shelfsense.cli import main
from shelfsense.db.migrate import Backend

PACKAGE = Path(dashboards.__file__).parent
DATASOURCE_REF = {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
FORMATS = {"timeseries": "time_series", "stat": "table", "table": "table"}
ALL_BUILT = [b for backend in Backend for b in build_dashboards(backend)]


def _panels(board: BuiltDashboard) -> list[dict[str, Any]]:
    panels = board.model["panels"]
    assert isinstance(panels, list)
    return panels


def _ids(value: object) -> str:
    return f"{value.backend}:{value.uid}" if isinstance(value, BuiltDashboard) else str(value)


def test_building_twice_gives_identical_text() -> None:
    for backend in Backend:
        first, second = build_dashboards(backend), build_dashboards(backend)
        assert [b.text for b in first] == [b.text for b in second]


@pytest.mark.parametrize("backend", list(Backend))
def test_committed_json_is_the_fresh_build(backend: Backend) -> None:
    built = {b.filename: b.text for b in build_dashboards(backend)}
    committed = {p.name: p.read_text(encoding="utf-8") for p in (DEFAULT_OUT / backend).glob("*")}
    assert committed == built, "run `shelfsense dashboards build --backend all` and commit"


def test_there_is_one_dashboard_per_topic_with_unique_uids() -> None:
    uids = [b.uid for b in build_dashboards()]
    assert uids == [
        "shelfsense-store-overview",
        "shelfsense-shelf-detail",
        "shelfsense-devices",
        "shelfsense-cold-chain",
        "shelfsense-pipeline",
    ]
    assert all(len(uid) <= 40 for uid in uids)


@pytest.mark.parametrize("board", ALL_BUILT, ids=_ids)
def test_json_round_trips_through_the_sdk_model(board: BuiltDashboard) -> None:
    parsed = sdk_model.Dashboard.from_json(board.model)
    assert json.dumps(parsed, cls=JSONEncoder, indent=2, sort_keys=True) + "\n" == board.text


@pytest.mark.parametrize("board", ALL_BUILT, ids=_ids)
def test_every_panel_queries_the_datasource_with_raw_sql(board: BuiltDashboard) -> None:
    ids = []
    for panel in _panels(board):
        ids.append(panel["id"])
        assert panel["datasource"] == DATASOURCE_REF
        assert panel["type"] in FORMATS
        (target,) = panel["targets"]
        assert target["datasource"] == DATASOURCE_REF
        assert target["rawQuery"] is True and target["format"] == FORMATS[panel["type"]]
        assert target["rawSql"].strip() and "$__bucket" not in target["rawSql"]
    assert ids == list(range(1, len(ids) + 1))


@pytest.mark.parametrize("board", ALL_BUILT, ids=_ids)
def test_panels_tile_the_grid_without_overlap(board: BuiltDashboard) -> None:
    boxes: list[dict[str, int]] = [panel["gridPos"] for panel in _panels(board)]
    for box in boxes:
        assert box["x"] >= 0 and box["y"] >= 0 and box["w"] > 0 and box["h"] > 0
        assert box["x"] + box["w"] <= 24
    for a, b in combinations(boxes, 2):
        apart_x = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
        apart_y = a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
        assert apart_x or apart_y, (a, b)


@pytest.mark.parametrize("board", ALL_BUILT, ids=_ids)
def test_every_variable_used_is_defined_and_queries_the_datasource(board: BuiltDashboard) -> None:
    templating = board.model["templating"]
    assert isinstance(templating, dict)
    defined = {v["name"]: v for v in templating["list"]}
    assert "site" in defined
    for variable in defined.values():
        assert variable["type"] == "query" and variable["datasource"] == DATASOURCE_REF
    sql = " ".join(p["targets"][0]["rawSql"] for p in _panels(board))
    sql += " ".join(v["query"] for v in defined.values())
    assert set(re.findall(r"\$\{(\w+)", sql)) <= set(defined)


def test_native_buckets_with_date_bin_and_timescale_with_time_bucket() -> None:
    native = "".join(b.text for b in build_dashboards(Backend.NATIVE))
    timescale = "".join(b.text for b in build_dashboards(Backend.TIMESCALE))
    assert "date_bin(" in native and "time_bucket(" not in native
    assert "time_bucket(" in timescale and "date_bin(" not in timescale


def test_panel_descriptions_list_unique_columns() -> None:
    for spec in DASHBOARDS:
        titles = [p.title for p in spec.panels]
        assert len(titles) == len(set(titles)), spec.key
        for panel in spec.panels:
            assert panel.columns and len(set(panel.columns)) == len(panel.columns), panel.title
            if panel.kind is PanelKind.TIMESERIES:
                assert panel.columns[0] == "time", panel.title


def test_bucket_macro_expands_nested_parentheses() -> None:
    sql = "select $__bucket(t0 + make_interval(secs => (i - 1) / hz)) as time, $__bucket(ts)"
    expanded = expand_buckets(sql, DIALECTS[Backend.TIMESCALE])
    assert expanded == (
        "select time_bucket($__interval_ms * interval '1 millisecond', "
        "t0 + make_interval(secs => (i - 1) / hz)) as time, "
        "time_bucket($__interval_ms * interval '1 millisecond', ts)"
    )


@pytest.mark.parametrize("sql", ["select $__bucket(ts", "select $__bucket"])
def test_a_broken_bucket_macro_is_a_build_error(sql: str) -> None:
    with pytest.raises(BuildError):
        expand_buckets(sql, DIALECTS[Backend.NATIVE])


def test_layout_wraps_when_a_panel_does_not_fit() -> None:
    panels = [PanelSpec(str(w), PanelKind.STAT, "select 1", ("x",), width=w) for w in (16, 8, 12)]
    positions = [(p.x, p.y, p.w) for p in layout(panels)]
    assert positions == [(0, 0, 16), (16, 0, 8), (0, 8, 12)]
    with pytest.raises(BuildError):
        layout([PanelSpec("wide", PanelKind.STAT, "select 1", ("x",), width=25)])


def test_provisioning_names_the_datasource_the_panels_use() -> None:
    text = (PACKAGE / "provisioning/datasources/shelfsense.yaml").read_text(encoding="utf-8")
    (source,) = yaml.safe_load(text)["datasources"]
    assert (source["uid"], source["type"]) == (DATASOURCE_UID, DATASOURCE_TYPE)
    for value in (source["url"], source["user"], source["jsonData"]["database"]):
        assert re.fullmatch(r"\$\{SHELFSENSE_PG_[A-Z]+\}", value)
    assert source["secureJsonData"]["password"] == "${SHELFSENSE_PG_PASSWORD}"


@pytest.mark.parametrize(
    ("folder", "backend"), [("dashboards", Backend.NATIVE), ("dashboards-timescale", "timescale")]
)
def test_provisioning_providers_point_at_one_backend_each(folder: str, backend: str) -> None:
    text = (PACKAGE / "provisioning" / folder / "shelfsense.yaml").read_text(encoding="utf-8")
    (provider,) = yaml.safe_load(text)["providers"]
    assert provider["options"]["path"].endswith(f"/{backend}")
    assert provider["folderUid"] == folder_uid(provider["folder"])


def test_cli_build_writes_every_backend_and_removes_stale_files(tmp_path: Path) -> None:
    (tmp_path / "native").mkdir()
    (tmp_path / "native" / "gone.json").write_text("{}")
    assert main(["dashboards", "build", "--out", str(tmp_path), "--backend", "all"]) == 0
    for backend in Backend:
        written = {p.name: p.read_text(encoding="utf-8") for p in (tmp_path / backend).iterdir()}
        assert written == {b.filename: b.text for b in build_dashboards(backend)}
