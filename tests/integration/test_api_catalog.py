"""Reads beyond the contract: sites, catalog, device health, tags, misplaced tags, dead letters."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from api_world import (
    SCALE_SHELF,
    SHELF1,
    SHELF2,
    SITE,
    T0,
    iso,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def client(viewer_client: httpx.Client) -> httpx.Client:
    return viewer_client


def test_sites_and_site_catalog(client: httpx.Client) -> None:
    assert client.get("/api/v1/sites").json() == [
        {"site": SITE, "name": "Test Store", "timezone": "UTC"}
    ]
    detail = client.get(f"/api/v1/sites/{SITE}").json()
    assert [p["sku"] for p in detail["products"]] == ["COLA-330", "TUNA-160"]
    shelf1 = next(loc for loc in detail["locations"] if loc["id"] == SHELF1)
    assert (shelf1["sku"], shelf1["min_qty"], shelf1["capacity"]) == ("TUNA-160", 2, 24)
    devices = {d["id"]: d for d in detail["devices"]}
    assert set(devices) == {"door-1", "probe-1", "reader-1", "scale-1"}
    assert devices["door-1"]["antennas"] == [
        {"port": 1, "location": "door-1", "side": "inside"},
        {"port": 2, "location": "door-1", "side": "outside"},
    ]
    assert devices["scale-1"] | {"antennas": None} == {
        "id": "scale-1",
        "gateway": "gw-1",
        "kind": "weight",
        "location": SCALE_SHELF,
        "sku": "COLA-330",
        "antennas": None,
    }
    missing = client.get("/api/v1/sites/nowhere")
    assert (missing.status_code, missing.json()) == (404, {"detail": "unknown site 'nowhere'"})


def test_device_health(client: httpx.Client) -> None:
    rows = {d["id"]: d for d in client.get(f"/api/v1/sites/{SITE}/devices").json()}
    reader = rows["reader-1"]
    assert reader["last_seen_at"] == iso(T0)
    assert reader["last_t1"] == iso(T0 - timedelta(seconds=1))
    assert (reader["gateway_state"], reader["gateway_backlog"]) == ("online", 0)
    assert rows["probe-1"]["last_seen_at"] is None


def test_tags_where_they_are(client: httpx.Client) -> None:
    rows = client.get(f"/api/v1/sites/{SITE}/tags").json()
    assert len(rows) == 4  # the tag that is gone is left out
    on_shelf1 = client.get(f"/api/v1/sites/{SITE}/tags", params={"location": SHELF1}).json()
    assert sorted((t["epc"], t["sku"]) for t in on_shelf1) == [
        ("3034257BF7194E4000000004", "TUNA-160"),
        ("E2801160600002084D5F1234", None),
    ]
    everything = client.get(f"/api/v1/sites/{SITE}/tags", params={"include_gone": "true"}).json()
    assert everything[-1] == {
        "epc": "3034257BF7194E4000000001",
        "sku": "TUNA-160",
        "location": None,
        "since": iso(T0 - timedelta(minutes=15)),
    }


def test_misplaced_means_another_products_planogram(client: httpx.Client) -> None:
    rows = client.get(f"/api/v1/sites/{SITE}/misplaced").json()
    assert rows == [
        {
            "epc": "3034257BF7194E4000000003",
            "sku": "TUNA-160",
            "location": SCALE_SHELF,
            "since": iso(T0 - timedelta(minutes=15)),
            "expected_sku": "COLA-330",
        }
    ]
    assert SHELF2 not in {r["location"] for r in rows}  # no planogram there


def test_dead_letters_show_a_readable_preview(client: httpx.Client) -> None:
    rows = client.get(f"/api/v1/sites/{SITE}/dead-letters").json()
    assert len(rows) == 1
    assert rows[0]["reason"] == "unknown device"
    assert rows[0]["payload_preview"] == "{bad\ufffd}"
    assert rows[0]["device"] == "reader-9"
