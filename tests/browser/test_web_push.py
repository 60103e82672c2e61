"""Settings subscribes this device to Web Push: notification permission, the server's VAPID key
as applicationServerKey, the subscription POSTed to /api/v1/webpush/subscriptions (part B).

Headless Chromium has no push service to talk to, so the page's PushManager is replaced by a
stand-in that returns a fixed subscription; everything else (permission, key decoding, the POST,
the stored row) is real."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect
from web_pages import open_site_page, sign_in
from web_store import DEMO_SITE, RunningStore

from shelfsense.domain import Role

pytestmark = pytest.mark.browser
ENDPOINT = "https://push.example.test/send/device-1"
FAKE_PUSH_SERVICE = """
(() => {
  const subscription = {
    endpoint: 'ENDPOINT',
    toJSON() {
      return { endpoint: this.endpoint, expirationTime: null,
               keys: { p256dh: 'B'.repeat(87), auth: 'A'.repeat(22) } };
    },
  };
  let current = null;
  PushManager.prototype.getSubscription = async function () { return current; };
  PushManager.prototype.subscribe = async function (options) {
    window.__serverKeyBytes = options.applicationServerKey.byteLength;
    current = subscription;
    return subscription;
  };
})();
""".replace("ENDPOINT", ENDPOINT)


def _subscriptions(store: RunningStore) -> list[str]:
    with store.connect() as conn:
        rows = conn.execute("select endpoint from webpush_subscriptions").fetchall()
    return [str(r[0]) for r in rows]


def _recipient_token(store: RunningStore) -> str:
    """A token of its own, linked to a recipient (the server files subscriptions under one)."""
    token_id, token = store.token(Role.OPERATOR)
    with store.connect() as conn:
        conn.execute(
            "insert into recipients (site_id, name, token_id) values (%s, %s, %s)",
            (DEMO_SITE, "browser push", token_id),
        )
    return str(token)


def test_enable_notifications_subscribes_this_device(phone: Page, store: RunningStore) -> None:
    paths = httpx.get(f"{store.base_url}/openapi.json", timeout=5).json()["paths"]
    if "/api/v1/webpush/subscriptions" not in paths:
        pytest.skip("POST /api/v1/webpush/subscriptions does not exist yet (part B)")
    phone.context.grant_permissions(["notifications"])
    phone.context.add_init_script(FAKE_PUSH_SERVICE)
    sign_in(phone, _recipient_token(store))
    open_site_page(phone, DEMO_SITE, "/settings")
    phone.get_by_role("button", name="Enable notifications").click()
    status = phone.locator("section[aria-labelledby=push-title] .form-status")
    expect(status).to_have_text("Notifications are on for this device.")
    assert phone.evaluate("() => window.__serverKeyBytes") == 65  # an uncompressed P-256 point
    assert ENDPOINT in _subscriptions(store)
