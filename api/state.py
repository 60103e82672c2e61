"""What one running app owns: its config, connection pool and live-event hub.

Built in the app's lifespan (inside the server's event loop) and stored on ``app.state``; routes
reach it through ``app_state(request)`` or the aliases in ``api.deps``.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from api.config import ApiConfig
from api.db import ConnectionPool
from api.hub import LiveHub


@dataclass(frozen=True, slots=True)
class AppState:
    config: ApiConfig
    pool: ConnectionPool
    hub: LiveHub


STATE_KEY = "shelfsense"


def app_state(request: HTTPConnection) -> AppState:
    state: AppState | None = getattr(request.app.state, STATE_KEY, None)
    if state is None:
        raise RuntimeError("the app was not started: use it inside its lifespan")
    return state
