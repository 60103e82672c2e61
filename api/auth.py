"""Bearer-token authentication and role checks for every route but /health.

Tokens are issued and verified with the shared rules and SQL of ``shelfsense.tokens`` (the CLI
uses the same module over a sync connection); this module runs those statements on the API's
async connections. Roles nest: admin > operator > viewer.

    401 + ``WWW-Authenticate: Bearer``   no token, malformed, unknown, expired or revoked
    403                                  a valid token whose role is too low
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.db import Connection
from api.state import app_state
from shelfsense import tokens
from shelfsense.domain import Role
from shelfsense.tokens import Principal, TokenInfo

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `shelfsense token create` or `POST /api/v1/tokens`.",
)


def unauthorized(detail: str, *, invalid: bool) -> HTTPException:
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": challenge}
    )


async def verify(conn: Connection, token: str) -> Principal | None:
    """Async twin of ``shelfsense.tokens.verify_token`` (same SQL)."""
    if not tokens.looks_like_token(token):
        return None
    cur = await conn.execute(tokens.VERIFY_SQL, (tokens.TOUCH_EVERY_S, tokens.hash_token(token)))
    row = await cur.fetchone()
    if row is None:
        return None
    if row[3]:
        await conn.execute(tokens.TOUCH_SQL, (row[0],))
    return tokens.principal_from_row(row)


async def issue(
    conn: Connection, *, role: Role, name: str, expires_at: datetime | None
) -> tuple[int, str]:
    """Async twin of ``shelfsense.tokens.issue_token``: (row id, token)."""
    checked = tokens.check_request(role=role, name=name, expires_at=expires_at)
    token = tokens.new_token()
    cur = await conn.execute(
        tokens.INSERT_SQL, (name, checked, tokens.hash_token(token), expires_at)
    )
    row = await cur.fetchone()
    assert row is not None
    return int(str(row[0])), token


async def list_all(conn: Connection) -> list[TokenInfo]:
    cur = await conn.execute(tokens.LIST_SQL)
    return [tokens.info_from_row(row) for row in await cur.fetchall()]


async def revoke(conn: Connection, token_id: int) -> bool:
    """Async twin of ``shelfsense.tokens.revoke_token``."""
    cur = await conn.execute(tokens.REVOKE_SQL, (token_id,))
    if await cur.fetchone() is not None:
        return True
    cur = await conn.execute(tokens.EXISTS_SQL, (token_id,))
    return await cur.fetchone() is not None


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's principal. Borrows a pooled connection only for the lookup, so a long
    response (the SSE stream) holds no connection."""
    if credentials is None:
        raise unauthorized("missing bearer token (Authorization: Bearer TOKEN)", invalid=False)
    async with app_state(request).pool.connection() as conn:
        principal = await verify(conn, credentials.credentials)
    if principal is None:
        raise unauthorized("invalid, expired or revoked token", invalid=True)
    return principal


def require(role: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through principals with at least ``role``."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.may(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"this needs the {role} role")
        return principal

    return check
