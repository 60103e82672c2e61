"""Contract §6 reads against a real PostgreSQL: stock (now and ``?at=``), movements, alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from api_world import (
    SCALE_SHELF,
    SHELF1,
    SHELF2,
    SITE,
    T0,
    World,
    add_movement,
    api_client,
    auth,
    connect,
    iso,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def client(viewer_client: httpx.Client) -> httpx.Client:
    return viewer_client


def _cells(rows: list[dict[str, object]]) -> dict[tuple[object, object], tuple[object, object]]:
    return {(r["sku"], r["location"]): (r["qty"], r["state"]) for r in rows}


def test_health_needs_no_token(world: World) -> None:
    with api_client(world.database_url) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_stock_now_lists_stocked_out_and_unknown_cells(client: httpx.Client) -> None:
    response = client.get(f"/api/v1/sites/{SITE}/stock")
    assert response.status_code == 200
    rows = response.json()
    assert _cells(rows) == {
        ("TUNA-160", SHELF1): (0, "out"),
        ("TUNA-160", SHELF2): (2, "ok"),
        ("COLA-330", SCALE_SHELF): (5, "unknown"),
    }
    assert [(r["location"], r["sku"]) for r in rows] == sorted(
        (r["location"], r["sku"]) for r in rows
    )
    shelf1 = next(r for r in rows if r["location"] == SHELF1)
    # the contract's fields, plus the optional extension expired_qty (no lots here: 0)
    assert set(shelf1) == {"sku", "location", "qty", "state", "updated_at", "expired_qty"}
    assert shelf1["expired_qty"] == 0
    assert shelf1["updated_at"] == iso(T0 - timedelta(minutes=10))


def test_stock_at_answers_a_past_state(client: httpx.Client) -> None:
    at = T0 - timedelta(minutes=25)  # before TUNA strayed onto shelf 2 (T0-20min)
    rows = client.get(f"/api/v1/sites/{SITE}/stock", params={"at": iso(at)}).json()
    assert _cells(rows) == {
        ("TUNA-160", SHELF1): (1, "low"),
        ("COLA-330", SCALE_SHELF): (5, "ok"),
    }
    shelf1 = next(r for r in rows if r["location"] == SHELF1)
    assert shelf1["updated_at"] == iso(T0 - timedelta(minutes=30))


def test_stock_at_before_anything_is_empty_and_offsets_are_honoured(client: httpx.Client) -> None:
    before = client.get(f"/api/v1/sites/{SITE}/stock", params={"at": iso(T0 - timedelta(days=1))})
    assert before.json() == []
    # 09:15+00:00 written as 12:15+03:00: only the 2 h old COLA and the 1 h old TUNA exist.
    rows = client.get(f"/api/v1/sites/{SITE}/stock", params={"at": "2025-11-21T12:15:00+03:00"})
    assert _cells(rows.json()) == {
        ("TUNA-160", SHELF1): (3, "ok"),
        ("COLA-330", SCALE_SHELF): (5, "ok"),
    }


def test_stock_filters(client: httpx.Client) -> None:
    rows = client.get(f"/api/v1/sites/{SITE}/stock", params={"location": SHELF2}).json()
    assert _cells(rows) == {("TUNA-160", SHELF2): (2, "ok")}
    rows = client.get(f"/api/v1/sites/{SITE}/stock", params={"sku": "COLA-330"}).json()
    assert list(_cells(rows)) == [("COLA-330", SCALE_SHELF)]


def test_unknown_site_is_404_and_bad_timestamps_are_422(client: httpx.Client) -> None:
    for path in ("stock", "movements", "alerts", "devices", "tags", "live"):
        response = client.get(f"/api/v1/sites/no-such-store/{path}")
        assert response.status_code == 404, path
        assert response.json() == {"detail": "unknown site 'no-such-store'"}
    response = client.get(f"/api/v1/sites/{SITE}/stock", params={"at": "yesterday"})
    assert response.status_code == 422
    assert "at: 'yesterday' is not an ISO 8601 timestamp" in response.json()["detail"]
    response = client.get(f"/api/v1/sites/{SITE}/movements", params={"since": "2025-13-01"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("since: '2025-13-01'")
    window = {"since": iso(T0), "until": iso(T0 - timedelta(hours=1))}
    response = client.get(f"/api/v1/sites/{SITE}/movements", params=window)
    assert response.status_code == 422
    assert response.json()["detail"] == "since must be before until"


def test_movements_are_ordered_by_ts_within_the_window(client: httpx.Client) -> None:
    window = {"since": iso(T0 - timedelta(hours=2)), "until": iso(T0)}
    rows = client.get(f"/api/v1/sites/{SITE}/movements", params=window).json()
    assert [(r["kind"], r["ts"]) for r in rows] == [
        ("arrive", iso(T0 - timedelta(hours=1))),
        ("pick", iso(T0 - timedelta(minutes=30))),
        ("move", iso(T0 - timedelta(minutes=30))),
        ("depart", iso(T0 - timedelta(minutes=10))),
    ]
    pick = rows[1]
    assert set(pick) == {
        "id",
        "ts",
        "sku",
        "epc",
        "from_location",
        "to_location",
        "qty",
        "kind",
        "source",
        "confidence",
    }
    assert (pick["epc"], pick["from_location"], pick["to_location"]) == (None, SCALE_SHELF, None)
    assert (pick["qty"], pick["source"], pick["confidence"]) == (2, "weight", pytest.approx(0.9))
    # The window is half-open: since is in, until is out.
    narrow = {"since": iso(T0 - timedelta(minutes=30)), "until": iso(T0 - timedelta(minutes=10))}
    rows = client.get(f"/api/v1/sites/{SITE}/movements", params=narrow).json()
    assert [r["kind"] for r in rows] == ["pick", "move"]


def test_movement_filters(client: httpx.Client) -> None:
    def get(**filters: str) -> list[dict[str, object]]:
        params = {"since": iso(T0 - timedelta(hours=2))} | filters
        rows: list[dict[str, object]] = client.get(
            f"/api/v1/sites/{SITE}/movements", params=params
        ).json()
        return rows

    assert [r["kind"] for r in get(sku="COLA-330")] == ["pick"]
    assert [r["kind"] for r in get(location=SHELF2)] == ["move"]
    assert [r["kind"] for r in get(kind="depart")] == ["depart"]
    assert len(get(epc="3034257BF7194E4000000001")) == 3


def test_movements_page_by_after_id_through_equal_timestamps(client: httpx.Client) -> None:
    since = iso(T0 - timedelta(hours=2))
    seen: list[str] = []
    params: dict[str, str | int] = {"since": since, "limit": 1}
    while True:
        response = client.get(f"/api/v1/sites/{SITE}/movements", params=params)
        rows = response.json()
        seen += [r["kind"] for r in rows]
        if "X-Next-After-Id" not in response.headers:
            break
        assert response.headers["X-Next-After-Id"] == str(rows[-1]["id"])
        params["after_id"] = rows[-1]["id"]
    assert seen == ["arrive", "pick", "move", "depart"]
    bad = client.get(f"/api/v1/sites/{SITE}/movements", params={"after_id": 999999})
    assert bad.status_code == 422
    assert "after_id: 999999 is not a movement" in bad.json()["detail"]


def test_movements_default_window_is_the_last_day_and_limit_is_capped(world: World) -> None:
    now = datetime.now(UTC)
    with connect(world.database_url) as conn:
        recent = add_movement(conn, now - timedelta(hours=1))
        add_movement(conn, now - timedelta(days=2))
    with api_client(world.database_url) as client:
        client.headers.update(auth(world.viewer))
        rows = client.get(f"/api/v1/sites/{SITE}/movements").json()
        assert [r["id"] for r in rows] == [recent]
        huge = client.get(f"/api/v1/sites/{SITE}/movements", params={"limit": 10**9})
        assert huge.status_code == 200
        assert client.get(f"/api/v1/sites/{SITE}/movements", params={"limit": 0}).status_code == 422


def test_alerts_all_and_active(client: httpx.Client) -> None:
    rows = client.get(f"/api/v1/sites/{SITE}/alerts").json()
    assert [r["type"] for r in rows] == ["device_silent", "misplaced", "out_of_stock"]
    active = client.get(f"/api/v1/sites/{SITE}/alerts", params={"status": "active"}).json()
    assert len(active) == 1
    alert = active[0]
    assert set(alert) == {
        "id",
        "type",
        "severity",
        "location",
        "sku",
        "status",
        "opened_at",
        "details",
    }
    assert alert | {"id": 0} == {
        "id": 0,
        "type": "out_of_stock",
        "severity": "major",
        "location": SHELF1,
        "sku": "TUNA-160",
        "status": "active",
        "opened_at": iso(T0 - timedelta(minutes=10)),
        "details": {"qty": 0},
    }
    bad = client.get(f"/api/v1/sites/{SITE}/alerts", params={"status": "open"})
    assert bad.status_code == 422
