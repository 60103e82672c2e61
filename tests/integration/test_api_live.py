"""The live stream under a real uvicorn: a NOTIFY from ingest becomes SSE events for its site."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from api_world import (
    SHELF1,
    SITE,
    T0,
    Event,
    World,
    add_movement,
    auth,
    connect,
    events,
    next_event,
    served_api,
    set_cell,
)

pytestmark = pytest.mark.integration
LIVE = f"/api/v1/sites/{SITE}/live"


def notify(url: str, payload: dict[str, object]) -> None:
    with connect(url) as conn:
        conn.execute("select pg_notify('shelfsense_events', %s)", (json.dumps(payload),))


def commit_ledger_10(world: World) -> int:
    """What ingest commits as ledger 10: a TUNA back on shelf 1, its cell, the alert cleared."""
    with connect(world.database_url) as conn:
        moved = add_movement(conn, T0, src=None, dst=SHELF1, ledger_id=10)
        set_cell(conn, "TUNA-160", SHELF1, 1, "low", T0)
        conn.execute(
            "update alerts set status = 'cleared', cleared_at = %s where type = 'out_of_stock'",
            (T0,),
        )
    return int(moved)


@contextmanager
def live_stream(world: World, headers: dict[str, str]) -> Iterator[Iterator[Event]]:
    with (
        served_api(world.database_url) as base,
        httpx.Client(base_url=base, timeout=10) as client,
        client.stream("GET", LIVE, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield events(response)


def test_notify_becomes_movement_stock_and_alert_events(world: World) -> None:
    with live_stream(world, auth(world.viewer)) as stream:
        assert "connected" in next(stream).comments  # subscribed and listening from here on
        notify(world.database_url, {"site": "other-store", "ledger_id": 9, "movements": [1]})
        notify(world.database_url, {"site": SITE, "ledger_id": 10, "movements": ["x"]})
        moved = commit_ledger_10(world)
        notify(
            world.database_url,
            {
                "site": SITE,
                "ledger_id": 10,
                "movements": [moved],
                "stock_changed": True,
                "alerts": True,
            },
        )
        movement = next_event(stream)
        assert (movement.event, movement.id) == ("movement", "10")
        assert [(m["id"], m["kind"], m["to_location"]) for m in movement.rows()] == [
            (moved, "arrive", SHELF1)
        ]
        stock = next_event(stream)
        assert (stock.event, stock.id) == ("stock", "10")
        assert stock.rows() == [
            {
                "sku": "TUNA-160",
                "location": SHELF1,
                "qty": 1,
                "state": "low",
                "updated_at": "2025-11-21T10:00:00Z",
                "expired_qty": 0,
            }
        ]  # only the cell that changed
        alert = next_event(stream)
        assert alert.event == "alert"
        assert [(a["type"], a["status"]) for a in alert.rows()] == [("out_of_stock", "cleared")]
        quiet = next(stream)
        assert quiet.event is None and "keepalive" in quiet.comments


def test_last_event_id_resumes_with_missed_movements_then_a_snapshot(world: World) -> None:
    moved = commit_ledger_10(world)
    headers = auth(world.viewer) | {"Last-Event-ID": "2"}
    with live_stream(world, headers) as stream:
        first, second = next_event(stream), next_event(stream)
        assert (first.event, first.id, [m["kind"] for m in first.rows()]) == (
            "movement",
            "3",
            ["depart"],
        )
        assert (second.event, second.id, [m["id"] for m in second.rows()]) == (
            "movement",
            "10",
            [moved],
        )
        snapshot = next_event(stream)
        assert snapshot.event == "stock" and snapshot.id is None
        assert len(snapshot.rows()) == 3
        alerts = next_event(stream)
        assert alerts.event == "alert"
        assert {a["status"] for a in alerts.rows()} == {"acknowledged"}


def test_live_needs_a_token(world: World) -> None:
    with served_api(world.database_url) as base, httpx.Client(base_url=base, timeout=10) as client:
        response = client.get(LIVE)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_lost_listen_connection_tells_clients_to_resync(world: World) -> None:
    with live_stream(world, auth(world.viewer)) as stream:
        assert "connected" in next(stream).comments
        with connect(world.database_url) as conn:
            killed = conn.execute(
                """select pg_terminate_backend(pid) from pg_stat_activity
                   where datname = current_database() and query ilike 'LISTEN %'"""
            ).fetchall()
        assert killed == [(True,)]
        resync = next_event(stream)
        assert resync.event == "resync"
        assert "reload" in json.loads(resync.data)["reason"]
        assert list(stream) == []  # the server ended the stream after resync


def test_a_truncated_id_list_still_brings_the_whole_commit(world: World) -> None:
    with live_stream(world, auth(world.viewer)) as stream:
        assert "connected" in next(stream).comments
        with connect(world.database_url) as conn, conn.transaction():
            ids = [add_movement(conn, T0 + timedelta(seconds=i), ledger_id=11) for i in range(3)]
        with connect(world.database_url) as conn:
            add_movement(conn, T0, ledger_id=12)  # another commit: not part of the event
        notify(world.database_url, {"site": SITE, "ledger_id": 11, "movements": ids[:1]})
        movement = next_event(stream)
        assert (movement.event, movement.id) == ("movement", "11")
        assert [m["id"] for m in movement.rows()] == ids
