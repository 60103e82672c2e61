"""One alert, its acknowledgement and clearing, and the site's alert rules.

GET  /sites/{site}/alerts/{id}         the alert with its history of events
POST /sites/{site}/alerts/{id}/ack     operator+: active -> acknowledged (again: no change)
POST /sites/{site}/alerts/{id}/clear   operator+: -> cleared by hand (again: no change). Ingest
                                       re-evaluates within seconds: a condition that still holds
                                       opens a new alert (the cleared one stays in history)
GET  /sites/{site}/alert-rules         every rule: effective settings, defaults, overrides
PUT  /sites/{site}/alert-rules         admin: ``{"low_stock": {"enabled": true, "params":
                                       {"hysteresis_units": 2}}, ...}`` replaces the overrides
                                       of the rules named; all or nothing. Ingest picks them up
                                       within ``catalog_poll_s``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from api import alerting_queries as q
from api.alerting_models import AlertDetail, AlertRuleIn, AlertRuleOut
from api.auth import authenticate, require
from api.db import Connection
from api.deps import AdminDep, DbDep, SiteDep
from shelfsense.alerting import RuleError
from shelfsense.domain import Role
from shelfsense.tokens import Principal

router = APIRouter(tags=["alerts"], dependencies=[Depends(authenticate)])
OperatorDep = Annotated[Principal, Depends(require(Role.OPERATOR))]


async def _detail(conn: Connection, site: str, alert_id: int) -> AlertDetail:
    found = await q.alert_detail(conn, site, alert_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alert {alert_id} in {site!r}")
    return found


@router.get("/sites/{site}/alerts/{alert_id}", summary="one alert and its events")
async def alert(site: SiteDep, alert_id: int, conn: DbDep) -> AlertDetail:
    return await _detail(conn, site, alert_id)


@router.post("/sites/{site}/alerts/{alert_id}/ack", summary="acknowledge an alert")
async def acknowledge(site: SiteDep, alert_id: int, conn: DbDep, who: OperatorDep) -> AlertDetail:
    """An active alert becomes acknowledged (it stays so while its condition holds). A cleared
    alert cannot be acknowledged: 409."""
    current = await _detail(conn, site, alert_id)
    if current.status == "cleared":
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"alert {alert_id} is cleared")
    await q.change_status(conn, site, alert_id, "acknowledged", who.name)
    return await _detail(conn, site, alert_id)


@router.post("/sites/{site}/alerts/{alert_id}/clear", summary="clear an alert by hand")
async def clear(site: SiteDep, alert_id: int, conn: DbDep, who: OperatorDep) -> AlertDetail:
    """The alert is cleared now. If its condition still holds, ingest opens a new alert at its
    next evaluation (within seconds): clearing silences nothing that is still wrong."""
    await _detail(conn, site, alert_id)
    await q.change_status(conn, site, alert_id, "cleared", who.name)
    return await _detail(conn, site, alert_id)


@router.get("/sites/{site}/alert-rules", summary="alert rules and their settings")
async def alert_rules(site: SiteDep, conn: DbDep) -> list[AlertRuleOut]:
    return await q.rules(conn, site)


@router.put("/sites/{site}/alert-rules", summary="override alert rule settings")
async def put_alert_rules(
    site: SiteDep, body: dict[str, AlertRuleIn], conn: DbDep, admin: AdminDep
) -> list[AlertRuleOut]:
    try:
        await q.put_rules(conn, site, {k: (v.enabled, v.params) for k, v in body.items()})
    except RuleError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    return await q.rules(conn, site)
