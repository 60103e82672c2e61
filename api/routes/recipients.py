"""Who is told about alerts, and the log of what they were sent.

GET    /recipients             operator+: every recipient, channel URLs masked
GET    /recipients/{id}        operator+
POST   /recipients             admin: 201 with the new recipient
PUT    /recipients/{id}        admin: replace every field
DELETE /recipients/{id}        admin: deactivate (204); the delivery log keeps its rows
GET    /deliveries             operator+: the delivery log, newest first (?alert_id, ?recipient_id)

Channel URLs (``ntfys://…``, ``json://…``, any apprise URL) often embed credentials: they are
stored as given and never returned whole (``ntfys://ntfy.sh/***``).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.auth import require
from api.db import Connection
from api.deps import AdminDep, DbDep
from api.notify_queries import RECIPIENT_COLUMNS, RECIPIENT_FIELDS
from shelfsense.alert_links import mask_channel
from shelfsense.domain import Role, Severity
from shelfsense.tokens import Principal

router = APIRouter(tags=["notifications"])
OperatorDep = Annotated[Principal, Depends(require(Role.OPERATOR))]
_CHANNEL_EXAMPLE = "ntfys://ntfy.example.com/store-7-alerts"


class RecipientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    site_id: str | None = Field(None, description="null: every site")
    role: str = Field("staff", min_length=1, max_length=64, examples=["staff", "manager"])
    escalation_level: int = Field(1, ge=1, le=9, description="1 is told first")
    min_severity: Severity = Severity.WARNING
    alert_types: list[str] = Field(default_factory=list, description="empty: every type")
    channels: list[str] = Field(default_factory=list, examples=[[_CHANNEL_EXAMPLE]])
    timezone: str = "UTC"
    quiet_start: time | None = Field(None, description="local time; critical still goes out")
    quiet_end: time | None = None
    digest_severity: Severity | None = Field(None, description="this and below: in a digest")
    token_id: int | None = Field(None, description="the API token this person signs in with")
    active: bool = True

    @field_validator("channels")
    @classmethod
    def _urls(cls, channels: list[str]) -> list[str]:
        for url in channels:
            if "://" not in url or url.startswith("webpush:"):
                raise ValueError(
                    f"{mask_channel(url)} is not a channel URL like {_CHANNEL_EXAMPLE}"
                )
        return channels

    @field_validator("timezone")
    @classmethod
    def _zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            hint = "an IANA name like Europe/Istanbul"
            raise ValueError(f"unknown time zone {zone!r} ({hint})") from None
        return zone

    @model_validator(mode="after")
    def _quiet_pair(self) -> RecipientIn:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start and quiet_end go together")
        if self.digest_severity is Severity.CRITICAL:
            raise ValueError("critical alerts never wait for a digest")
        return self


class RecipientOut(BaseModel):
    id: int
    site_id: str | None
    name: str
    role: str
    escalation_level: int
    min_severity: Severity
    alert_types: list[str]
    channels: list[str] = Field(description="masked")
    timezone: str
    quiet_start: time | None
    quiet_end: time | None
    digest_severity: Severity | None
    token_id: int | None
    active: bool
    created_at: datetime
    updated_at: datetime
    webpush_subscriptions: int


class DeliveryOut(BaseModel):
    id: int
    alert_event_id: int
    alert_id: int
    recipient_id: int
    kind: str
    severity: str
    title: str
    channel: str = Field(description="masked")
    digest: bool
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _out(row: Any) -> RecipientOut:
    names = list(RecipientOut.model_fields)
    values = dict(zip(names, row, strict=True))
    values["channels"] = [mask_channel(url) for url in values["channels"]]
    return RecipientOut.model_validate(values)


async def _one(conn: Connection, recipient_id: int) -> RecipientOut:
    cur = await conn.execute(
        f"select {RECIPIENT_COLUMNS} from recipients r where r.id = %s", (recipient_id,)
    )
    row = await cur.fetchone()
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no recipient with id {recipient_id}"
        )
    return _out(row)


async def _write(conn: Connection, sql: str, params: tuple[Any, ...]) -> int | None:
    """Run an insert/update returning id; an unknown site or token is a 422."""
    try:
        cur = await conn.execute(sql, params)
    except psycopg.errors.ForeignKeyViolation:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="unknown site_id or token_id"
        ) from None
    row = await cur.fetchone()
    return None if row is None else int(str(row[0]))


def _values(body: RecipientIn) -> tuple[Any, ...]:
    data = body.model_dump()
    return tuple(data[name.strip()] for name in RECIPIENT_FIELDS.split(","))


@router.get("/recipients", summary="list recipients")
async def list_recipients(user: OperatorDep, conn: DbDep) -> list[RecipientOut]:
    cur = await conn.execute(f"select {RECIPIENT_COLUMNS} from recipients r order by r.id")
    return [_out(row) for row in await cur.fetchall()]


@router.get("/recipients/{recipient_id}", summary="one recipient")
async def get_recipient(recipient_id: int, user: OperatorDep, conn: DbDep) -> RecipientOut:
    return await _one(conn, recipient_id)


@router.post("/recipients", status_code=status.HTTP_201_CREATED, summary="add a recipient")
async def create_recipient(body: RecipientIn, admin: AdminDep, conn: DbDep) -> RecipientOut:
    marks = ", ".join(["%s"] * len(RECIPIENT_FIELDS.split(",")))
    sql = f"insert into recipients ({RECIPIENT_FIELDS}) values ({marks}) returning id"
    new_id = await _write(conn, sql, _values(body))
    assert new_id is not None
    return await _one(conn, new_id)


@router.put("/recipients/{recipient_id}", summary="replace a recipient")
async def update_recipient(
    recipient_id: int, body: RecipientIn, admin: AdminDep, conn: DbDep
) -> RecipientOut:
    sets = ", ".join(f"{name.strip()} = %s" for name in RECIPIENT_FIELDS.split(","))
    sql = f"update recipients set {sets}, updated_at = now() where id = %s returning id"
    if await _write(conn, sql, (*_values(body), recipient_id)) is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no recipient with id {recipient_id}"
        )
    return await _one(conn, recipient_id)


@router.delete(
    "/recipients/{recipient_id}", status_code=status.HTTP_204_NO_CONTENT, summary="deactivate"
)
async def delete_recipient(recipient_id: int, admin: AdminDep, conn: DbDep) -> Response:
    cur = await conn.execute(
        "update recipients set active = false, updated_at = now() where id = %s returning id",
        (recipient_id,),
    )
    if await cur.fetchone() is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no recipient with id {recipient_id}"
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/deliveries", summary="the delivery log, newest first")
async def deliveries(
    user: OperatorDep,
    conn: DbDep,
    alert_id: Annotated[int | None, Query(description="only this alert")] = None,
    recipient_id: Annotated[int | None, Query(description="only this recipient")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[DeliveryOut]:
    cols = ", ".join(DeliveryOut.model_fields)
    sql = (
        f"select {cols} from deliveries where (%(a)s::bigint is null or alert_id = %(a)s) "
        "and (%(r)s::bigint is null or recipient_id = %(r)s) order by id desc limit %(n)s"
    )
    cur = await conn.execute(sql, {"a": alert_id, "r": recipient_id, "n": limit})
    names = list(DeliveryOut.model_fields)
    return [
        DeliveryOut.model_validate(dict(zip(names, r, strict=True))) for r in await cur.fetchall()
    ]
