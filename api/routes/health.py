"""``GET /health``: the process answers (contract §6). No auth, no database round trip."""

from __future__ import annotations

from fastapi import APIRouter

from api.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", summary="liveness")
async def health() -> Health:
    return Health()
