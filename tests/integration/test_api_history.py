"""GET /sites/{site}/locations/{location}/history: one location's stock changes over a window,
each product's level before the window first (so a step chart starts at the right height)."""

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


def _history(client: httpx.Client, location: str, **params: str) -> httpx.Response:
    return client.get(f"/api/v1/sites/{SITE}/locations/{location}/history", params=params)


def _points(response: httpx.Response) -> list[tuple[str, str, int, str]]:
    assert response.status_code == 200, response.text
    return [(p["ts"], p["sku"], p["qty"], p["state"]) for p in response.json()]


def test_the_level_before_the_window_comes_first(client: httpx.Client) -> None:
    points = _points(_history(client, SHELF1, since=iso(T0 - timedelta(minutes=45))))
    assert points == [
        (iso(T0 - timedelta(hours=1)), "TUNA-160", 3, "ok"),  # carried in
        (iso(T0 - timedelta(minutes=30)), "TUNA-160", 1, "low"),
        (iso(T0 - timedelta(minutes=10)), "TUNA-160", 0, "out"),
    ]


def test_until_ends_the_window_and_sku_filters(client: httpx.Client) -> None:
    window = {"since": iso(T0 - timedelta(minutes=45)), "until": iso(T0 - timedelta(minutes=20))}
    assert [p[2] for p in _points(_history(client, SHELF1, **window))] == [3, 1]
    assert _points(_history(client, SCALE_SHELF, sku="TUNA-160", **window)) == []
    cola = _points(
        _history(client, SCALE_SHELF, sku="COLA-330", since=iso(T0 - timedelta(hours=3)))
    )
    assert [(p[2], p[3]) for p in cola] == [(5, "ok"), (5, "unknown")]


def test_a_window_with_no_change_still_has_the_level(client: httpx.Client) -> None:
    points = _points(_history(client, SHELF2, since=iso(T0)))
    assert points == [(iso(T0 - timedelta(minutes=20)), "TUNA-160", 2, "ok")]


def test_without_since_the_window_is_the_last_24_hours(client: httpx.Client) -> None:
    points = _points(_history(client, SHELF1, until=iso(T0 + timedelta(hours=1))))
    assert [p[2] for p in points] == [3, 1, 0]


@pytest.mark.parametrize(
    ("location", "params", "status", "needle"),
    [
        ("floor/aisle-9/shelf-1", {}, 404, "unknown location"),
        (SHELF1, {"since": "yesterday"}, 422, "since"),
        (SHELF1, {"since": iso(T0), "until": iso(T0 - timedelta(hours=1))}, 422, "before"),
    ],
)
def test_bad_requests(
    client: httpx.Client, location: str, params: dict[str, str], status: int, needle: str
) -> None:
    response = _history(client, location, **params)
    assert response.status_code == status
    assert needle in response.json()["detail"]


def test_unknown_site_and_missing_token(client: httpx.Client) -> None:
    assert client.get(f"/api/v1/sites/nowhere/locations/{SHELF1}/history").status_code == 404
    del client.headers["Authorization"]
    assert _history(client, SHELF1).status_code == 401
