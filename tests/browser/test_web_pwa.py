"""The app installs as a PWA: a manifest with icons, a service worker at scope /, and an app
shell that still opens (with a clear message, never blank) when the network is gone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from web_pages import open_site_page, screenshot, sign_in
from web_store import DEMO_SITE, RunningStore

pytestmark = pytest.mark.browser


def test_manifest_and_service_worker_make_it_installable(phone: Page, store: RunningStore) -> None:
    sign_in(phone, store.admin)
    manifest = phone.evaluate("() => fetch('/manifest.webmanifest').then(r => r.json())")
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    scope = phone.evaluate("() => navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{store.base_url}/"
    has_push = phone.evaluate("() => navigator.serviceWorker.ready.then(r => 'pushManager' in r)")
    assert has_push


def test_the_app_shell_opens_offline_and_recovers(phone: Page, store: RunningStore) -> None:
    sign_in(phone, store.admin)
    open_site_page(phone, DEMO_SITE)
    expect(phone.locator("a.tile").first).to_be_visible()
    phone.evaluate("() => navigator.serviceWorker.ready")
    phone.wait_for_function("() => navigator.serviceWorker.controller !== null")
    phone.context.set_offline(True)
    phone.reload()
    expect(phone.get_by_text("The server cannot be reached")).to_be_visible()
    expect(phone.locator("#banner")).to_contain_text("offline")
    screenshot(phone, "offline-shell")
    phone.context.set_offline(False)
    phone.get_by_role("button", name="Try again").click()
    expect(phone.locator("a.tile").first).to_be_visible()
