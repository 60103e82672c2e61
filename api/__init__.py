"""shelfsense API service: contract v1 §6 reads and more over HTTP, plus live server-sent events.

    app = create_app(settings)          # a FastAPI app; connects to the database on startup
    shelfsense api --host H --port P    # the same app under uvicorn

Layout: ``app`` (factory, lifespan), ``config`` (ApiConfig), ``db`` (pool seam), ``auth`` and
``deps`` (bearer tokens, roles, per-request dependencies), ``queries`` / ``catalog_queries`` /
``live_queries`` (SQL -> typed rows), ``models`` (response models = the OpenAPI schema), ``hub``
(one LISTEN connection fanned out to SSE clients), ``routes/`` (one module per resource).
"""

from api.app import create_app
from api.config import ApiConfig

__all__ = ["ApiConfig", "create_app"]
