"""``shelfsense token create|list|revoke``: manage API tokens from the command line.

    shelfsense token create --role viewer --name grafana [--expires-days 90]   # stdout: the token
    shelfsense token list
    shelfsense token revoke ID

``create`` prints the token and nothing else to stdout, so ``TOKEN=$(shelfsense token create …)``
works; it is shown only this once (the database keeps its hash).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shelfsense.domain import Role
from shelfsense.settings import Settings

if TYPE_CHECKING:  # psycopg is imported inside run(): building the CLI parser stays light
    import psycopg

    from shelfsense.tokens import TokenInfo

    Conn = psycopg.Connection[tuple[object, ...]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="token_action", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="issue a token and print it")
    create.add_argument("--role", required=True, choices=[str(r) for r in Role])
    create.add_argument("--name", required=True, help="who or what uses it")
    create.add_argument("--expires-days", type=int, help="valid this many days (default: forever)")
    listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
    revoke = actions.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("id", type=int)
    for sub in (create, listing, revoke):
        # Also accepted after the action; SUPPRESS keeps a value given before it.
        sub.add_argument("--database-url", default=argparse.SUPPRESS)
        sub.add_argument("--mqtt-url", default=argparse.SUPPRESS)
        sub.add_argument("--log-level", default=argparse.SUPPRESS)


def run(args: argparse.Namespace, settings: Settings) -> int:
    import psycopg

    with psycopg.connect(settings.require_database(), autocommit=True) as conn:
        match args.token_action:
            case "create":
                return _create(conn, args)
            case "list":
                return _list(conn)
            case "revoke":
                return _revoke(conn, args.id)
    raise AssertionError(f"unknown action {args.token_action!r}")


def _create(conn: Conn, args: argparse.Namespace) -> int:
    from shelfsense import tokens

    if args.expires_days is not None and args.expires_days <= 0:
        print("--expires-days must be > 0", file=sys.stderr)
        return 2
    expires_at = (
        datetime.now(UTC) + timedelta(days=args.expires_days) if args.expires_days else None
    )
    try:
        token = tokens.create_token(conn, role=args.role, name=args.name, expires_at=expires_at)
    except tokens.TokenError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(token)
    return 0


def _status(info: TokenInfo, now: datetime) -> str:
    if info.revoked_at is not None:
        return "revoked"
    if info.expires_at is not None and info.expires_at <= now:
        return "expired"
    return "active"


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else "-"


def _list(conn: Conn) -> int:
    from shelfsense.tokens import list_tokens

    now = datetime.now(UTC)
    print(f"{'id':>5}  {'role':8}  {'status':7}  {'expires_at':20}  {'last_used_at':20}  name")
    for t in list_tokens(conn):
        print(
            f"{t.id:>5}  {t.role:8}  {_status(t, now):7}  {_iso(t.expires_at):20}  "
            f"{_iso(t.last_used_at):20}  {t.name}"
        )
    return 0


def _revoke(conn: Conn, token_id: int) -> int:
    from shelfsense.tokens import revoke_token

    if not revoke_token(conn, token_id):
        print(f"no token with id {token_id}", file=sys.stderr)
        return 1
    print(f"token {token_id} revoked")
    return 0
