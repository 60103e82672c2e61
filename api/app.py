"""``create_app``: the FastAPI application factory (no module-level app, engine or settings).

The app's lifespan opens the connection pool and the live hub inside the server's event loop and
closes them on shutdown. Database failures become 503 with a short message instead of a stack
trace; everything under ``/api/v1`` except ``/health`` needs a bearer token.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from api.config import ApiConfig
from api.db import DatabaseUnavailable, SimplePool
from api.hub import LiveHub
from api.routes import ROUTERS, web
from api.state import STATE_KEY, AppState
from shelfsense import __version__
from shelfsense.settings import Settings

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


def create_app(
    settings: Settings, *, database_url: str | None = None, config: ApiConfig | None = None
) -> FastAPI:
    """The API for ``database_url`` (default: the settings'). Nothing connects until startup."""
    url = database_url or settings.require_database()
    api_config = config or ApiConfig()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = SimplePool(
            url, max_size=api_config.pool_max_size, connect_timeout_s=api_config.connect_timeout_s
        )
        hub = LiveHub(url, pool, api_config)
        setattr(app.state, STATE_KEY, AppState(api_config, pool, hub))
        try:
            yield
        finally:
            await hub.close()
            await pool.close()

    app = FastAPI(
        title="shelfsense",
        version=__version__,
        description="Shelf telemetry turned into stock you can trust: reads of contract v1 §6 "
        "and more. Every route but /api/v1/health needs `Authorization: Bearer TOKEN`.",
        lifespan=lifespan,
    )
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(web.router)  # the web app at /
    app.add_exception_handler(psycopg.OperationalError, _unavailable)
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    return app


def stop_streams(app: FastAPI) -> None:
    """Ask every live stream to end now (thread- and signal-safe; no-op before startup).

    Call it when shutdown begins: the server waits for open responses before the lifespan ends,
    and an SSE stream would otherwise hold it for the whole grace period.
    """
    state: AppState | None = getattr(app.state, STATE_KEY, None)
    if state is not None:
        state.hub.stop_streams_threadsafe()


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("%s %s: database unavailable: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": "the database is unavailable; try again shortly"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )
