"""Bad tokens never leave a blank page: an expired, unknown or revoked token leads to sign-in
with a message saying why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from web_pages import open_site_page, screenshot, sign_in
from web_store import DEMO_SITE, RunningStore

from shelfsense.domain import Role
from shelfsense.tokens import revoke_token

pytestmark = pytest.mark.browser
ENDED = "Your session has ended"


def _status(page: Page) -> str:
    return page.locator(".signin .form-status").inner_text()


def test_an_expired_token_leads_to_sign_in_with_a_message(phone: Page, store: RunningStore) -> None:
    _, expired = store.token(Role.VIEWER, expires_in=timedelta(minutes=-1))
    phone.goto("/#/signin")
    phone.evaluate("t => localStorage.setItem('shelfsense.token', t)", expired)
    open_site_page(phone, DEMO_SITE)
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(phone.locator(".signin .form-status")).to_contain_text(ENDED)
    assert phone.evaluate("() => localStorage.getItem('shelfsense.token')") is None
    screenshot(phone, "signin-expired")


def test_the_sign_in_form_refuses_an_expired_token(phone: Page, store: RunningStore) -> None:
    _, expired = store.token(Role.VIEWER, expires_in=timedelta(seconds=-5))
    phone.goto("/#/signin")
    phone.get_by_label("API token").fill(expired)
    phone.get_by_role("button", name="Sign in").click()
    expect(phone.locator(".signin .form-status")).to_contain_text("not accepted")
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_token_revoked_during_a_session_leads_to_sign_in(
    phone: Page, store: RunningStore
) -> None:
    token_id, token = store.token(Role.VIEWER)
    sign_in(phone, token)
    open_site_page(phone, DEMO_SITE)
    expect(phone.locator("a.tile").first).to_be_visible()
    with store.connect() as conn:
        assert revoke_token(conn, token_id)
    phone.get_by_role("link", name="Devices").click()
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    assert ENDED in _status(phone)
