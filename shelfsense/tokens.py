"""API tokens: issue, verify, list and revoke (``shelfsense token …`` and the API's auth).

A token is ``ss_`` + ``secrets.token_urlsafe(32)`` (256 random bits). Only its SHA-256 is stored
(``api_tokens.token_hash``), so a copy of the database does not hand out working tokens. A plain
hash without salt or key stretching is enough here: those defend low-entropy secrets (passwords)
against guessing, and nobody can enumerate 2**256 candidates. Looking a token up by its hash in a
unique index leaks at most timing about the hash, which gives no path back to the token.

A token is valid while it is neither revoked (``revoked_at``) nor expired (``expires_at``, compared
with the database clock). The SQL lives here as constants so that the API's async connection and
the CLI's sync connection run the same statements:

    token = create_token(conn, role=Role.VIEWER, name="grafana")   # printed once, never stored
    principal = verify_token(conn, token)                           # Principal | None
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from shelfsense.domain import Role

__all__ = [
    "TOKEN_PREFIX",
    "Principal",
    "TokenError",
    "TokenInfo",
    "create_token",
    "hash_token",
    "issue_token",
    "list_tokens",
    "looks_like_token",
    "new_token",
    "revoke_token",
    "verify_token",
]

TOKEN_PREFIX = "ss_"
TOKEN_BYTES = 32
MAX_NAME_CHARS = 200
TOUCH_EVERY_S = (
    60  # last_used_at is refreshed at most this often (one write a minute, not a request)
)

INSERT_SQL = """insert into api_tokens (name, role, token_hash, expires_at)
values (%s, %s, %s, %s) returning id"""
VERIFY_SQL = """select id, name, role,
  last_used_at is null or last_used_at < now() - make_interval(secs => %s) as stale
from api_tokens
where token_hash = %s and revoked_at is null and (expires_at is null or expires_at > now())"""
TOUCH_SQL = "update api_tokens set last_used_at = now() where id = %s"
LIST_SQL = """select id, name, role, created_at, expires_at, revoked_at, last_used_at
from api_tokens order by id"""
REVOKE_SQL = """update api_tokens set revoked_at = now() where id = %s and revoked_at is null
returning id"""
EXISTS_SQL = "select 1 from api_tokens where id = %s"


class TokenError(ValueError):
    """A token request is malformed (empty name, naive expiry)."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's row id, its name and its role."""

    token_id: int
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        """True when this principal has at least ``role`` (admin > operator > viewer)."""
        return _RANK[self.role] >= _RANK[role]


_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token's row, without anything secret."""

    id: int
    name: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Hex SHA-256 of the whole token (prefix included)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check before any database round trip."""
    return token.startswith(TOKEN_PREFIX) and 16 <= len(token) <= 256


def check_request(*, role: Role | str, name: str, expires_at: datetime | None) -> Role:
    """Validate a token request; returns the role as a ``Role``."""
    if not name.strip() or len(name) > MAX_NAME_CHARS:
        raise TokenError(f"token name must be 1..{MAX_NAME_CHARS} characters")
    if expires_at is not None and expires_at.tzinfo is None:
        raise TokenError("expires_at must carry a time zone")
    try:
        return Role(role)
    except ValueError as exc:
        raise TokenError(f"unknown role {role!r}: one of {', '.join(Role)}") from exc


def principal_from_row(row: Sequence[object]) -> Principal:
    """(id, name, role, …) as selected by ``VERIFY_SQL`` -> ``Principal``."""
    return Principal(int(str(row[0])), str(row[1]), Role(str(row[2])))


def _when(value: object) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp, got {value!r}")
    return value


def info_from_row(row: Sequence[object]) -> TokenInfo:
    """A ``LIST_SQL`` row -> ``TokenInfo``."""
    created_at = _when(row[3])
    assert created_at is not None
    return TokenInfo(
        int(str(row[0])),
        str(row[1]),
        Role(str(row[2])),
        created_at,
        _when(row[4]),
        _when(row[5]),
        _when(row[6]),
    )


def issue_token(
    conn: psycopg.Connection[tuple[object, ...]],
    *,
    role: Role | str,
    name: str,
    expires_at: datetime | None = None,
) -> tuple[int, str]:
    """Store a new token's hash; returns (row id, token). The token is shown once, never stored."""
    checked = check_request(role=role, name=name, expires_at=expires_at)
    token = new_token()
    with conn.transaction():
        row = conn.execute(INSERT_SQL, (name, checked, hash_token(token), expires_at)).fetchone()
    assert row is not None
    return int(str(row[0])), token


def create_token(
    conn: psycopg.Connection[tuple[object, ...]],
    *,
    role: Role | str,
    name: str,
    expires_at: datetime | None = None,
) -> str:
    """Like ``issue_token`` without the row id."""
    return issue_token(conn, role=role, name=name, expires_at=expires_at)[1]


def verify_token(conn: psycopg.Connection[tuple[object, ...]], token: str) -> Principal | None:
    """The principal of a valid token, None for unknown, revoked or expired ones."""
    if not looks_like_token(token):
        return None
    with conn.transaction():
        row = conn.execute(VERIFY_SQL, (TOUCH_EVERY_S, hash_token(token))).fetchone()
        if row is None:
            return None
        if row[3]:
            conn.execute(TOUCH_SQL, (row[0],))
    return principal_from_row(row)


def list_tokens(conn: psycopg.Connection[tuple[object, ...]]) -> list[TokenInfo]:
    return [info_from_row(row) for row in conn.execute(LIST_SQL)]


def revoke_token(conn: psycopg.Connection[tuple[object, ...]], token_id: int) -> bool:
    """Revoke by row id; False when there is no such token (revoking twice is True, a no-op)."""
    with conn.transaction():
        if conn.execute(REVOKE_SQL, (token_id,)).fetchone() is not None:
            return True
        return conn.execute(EXISTS_SQL, (token_id,)).fetchone() is not None
