"""The /api/v1 routers, one module per resource; ``ROUTERS`` lists them in mount order."""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import (
    ack,
    alerting,
    alerts,
    catalog,
    health,
    history,
    live,
    lots,
    movements,
    recipients,
    stock,
    tokens,
    webpush,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    stock.router,
    history.router,
    movements.router,
    alerts.router,
    alerting.router,
    lots.router,
    catalog.router,
    live.router,
    tokens.router,
    recipients.router,
    webpush.router,
    ack.router,
)
