"""Token management: the admin API and ``shelfsense token …`` issue tokens that then work."""

from __future__ import annotations

import pytest
from api_world import SITE, api_client, auth, seed_world

from shelfsense.cli import main

pytestmark = pytest.mark.integration
STOCK = f"/api/v1/sites/{SITE}/stock"


def test_admin_issues_lists_and_revokes_tokens(database_url: str) -> None:
    world = seed_world(database_url)
    with api_client(database_url) as client:
        client.headers.update(auth(world.admin))
        created = client.post(
            "/api/v1/tokens", json={"role": "viewer", "name": "grafana", "expires_days": 30}
        )
        assert created.status_code == 201
        body = created.json()
        assert body["token"].startswith("ss_") and body["role"] == "viewer"
        assert body["expires_at"] is not None
        assert client.get(STOCK, headers=auth(body["token"])).status_code == 200
        listed = client.get("/api/v1/tokens").json()
        assert "grafana" in {t["name"] for t in listed}
        assert all("token" not in t and "token_hash" not in t for t in listed)
        assert client.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
        assert client.get(STOCK, headers=auth(body["token"])).status_code == 401
        assert client.delete(f"/api/v1/tokens/{body['id']}").status_code == 204  # no-op
        missing = client.delete("/api/v1/tokens/99999")
        assert (missing.status_code, missing.json()) == (404, {"detail": "no token with id 99999"})
        bad = client.post("/api/v1/tokens", json={"role": "root", "name": "x"})
        assert bad.status_code == 422


def test_cli_prints_a_token_that_works_and_can_revoke_it(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_world(database_url)
    db = ["--database-url", database_url]
    assert main(["token", "create", "--role", "operator", "--name", "cli test", *db]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("ss_") and "\n" not in token
    with api_client(database_url) as client:
        assert client.get(STOCK, headers=auth(token)).status_code == 200
        assert main(["token", "list", *db]) == 0
        listing = capsys.readouterr().out
        line = next(row for row in listing.splitlines() if row.endswith("cli test"))
        token_id = line.split()[0]
        assert "operator" in line and "active" in line
        assert main(["token", *db, "revoke", token_id]) == 0
        assert capsys.readouterr().out.strip() == f"token {token_id} revoked"
        assert client.get(STOCK, headers=auth(token)).status_code == 401
    assert main(["token", "revoke", "4242", *db]) == 1
    assert main(["token", "create", "--role", "viewer", "--name", " ", *db]) == 2


def test_cli_token_expiring_in_days(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed_world(database_url)
    db = ["--database-url", database_url]
    assert (
        main(["token", "create", "--role", "viewer", "--name", "t", "--expires-days", "2", *db])
        == 0
    )
    capsys.readouterr()
    assert main(["token", "list", *db]) == 0
    line = next(r for r in capsys.readouterr().out.splitlines() if r.endswith("  t"))
    assert line.split()[3].endswith("Z")  # expires_at column filled
