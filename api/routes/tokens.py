"""Token management (admin only): issue, list and revoke API tokens.

POST   /tokens        {"role", "name", "expires_days"?} -> 201 with the token, shown once
GET    /tokens        every token's metadata (never the token or its hash)
DELETE /tokens/{id}   revoke: 204; unknown id: 404; revoking twice is a no-op
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Response, status

from api import auth
from api.deps import AdminDep, DbDep
from api.models import TokenCreated, TokenInfoOut, TokenRequest

router = APIRouter(tags=["tokens"])


@router.post("/tokens", status_code=status.HTTP_201_CREATED, summary="issue a token")
async def create_token(body: TokenRequest, admin: AdminDep, conn: DbDep) -> TokenCreated:
    expires_at = (
        datetime.now(UTC) + timedelta(days=body.expires_days) if body.expires_days else None
    )
    token_id, token = await auth.issue(conn, role=body.role, name=body.name, expires_at=expires_at)
    return TokenCreated(
        id=token_id, name=body.name, role=body.role, expires_at=expires_at, token=token
    )


@router.get("/tokens", summary="list tokens")
async def list_tokens(admin: AdminDep, conn: DbDep) -> list[TokenInfoOut]:
    return [TokenInfoOut.model_validate(t, from_attributes=True) for t in await auth.list_all(conn)]


@router.delete(
    "/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="revoke a token"
)
async def revoke_token(token_id: int, admin: AdminDep, conn: DbDep) -> Response:
    if not await auth.revoke(conn, token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no token with id {token_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
