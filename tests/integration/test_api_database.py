"""The API and its database: connections killed under it are replaced; no database is a 503."""

from __future__ import annotations

import httpx
import pytest
from api_world import SITE, api_client, auth, connect, seed_world, served_api

from api import db
from shelfsense.runtime.ports import free_port

pytestmark = pytest.mark.integration


def test_pooled_connections_killed_by_the_server_are_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "CHECK_IDLE_S", 0.0)  # ping every idle connection before reuse
    world = seed_world(database_url)
    with api_client(database_url) as client:
        client.headers.update(auth(world.viewer))
        assert client.get(f"/api/v1/sites/{SITE}/stock").status_code == 200
        with connect(database_url) as conn:
            killed = conn.execute(
                """select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity
                   where datname = current_database() and pid <> pg_backend_pid()) k"""
            ).fetchone()
        assert killed is not None and int(str(killed[0])) >= 1
        for _ in range(3):
            assert client.get(f"/api/v1/sites/{SITE}/stock").status_code == 200


def test_an_unreachable_database_is_503_not_a_stack_trace() -> None:
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    with served_api(nowhere) as base, httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/api/v1/health").json() == {"status": "ok"}
        response = client.get(f"/api/v1/sites/{SITE}/stock", headers=auth("ss_" + "a" * 43))
        assert response.status_code == 503
        assert response.json() == {"detail": "the database is unavailable; try again shortly"}
        assert response.headers["Retry-After"] == "5"
