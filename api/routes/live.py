"""``GET /sites/{site}/live``: server-sent events of one site's changes, as ingest commits them.

Events (``data`` is a JSON list of the same rows the REST reads return):

    event: movement   MovementRow list    id: ledger id of the commit
    event: stock      StockRow list       changed cells (after a resume: every listed cell)
    event: alert      AlertRow list       opened, updated or cleared alerts
    event: resync     {"reason": …}       events were lost: reload through the REST reads

A comment line (``: keepalive``) is sent after ``heartbeat_s`` (15 s) of silence. A client that
reconnects with ``Last-Event-ID: N`` first gets the movements of ledger batches after N (when
they are among the newest few thousand rows; else ``resync``), then the current stock and open
alerts. The stream holds no database connection between events (see ``api.hub``). When the
server stops, streams end at once; clients reconnect (``retry: 3000``) with their Last-Event-ID.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, status
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.auth import authenticate
from api.deps import SiteDep
from api.hub import CLOSE, LiveEvent, LiveHub, Subscription
from api.state import app_state

router = APIRouter(tags=["live"], dependencies=[Depends(authenticate)])


def _sse(event: LiveEvent) -> ServerSentEvent:
    return ServerSentEvent(event=event.event, raw_data=event.data_json, id=event.id)


def _ledger(last_event_id: str | None) -> int | None:
    try:
        return int(last_event_id) if last_event_id else None
    except ValueError:
        return None  # not one of ours: start fresh


async def _subscription(site: SiteDep, request: Request) -> AsyncIterator[Subscription]:
    """Subscribe before the response starts, so that failing to is still a proper 503."""
    hub = app_state(request).hub
    if hub.stopping:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="the server is stopping")
    sub = await hub.subscribe(site)
    try:
        yield sub
    finally:
        hub.unsubscribe(sub)


@router.get("/sites/{site}/live", response_class=EventSourceResponse, summary="live changes")
async def live(
    site: SiteDep,
    request: Request,
    sub: Annotated[Subscription, Depends(_subscription)],
    last_event_id: Annotated[str | None, Header(description="resume after this ledger id")] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events of the site's movements, stock changes and alerts (see the module)."""
    state = app_state(request)
    after = _ledger(last_event_id)
    async for event in _events(state.hub, site, sub, after, state.config.heartbeat_s):
        yield event


async def _events(
    hub: LiveHub, site: str, sub: Subscription, after_ledger: int | None, heartbeat_s: float
) -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(comment="connected", retry=3000)
    if after_ledger is not None:
        for event in await hub.resume(site, after_ledger):
            yield _sse(event)
    while True:
        try:
            event = await asyncio.wait_for(sub.queue.get(), heartbeat_s)
        except TimeoutError:
            yield ServerSentEvent(comment="keepalive")
            continue
        if event is CLOSE:
            return
        yield _sse(event)
        if event.event == "resync":
            return
