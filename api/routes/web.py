"""The operator web app: a phone-first PWA served from the package's ``api/web`` folder.

    /                      index.html (the app shell; hash routing inside)
    /manifest.webmanifest  the PWA manifest
    /sw.js                 the service worker, scope ``/`` (offline shell, Web Push)
    /static/{path}         scripts, styles, icons

Everything is local (no CDN: a store's network may have no way out). File names carry no content
hash, so the shell is ``no-cache``: browsers revalidate with the ``ETag`` and get a 304 when
nothing changed; icons may be cached for a day. Paths outside ``api/web/static`` and files of
unknown types are 404. The HTML carries a strict Content-Security-Policy (own origin only, no
inline script or style): the app builds its DOM with ``textContent``, never ``innerHTML``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, status
from fastapi.responses import FileResponse

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
REVALIDATE = "no-cache"
ICON_CACHE = "public, max-age=86400"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

router = APIRouter(include_in_schema=False)
IfNoneMatch = Annotated[str | None, Header()]


def _etag(path: Path) -> str:
    stat = path.stat()
    return f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'


def serve(path: Path, if_none_match: str | None, cache_control: str = REVALIDATE) -> Response:
    """``path`` with its content type, ETag and cache policy (304 when the ETag matches)."""
    content_type = CONTENT_TYPES.get(path.suffix)
    if content_type is None or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
    etag = _etag(path)
    headers = {"ETag": etag, "Cache-Control": cache_control, **SECURITY_HEADERS}
    if path.suffix == ".html":
        headers["Content-Security-Policy"] = CSP
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return FileResponse(path, media_type=content_type, headers=headers)


@router.get("/")
async def index(if_none_match: IfNoneMatch = None) -> Response:
    return serve(WEB_DIR / "index.html", if_none_match)


@router.get("/manifest.webmanifest")
async def manifest(if_none_match: IfNoneMatch = None) -> Response:
    return serve(WEB_DIR / "manifest.webmanifest", if_none_match)


@router.get("/sw.js")
async def service_worker(if_none_match: IfNoneMatch = None) -> Response:
    response = serve(WEB_DIR / "sw.js", if_none_match)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@router.get("/static/{path:path}")
async def static(path: str, if_none_match: IfNoneMatch = None) -> Response:
    """A file under ``api/web/static`` (never outside it)."""
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR.resolve()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not Found")
    cache = ICON_CACHE if target.parent.name == "icons" else REVALIDATE
    return serve(target, if_none_match, cache)
