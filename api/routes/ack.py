"""Acknowledgement links sent with notifications: ``/ack/{token}``, no bearer token needed (the
signed link is the credential; see ``shelfsense.alert_links``).

GET   a small confirm page whose button POSTs (link previews and prefetchers only GET, so
      opening the link never acknowledges by itself)
POST  acknowledges the alert once: 200 the first time; 410 "already acknowledged" (or
      "already cleared") afterwards, changing nothing; 410 for an expired link, 404 for a
      malformed or forged one. Answers HTML to browsers (``Accept: text/html``), JSON otherwise
      (ntfy's action button, scripts).
"""

from __future__ import annotations

import html
import time
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api import notify_queries
from api.db import Connection
from api.deps import DbDep
from shelfsense import alert_links
from shelfsense.alert_links import AckClaim, AckLinkError

router = APIRouter(tags=["notifications"])
_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>shelfsense</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}}
button{{font-size:1.2rem;padding:.7rem 1.4rem}}</style></head><body>{content}</body></html>"""


async def _claim(conn: Connection, token: str) -> AckClaim:
    key = alert_links.b64url_decode(await notify_queries.secret(conn, alert_links.ACK_KEY))
    try:
        return alert_links.verify_ack(key, token, now_s=int(time.time()))
    except AckLinkError as exc:
        expired = "expired" in str(exc)
        code = status.HTTP_410_GONE if expired else status.HTTP_404_NOT_FOUND
        raise HTTPException(code, detail=str(exc)) from None


def _page(content: str, code: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(content=content), status_code=code)


@router.get("/ack/{token}", response_class=HTMLResponse, summary="confirm page of an ack link")
async def confirm_page(token: str, conn: DbDep) -> HTMLResponse:
    claim = await _claim(conn, token)
    alert = await notify_queries.alert_brief(conn, claim.alert_id)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such alert")
    what = html.escape(f"{alert.severity.upper()} {alert.type}: {alert.subject} ({alert.site_id})")
    if alert.status != "active":
        return _page(f"<p>{what}</p><p>Already {html.escape(alert.status)}.</p>")
    return _page(
        f"<p>{what}</p><form method=post action='{html.escape(token)}'>"
        "<button type=submit>Acknowledge</button></form>"
    )


@router.post(
    "/ack/{token}",
    summary="acknowledge an alert through a signed link (works once)",
    responses={410: {"description": "already acknowledged or cleared, or the link expired"}},
)
async def acknowledge(
    token: str, conn: DbDep, accept: Annotated[str | None, Header()] = None
) -> Response:
    claim = await _claim(conn, token)
    by = await notify_queries.recipient_name(conn, claim.recipient_id) or "a recipient"
    done = await notify_queries.acknowledge(conn, claim.alert_id, claim.recipient_id, by)
    alert = await notify_queries.alert_brief(conn, claim.alert_id)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such alert")
    state = "acknowledged" if done else f"already {alert.status}"
    code = status.HTTP_200_OK if done else status.HTTP_410_GONE
    body = {"status": state, "alert_id": alert.id, "acked_by": alert.acked_by}
    if accept and "text/html" in accept:
        return _page(f"<p>Alert {alert.id}: {html.escape(state)}.</p>", code)
    return JSONResponse(body, status_code=code)
