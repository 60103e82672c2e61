"""FastAPI dependencies as ``Annotated`` aliases: what a route needs, declared in its signature.

    async def stock(site: SiteDep, conn: DbDep, at: InstantQuery = None) -> list[StockRow]

``DbDep`` holds one pooled connection for the request. ``SiteDep`` answers 404 for a site that
is not in ``sites``. Timestamps in query strings are parsed here (``parse_instant``) so that a
bad one is a 422 whose message names the parameter and shows the expected form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status

from api import queries
from api.auth import authenticate, require
from api.config import ApiConfig
from api.db import Connection
from api.state import app_state
from shelfsense.domain import Role
from shelfsense.tokens import Principal

ISO_EXAMPLE = "2025-11-21T10:00:00Z"


async def _connection(request: Request) -> AsyncIterator[Connection]:
    async with app_state(request).pool.connection() as conn:
        yield conn


def _config(request: Request) -> ApiConfig:
    return app_state(request).config


async def _known_site(
    request: Request, site: Annotated[str, Path(description="site id", examples=["demo-store"])]
) -> str:
    async with app_state(request).pool.connection() as conn:
        if not await queries.site_exists(conn, site):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"unknown site {site!r}")
    return site


DbDep = Annotated[Connection, Depends(_connection)]
ConfigDep = Annotated[ApiConfig, Depends(_config)]
PrincipalDep = Annotated[Principal, Depends(authenticate)]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]
SiteDep = Annotated[str, Depends(_known_site)]


def instant_query(description: str) -> object:
    """A ``Query`` for an ISO 8601 timestamp (kept a string: ``parse_instant`` validates it)."""
    return Query(
        description=description,
        json_schema_extra={"format": "date-time", "examples": [ISO_EXAMPLE]},
    )


def parse_instant(name: str, value: str | None) -> datetime | None:
    """ISO 8601 -> aware UTC datetime; a timestamp without an offset is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"{name}: {value!r} is not an ISO 8601 timestamp (e.g. {ISO_EXAMPLE})",
        ) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
