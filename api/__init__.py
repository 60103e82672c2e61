"""shelfsense API service: contract v1 §6 reads and more over HTTP, plus live server-sent events.

    app = create_app(settings)          # a FastAPI app; connects to the database on startup
    shelfsense api --host H --port P    # the same app under uvicorn

Layout: ``app`` (factory, lifespan), ``config`` (ApiConfig), ``db`` (pool seam), ``auth`` and
``deps`` (bearer tokens, roles, per-request dependencies), ``queries`` / ``catalog_queries`` /
``live_queries`` (SQL -> typed rows), ``models`` (response models = the OpenAPI schema), ``hub``
(one LISTEN connection fanned out to SSE clients), ``routes/`` (one module per resource).

The public names load on first use: ``shelfsense`` imports ``api.cli`` to build its parser and
must not pay for FastAPI on every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.app import create_app
    from api.config import ApiConfig

__all__ = ["ApiConfig", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from api.app import create_app

        return create_app
    if name == "ApiConfig":
        from api.config import ApiConfig

        return ApiConfig
    raise AttributeError(f"module 'api' has no attribute {name!r}")
