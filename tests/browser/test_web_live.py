"""The store view follows the live stream: a movement ingest commits shows within 2 s without a
reload, and a lost connection (the API killed and started again) comes back by itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from web_pages import open_site_page, screenshot, sign_in
from web_store import TEST_SHELF, TEST_SITE, RunningStore

pytestmark = pytest.mark.browser
MAX_LATENCY_MS = 2000


def _recorded_ms(store: RunningStore, epc: str) -> float:
    with store.connect() as conn:
        row = conn.execute(
            """select extract(epoch from recorded_at) * 1000 from movements
               where site_id = %s and epc = %s and kind = 'arrive'""",
            (TEST_SITE, epc),
        ).fetchone()
    assert row is not None, f"no arrival of {epc} in the database"
    return float(str(row[0]))


def _open_live_store_view(phone: Page, store: RunningStore) -> None:
    sign_in(phone, store.admin)
    open_site_page(phone, TEST_SITE)
    expect(phone.locator("#conn")).to_have_attribute("data-state", "live")
    phone.evaluate("() => { window.__sameDocument = true; }")


def test_a_movement_appears_on_the_store_view_within_2_s(phone: Page, store: RunningStore) -> None:
    _open_live_store_view(phone, store)
    (epc,) = store.feeder.arrive(1)
    item = phone.locator(f"li.move[data-epc='{epc}']")
    expect(item).to_be_visible(timeout=15_000)
    shown_ms = float(item.get_attribute("data-shown-at") or "nan")
    latency_ms = shown_ms - _recorded_ms(store, epc)
    assert latency_ms < MAX_LATENCY_MS, f"shown {latency_ms:.0f} ms after ingest committed it"
    tile = phone.locator(f"a.tile[data-location='{TEST_SHELF}']")
    expect(tile.locator(".tile-qty")).to_have_text(str(len(store.feeder.present)))
    assert phone.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
    screenshot(phone, "store-live-movement")
    print(f"movement on screen {latency_ms:.0f} ms after the ingest commit")


def test_a_lost_live_connection_reconnects_by_itself(phone: Page, store: RunningStore) -> None:
    _open_live_store_view(phone, store)
    conn = phone.locator("#conn")
    store.kill_api()
    expect(conn).to_have_attribute("data-state", "reconnecting", timeout=10_000)
    screenshot(phone, "store-reconnecting", full_page=False)
    store.start_api()
    expect(conn).to_have_attribute("data-state", "live", timeout=20_000)
    (epc,) = store.feeder.arrive(1)
    expect(phone.locator(f"li.move[data-epc='{epc}']")).to_be_visible(timeout=15_000)
    assert phone.evaluate("() => window.__sameDocument === true"), "the page was reloaded"
