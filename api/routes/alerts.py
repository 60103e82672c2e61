"""``GET /sites/{site}/alerts`` (contract §6), oldest first; ``?status=active`` for open ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api import queries
from api.auth import authenticate
from api.deps import ConfigDep, DbDep, SiteDep
from api.models import AlertRow
from shelfsense.domain import AlertStatus

router = APIRouter(tags=["alerts"], dependencies=[Depends(authenticate)])


@router.get("/sites/{site}/alerts", summary="alerts ordered by opened_at")
async def alerts(
    site: SiteDep,
    conn: DbDep,
    config: ConfigDep,
    status: Annotated[AlertStatus | None, Query(description="only alerts in this status")] = None,
    limit: Annotated[int | None, Query(ge=1, description="at most this many")] = None,
) -> list[AlertRow]:
    """Alerts ordered by opened_at (all statuses unless `status` is given)."""
    cap = min(limit or config.list_limit_max, config.list_limit_max)
    return await queries.alerts(conn, site, status=status, limit=cap)
