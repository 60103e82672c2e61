"""Signed acknowledgement links and the notifier's secrets, shared by ``shelfsense notify``
(which signs links and pushes with the VAPID key) and the API (which checks links and hands
browsers the VAPID public key). PURE except for the SQL constants, which each side runs on its
own (sync or async) connection, as ``shelfsense.tokens`` does.

An acknowledgement token names one alert, one recipient and an expiry (epoch seconds):

    token = sign_ack(key, AckClaim(alert_id=42, recipient_id=7, expires_s=1_763_800_000))
    claim = verify_ack(key, token, now_s=...)   # AckClaim, or AckLinkError

It reads ``{alert_id}-{recipient_id}-{expires_s}-{mac}`` where ``mac`` is the unpadded base64url
HMAC-SHA256 of ``ack:{alert_id}:{recipient_id}:{expires_s}`` under a 256-bit key stored in
``notify_secrets`` (created on first use, by whichever side comes first). Only path-safe
characters appear, so the token is one URL path segment. A token proves that the notifier sent
this link to this recipient; using it once is enforced by the alert's status, not by the token.

Secrets (``notify_secrets.name``):
    ack_hmac_key        base64url, 32 random bytes
    vapid_private_key   base64url raw P-256 private scalar (32 bytes; py_vapid's "raw" form)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "ACK_KEY",
    "VAPID_KEY",
    "WEBPUSH_PREFIX",
    "AckClaim",
    "AckLinkError",
    "b64url",
    "b64url_decode",
    "mask_channel",
    "new_secret",
    "sign_ack",
    "vapid_public_key",
    "verify_ack",
]

ACK_KEY = "ack_hmac_key"
VAPID_KEY = "vapid_private_key"
# get-or-create in one statement pair: insert if absent, then read whichever value won
INSERT_SECRET_SQL = (
    "insert into notify_secrets (name, value) values (%s, %s) on conflict do nothing"
)
SELECT_SECRET_SQL = "select value from notify_secrets where name = %s"

WEBPUSH_PREFIX = "webpush:"  # a recipient's browser subscription as a delivery target
_TOKEN = re.compile(r"^(\d{1,18})-(\d{1,18})-(\d{1,12})-([A-Za-z0-9_-]{43})$")


class AckLinkError(ValueError):
    """A token that is malformed, forged or expired (the message says which)."""


@dataclass(frozen=True, slots=True)
class AckClaim:
    alert_id: int
    recipient_id: int
    expires_s: int  # epoch seconds; the link stops working at this instant


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, claim: AckClaim) -> str:
    message = f"ack:{claim.alert_id}:{claim.recipient_id}:{claim.expires_s}".encode()
    return b64url(hmac.new(key, message, hashlib.sha256).digest())


def sign_ack(key: bytes, claim: AckClaim) -> str:
    return f"{claim.alert_id}-{claim.recipient_id}-{claim.expires_s}-{_mac(key, claim)}"


def verify_ack(key: bytes, token: str, *, now_s: int) -> AckClaim:
    """The claim of a genuine, unexpired token; ``AckLinkError`` otherwise."""
    match = _TOKEN.match(token)
    if match is None:
        raise AckLinkError("not an acknowledgement link")
    claim = AckClaim(int(match[1]), int(match[2]), int(match[3]))
    if not hmac.compare_digest(_mac(key, claim), match[4]):
        raise AckLinkError("this link's signature does not match")
    if now_s >= claim.expires_s:
        raise AckLinkError("this acknowledgement link has expired")
    return claim


def new_secret(name: str) -> str:
    """A fresh value for the secret ``name`` (see the module docstring for the forms)."""
    if name == ACK_KEY:
        return b64url(secrets.token_bytes(32))
    if name == VAPID_KEY:
        key = ec.generate_private_key(ec.SECP256R1())
        return b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    raise KeyError(f"unknown secret {name!r}")


def vapid_public_key(private_raw: str) -> str:
    """The browser's ``applicationServerKey``: base64url of the uncompressed public point."""
    scalar = int.from_bytes(b64url_decode(private_raw), "big")
    public = ec.derive_private_key(scalar, ec.SECP256R1()).public_key()
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def mask_channel(url: str) -> str:
    """A channel URL safe to show: scheme, plausible host name and port; credentials, tokens,
    topics and bot ids become ``***``.  ``ntfys://u:p@ntfy.sh/secret`` -> ``ntfys://ntfy.sh/***``."""
    if url.startswith(WEBPUSH_PREFIX):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    looks_like_host = "." in host or host == "localhost"
    shown = host if looks_like_host else "***"
    try:
        port = f":{parts.port}" if parts.port and looks_like_host else ""
    except ValueError:
        port = ""
    rest = "/***" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{shown}{port}{rest}"
