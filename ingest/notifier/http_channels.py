"""ntfy and JSON webhooks, posted directly with httpx.

ntfy is spoken directly rather than through apprise: apprise's ntfy plugin takes action buttons
only as a fixed URL parameter (one ``X-Actions`` header for every message), while each of our
messages carries its own signed acknowledgement link; it also reports a bare True/False, and the
delivery log needs the HTTP status to tell a retry (5xx, 429) from a dead channel (other 4xx).

    ntfy://[user:pass@]host[:port]/topic[?token=TK]    http, JSON publish to the server root
    ntfys://…                                          the same over https
    json://[user:pass@]host[:port]/path                POST a JSON document (jsons: https)

JSON webhook body: ``{"version": 1, "title", "message", "severity", "kind", "alert_id",
"ack_url"}`` (``ack_url`` null when there is none).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from ingest.notifier.channels import SENT, Message, Outcome, SendResult, Target
from ingest.notifier.model import DeliveryKind
from shelfsense.domain import Severity

NTFY_PRIORITY = {Severity.INFO: 2, Severity.WARNING: 3, Severity.MAJOR: 4, Severity.CRITICAL: 5}
NTFY_TAGS = {Severity.INFO: "information_source", Severity.WARNING: "warning"}
NTFY_TAGS |= {Severity.MAJOR: "warning", Severity.CRITICAL: "rotating_light"}


def _endpoint(url: str, secure_scheme: str) -> tuple[str, str, dict[str, str], Any]:
    """(server base URL, path, headers, auth) of a channel URL."""
    parts = urlsplit(url)
    http = "https" if parts.scheme.lower() == secure_scheme else "http"
    port = f":{parts.port}" if parts.port else ""
    headers: dict[str, str] = {}
    token = parse_qs(parts.query).get("token")
    if token:
        headers["Authorization"] = f"Bearer {token[0]}"
    auth = None
    if parts.username:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    return f"{http}://{parts.hostname}{port}", parts.path, headers, auth


def _outcome(response: httpx.Response) -> SendResult:
    code = response.status_code
    if 200 <= code < 300:
        return SENT
    detail = f"HTTP {code}: {response.text[:200]}"
    if code >= 500 or code in (408, 425, 429):
        return SendResult(Outcome.RETRY, detail)
    return SendResult(Outcome.GONE, detail)


class _HttpChannel:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def _post(
        self, url: str, body: dict[str, Any], headers: dict[str, str], auth: Any
    ) -> SendResult:
        try:
            response = self._client.post(url, json=body, headers=headers, auth=auth)
        except httpx.HTTPError as exc:
            return SendResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:300])
        return _outcome(response)


class NtfyChannel(_HttpChannel):
    """Publishes to an ntfy server with an "Acknowledge" action button (HTTP POST)."""

    def send(self, target: Target, message: Message) -> SendResult:
        base, path, headers, auth = _endpoint(target.url, "ntfys")
        topic = path.strip("/")
        if not topic:
            return SendResult(Outcome.GONE, "the ntfy URL names no topic")
        return self._post(base + "/", ntfy_payload(topic, message), headers, auth)


def ntfy_payload(topic: str, message: Message) -> dict[str, Any]:
    resolved = message.kind is DeliveryKind.RESOLVED
    body: dict[str, Any] = {
        "topic": topic,
        "title": message.title,
        "message": message.body,
        "priority": 2 if resolved else NTFY_PRIORITY[message.severity],
        "tags": ["white_check_mark"] if resolved else [NTFY_TAGS[message.severity]],
    }
    if message.ack_url and not resolved:
        body["click"] = message.ack_url  # opening it shows the confirm page (GET)
        body["actions"] = [
            {
                "action": "http",
                "label": "Acknowledge",
                "url": message.ack_url,
                "method": "POST",
                "clear": True,
            }
        ]
    return body


class JsonWebhookChannel(_HttpChannel):
    def send(self, target: Target, message: Message) -> SendResult:
        base, path, headers, auth = _endpoint(target.url, "jsons")
        return self._post(base + (path or "/"), webhook_payload(message), headers, auth)


def webhook_payload(message: Message) -> dict[str, Any]:
    return {
        "version": 1,
        "title": message.title,
        "message": message.body,
        "severity": str(message.severity),
        "kind": str(message.kind),
        "alert_id": message.alert_id,
        "ack_url": message.ack_url,
    }
