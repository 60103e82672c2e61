"""Web Push for the web UI: the VAPID public key, and browser subscriptions.

GET    /webpush/vapid-public-key   any signed-in user: ``{"public_key"}`` for
                                   ``pushManager.subscribe({applicationServerKey})``
POST   /webpush/subscriptions      store ``PushSubscription.toJSON()`` for the recipient linked
                                   to the caller's token (``recipients.token_id``); 201; the same
                                   endpoint again updates it; 409 when no recipient is linked
DELETE /webpush/subscriptions      ``?endpoint=``: forget one of the caller's subscriptions (204)

The key pair is generated once and kept in ``notify_secrets``; the notifier signs with it. A
push service answering 404/410 makes the notifier delete the subscription.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from api import notify_queries
from api.db import Connection
from api.deps import DbDep, PrincipalDep
from shelfsense import alert_links

router = APIRouter(tags=["notifications"])
_UPSERT_SQL = """
insert into webpush_subscriptions (recipient_id, endpoint, p256dh, auth) values (%s, %s, %s, %s)
on conflict (endpoint) do update
set recipient_id = excluded.recipient_id, p256dh = excluded.p256dh, auth = excluded.auth
returning id
"""


class VapidKey(BaseModel):
    public_key: str = Field(description="base64url uncompressed P-256 point")


class SubscriptionKeys(BaseModel):
    p256dh: str = Field(min_length=16, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")  # browsers add expirationTime

    endpoint: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    keys: SubscriptionKeys


class SubscriptionOut(BaseModel):
    id: int
    recipient_id: int


async def _recipient_of(conn: Connection, token_id: int) -> int:
    cur = await conn.execute(
        "select id from recipients where token_id = %s and active order by id limit 1",
        (token_id,),
    )
    row = await cur.fetchone()
    if row is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="this token is not linked to a recipient: an admin sets token_id on one",
        )
    return int(str(row[0]))


@router.get("/webpush/vapid-public-key", summary="the VAPID application server key")
async def vapid_public_key(user: PrincipalDep, conn: DbDep) -> VapidKey:
    private = await notify_queries.secret(conn, alert_links.VAPID_KEY)
    return VapidKey(public_key=alert_links.vapid_public_key(private))


@router.post(
    "/webpush/subscriptions", status_code=status.HTTP_201_CREATED, summary="subscribe a browser"
)
async def subscribe(body: SubscriptionIn, user: PrincipalDep, conn: DbDep) -> SubscriptionOut:
    recipient_id = await _recipient_of(conn, user.token_id)
    params = (recipient_id, body.endpoint, body.keys.p256dh, body.keys.auth)
    cur = await conn.execute(_UPSERT_SQL, params)
    row = await cur.fetchone()
    assert row is not None
    return SubscriptionOut(id=int(str(row[0])), recipient_id=recipient_id)


@router.delete(
    "/webpush/subscriptions", status_code=status.HTTP_204_NO_CONTENT, summary="unsubscribe"
)
async def unsubscribe(
    user: PrincipalDep, conn: DbDep, endpoint: Annotated[str, Query(min_length=8)]
) -> Response:
    recipient_id = await _recipient_of(conn, user.token_id)
    cur = await conn.execute(
        "delete from webpush_subscriptions where endpoint = %s and recipient_id = %s returning id",
        (endpoint, recipient_id),
    )
    if await cur.fetchone() is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such subscription of yours")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
