"""Bearer tokens on every read: missing, malformed, unknown, expired, revoked; roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from api_world import SITE, World, api_client, auth, connect

from shelfsense.domain import Role
from shelfsense.tokens import create_token, hash_token, revoke_token, verify_token

pytestmark = pytest.mark.integration
STOCK = f"/api/v1/sites/{SITE}/stock"


@pytest.fixture
def client(world: World) -> Iterator[httpx.Client]:
    with api_client(world.database_url) as client:
        yield client


def _assert_401(response: object) -> None:
    assert getattr(response, "status_code") == 401  # noqa: B009
    headers = getattr(response, "headers")  # noqa: B009
    assert headers["WWW-Authenticate"].startswith("Bearer")


def test_missing_or_malformed_token_is_401(client: httpx.Client) -> None:
    for headers in (
        {},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        auth("nope"),
        auth("ss_" + "x" * 40),
    ):
        response = client.get(STOCK, headers=headers)
        _assert_401(response)
    assert client.get(STOCK, headers={}).headers["WWW-Authenticate"] == "Bearer"


def test_every_role_reads(client: httpx.Client, world: World) -> None:
    for token in (world.viewer, world.operator, world.admin):
        assert client.get(STOCK, headers=auth(token)).status_code == 200
    assert client.get("/api/v1/sites", headers=auth(world.viewer)).status_code == 200


def test_expired_token_is_401(client: httpx.Client, world: World) -> None:
    with connect(world.database_url) as conn:
        past = datetime.now(UTC) - timedelta(seconds=1)
        expired = create_token(conn, role=Role.ADMIN, name="old", expires_at=past)
        assert verify_token(conn, expired) is None
    response = client.get(STOCK, headers=auth(expired))
    _assert_401(response)
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_revoked_token_is_401(client: httpx.Client, world: World) -> None:
    assert client.get(STOCK, headers=auth(world.viewer)).status_code == 200
    with connect(world.database_url) as conn:
        row = conn.execute(
            "select id from api_tokens where token_hash = %s", (hash_token(world.viewer),)
        ).fetchone()
        assert row is not None
        assert revoke_token(conn, int(str(row[0])))
    _assert_401(client.get(STOCK, headers=auth(world.viewer)))


def test_use_is_recorded_and_only_the_hash_is_stored(client: httpx.Client, world: World) -> None:
    client.get(STOCK, headers=auth(world.operator))
    with connect(world.database_url) as conn:
        rows = conn.execute("select token_hash, last_used_at, name from api_tokens").fetchall()
    stored = {str(r[0]) for r in rows}
    assert world.operator not in stored and hash_token(world.operator) in stored
    used = {str(r[2]) for r in rows if r[1] is not None}
    assert used == {"test operator"}


def test_viewer_and_operator_cannot_manage_tokens(client: httpx.Client, world: World) -> None:
    for token in (world.viewer, world.operator):
        response = client.post(
            "/api/v1/tokens", json={"role": "admin", "name": "x"}, headers=auth(token)
        )
        assert response.status_code == 403
        assert response.json() == {"detail": "this needs the admin role"}
        assert client.get("/api/v1/tokens", headers=auth(token)).status_code == 403
        assert client.delete("/api/v1/tokens/1", headers=auth(token)).status_code == 403
    _assert_401(client.post("/api/v1/tokens", json={"role": "admin", "name": "x"}))
