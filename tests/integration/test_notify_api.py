"""Recipients and Web Push subscriptions through the API, and Web Push delivery (VAPID) to a
push service stand-in, including expired subscriptions."""

from __future__ import annotations

import secrets

import httpx
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from integration.api_world import auth, served_api
from integration.notify_world import deliveries, notifier_thread, open_alert, rows
from support.capture import CaptureServer
from support.services import wait_for

from shelfsense.alert_links import b64url
from shelfsense.domain import Role
from shelfsense.tokens import issue_token


def tokens(url: str) -> dict[Role, tuple[int, str]]:
    with psycopg.connect(url) as conn:
        return {role: issue_token(conn, role=role, name=f"t-{role}") for role in Role}


def test_recipients_are_managed_by_admins_and_channels_are_masked(database_url: str) -> None:
    toks = tokens(database_url)
    admin, operator = auth(toks[Role.ADMIN][1]), auth(toks[Role.OPERATOR][1])
    body = {
        "name": "anna",
        "channels": ["ntfys://anna:s3cret@ntfy.example.com/store-7", "tgram://123:ABC/456"],
        "timezone": "Europe/Istanbul",
        "quiet_start": "22:00:00",
        "quiet_end": "07:00:00",
    }
    with served_api(database_url) as api, httpx.Client(base_url=api + "/api/v1") as client:
        assert client.post("/recipients", json=body, headers=operator).status_code == 403
        created = client.post("/recipients", json=body, headers=admin)
        assert created.status_code == 201, created.text
        rid = created.json()["id"]
        assert created.json()["channels"] == ["ntfys://ntfy.example.com/***", "tgram://***/***"]
        listed = client.get("/recipients", headers=operator).json()
        assert [r["name"] for r in listed] == ["anna"] and "s3cret" not in str(listed)
        bad = client.post("/recipients", json={**body, "timezone": "Mars/Base"}, headers=admin)
        assert bad.status_code == 422 and "Mars/Base" in bad.text
        half = client.post("/recipients", json={**body, "quiet_end": None}, headers=admin)
        assert half.status_code == 422 and "go together" in half.text
        changed = client.put(f"/recipients/{rid}", json={**body, "role": "manager"}, headers=admin)
        assert changed.json()["role"] == "manager"
        assert client.delete(f"/recipients/{rid}", headers=admin).status_code == 204
        assert client.get(f"/recipients/{rid}", headers=operator).json()["active"] is False
        assert client.get("/recipients/999", headers=operator).status_code == 404
    stored = rows(database_url, "select channels from recipients where id = %s", rid)
    assert stored[0][0][0] == "ntfys://anna:s3cret@ntfy.example.com/store-7"  # kept as given


def browser_keys() -> dict[str, str]:
    """What a browser's PushSubscription carries: its P-256 public key and auth secret."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return {"p256dh": b64url(point), "auth": b64url(secrets.token_bytes(16))}


def test_web_push_delivers_and_an_expired_subscription_is_removed(database_url: str) -> None:
    toks = tokens(database_url)
    admin_h = auth(toks[Role.ADMIN][1])
    viewer_id, viewer = toks[Role.VIEWER]
    with (
        CaptureServer() as push,
        served_api(database_url) as api,
        httpx.Client(base_url=api + "/api/v1") as client,
    ):
        push.answer("/push/gone", 410)
        key = client.get("/webpush/vapid-public-key", headers=auth(viewer)).json()["public_key"]
        assert key == client.get("/webpush/vapid-public-key", headers=admin_h).json()["public_key"]
        sub = {"endpoint": f"http://{push.base}/push/ok", "keys": browser_keys()}
        unlinked = client.post("/webpush/subscriptions", json=sub, headers=auth(viewer))
        assert unlinked.status_code == 409 and "not linked" in unlinked.json()["detail"]
        person = {"name": "vera", "token_id": viewer_id}
        assert client.post("/recipients", json=person, headers=admin_h).status_code == 201
        ok = client.post("/webpush/subscriptions", json=sub, headers=auth(viewer))
        assert ok.status_code == 201, ok.text
        gone = {"endpoint": f"http://{push.base}/push/gone", "keys": browser_keys()}
        assert client.post("/webpush/subscriptions", json=gone, headers=auth(viewer)).is_success
        with notifier_thread(database_url):
            alert = open_alert(database_url)
            (hit,) = push.wait_for(1, path="/push/ok")
            wait_for(
                lambda: {d["status"] for d in deliveries(database_url, alert)} == {"sent", "dead"}
            )
    assert hit.headers["Content-Encoding"] == "aes128gcm"
    assert (
        hit.headers["Authorization"].startswith("vapid t=") and key in hit.headers["Authorization"]
    )
    dead = next(d for d in deliveries(database_url, alert) if d["status"] == "dead")
    assert dead["attempts"] == 1 and "expired (HTTP 410)" in dead["last_error"]
    left = rows(database_url, "select endpoint from webpush_subscriptions")
    assert left == [(sub["endpoint"],)]
