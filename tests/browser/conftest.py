"""Browser tests: Playwright's sync API on Debian's ``/usr/bin/chromium`` (never
``playwright install``) against a real running store (see ``web_store``).

    store      session: sim + edge + Mosquitto + ingest + PostgreSQL + API, as child processes
    browser    session: headless Chromium
    phone      a fresh 390 x 844 touch context per test; fails the test on any uncaught
               JavaScript error in the page

Every test collected here is marked ``browser``. Screenshots go to ``artifacts/screenshots``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from web_store import RunningStore, start_store

from shelfsense.runtime import MosquittoBroker, PostgresCluster

_HERE = Path(__file__).parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
STORE_DATABASE = "browser_store"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(_HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def store(
    pg_cluster: PostgresCluster,
    migrated_template: str,
    mqtt_broker: MosquittoBroker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningStore]:
    url = pg_cluster.start().create_database(STORE_DATABASE, template=migrated_template)
    running = start_store(url, mqtt_broker.start().url, tmp_path_factory.mktemp("store"))
    try:
        yield running
    finally:
        running.stop()
        pg_cluster.start().drop_database(STORE_DATABASE)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Browser, store: RunningStore) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        base_url=store.base_url,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"uncaught JavaScript errors: {errors}"
