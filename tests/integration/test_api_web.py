"""The web app's files as the API serves them: content types, cache headers, the service worker's
scope, a manifest whose icons exist, no way out of the static folder, and a precache list in the
service worker that names every shell file (else the app would not open offline)."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_world import api_client

from api.routes.web import STATIC_DIR, WEB_DIR

pytestmark = pytest.mark.integration


@pytest.fixture
def client(database_url: str) -> Iterator[httpx.Client]:
    with api_client(database_url) as c:
        yield c


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/js/views/store.js", "text/javascript; charset=utf-8"),
        ("/static/app.css", "text/css; charset=utf-8"),
        ("/static/icons/icon.svg", "image/svg+xml"),
    ],
)
def test_files_have_their_content_type_and_revalidate(
    client: httpx.Client, path: str, content_type: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    etag = response.headers["etag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_the_shell_is_revalidated_and_icons_are_cached(client: httpx.Client) -> None:
    index = client.get("/")
    assert index.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in index.headers["content-security-policy"]
    assert client.get("/static/icons/icon-192.png").headers["cache-control"].startswith("public")


def test_the_service_worker_may_control_the_whole_app(client: httpx.Client) -> None:
    response = client.get("/sw.js")
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["cache-control"] == "no-cache"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_icons_exist_with_their_declared_sizes(client: httpx.Client) -> None:
    manifest = client.get("/manifest.webmanifest").json()
    assert manifest["display"] == "standalone" and manifest["scope"] == "/"
    for icon in manifest["icons"]:
        response = client.get(icon["src"])
        assert response.status_code == 200, icon["src"]
        assert response.headers["content-type"] == icon["type"]
        if icon["type"] == "image/png":
            width, height = _png_size(response.content)
            assert f"{width}x{height}" == icon["sizes"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/%2e%2e/index.html",  # a real file, but outside static/
        "/static/%2e%2e/make_icons.py",
        "/static/%2e%2e/%2e%2e/routes/web.py",
        "/static/nothing.js",
        "/static/js",
        "/static/icons/",
    ],
)
def test_nothing_outside_the_static_files_is_served(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 404


def test_web_routes_stay_out_of_the_api_schema(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if not p.startswith("/api/v1/")]


def _shell_files() -> set[str]:
    files = {f"/static/{p.relative_to(STATIC_DIR).as_posix()}" for p in STATIC_DIR.rglob("*")}
    return {f for f in files if f.endswith((".js", ".css"))} | {"/", "/manifest.webmanifest"}


def test_the_service_worker_precaches_every_script_and_style() -> None:
    sw = (WEB_DIR / "sw.js").read_text()
    listed = set(re.findall(r"^\s*'(/[^']*)',$", sw, re.MULTILINE))
    assert _shell_files() <= listed, sorted(_shell_files() - listed)


def test_every_module_import_resolves() -> None:
    for module in STATIC_DIR.rglob("*.js"):
        for target in re.findall(r"from '(\.[^']+)'", module.read_text()):
            resolved = (module.parent / target).resolve()
            assert resolved.is_file(), f"{module.name} imports missing {target}"


def test_the_manifest_is_valid_json_with_a_theme() -> None:
    manifest = json.loads((WEB_DIR / "manifest.webmanifest").read_text())
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert Path(WEB_DIR / "index.html").read_text().count('rel="manifest"') == 1


def test_every_precached_path_is_served(client: httpx.Client) -> None:
    """One missing file fails the service worker's install (cache.addAll is all or nothing)."""
    sw = (WEB_DIR / "sw.js").read_text()
    for path in re.findall(r"^\s*'(/[^']*)',$", sw, re.MULTILINE):
        assert client.get(path).status_code == 200, path
