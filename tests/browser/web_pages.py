"""Small steps the browser tests share: sign in, open a page, check the layout, screenshot."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def sign_in(page: Page, token: str) -> None:
    """Through the sign-in form, as a person would; lands on the home route."""
    page.goto("/#/signin")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"#/(sites|s/[^/]+)$"))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def open_site_page(page: Page, site: str, rest: str = "") -> None:
    page.goto(f"/#/s/{quote(site, safe='')}{rest}")


def shelf_route(location: str) -> str:
    return f"/shelf/{quote(location, safe='')}"


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths[0]} > {widths[1]} px"


def connection_state(page: Page) -> str:
    return str(page.locator("#conn").get_attribute("data-state"))
