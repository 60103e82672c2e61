"""Web Push (VAPID) to the browsers of the web UI, through pywebpush.

The payload is a JSON document the service worker shows as a notification:
``{"title", "body", "severity", "kind", "alert_id", "ack_url"}``. A push service answering
404 or 410 says the subscription is gone for good (the browser unsubscribed or the permission
was revoked): the result is GONE and the service deletes the subscription. Other failures retry.
"""

from __future__ import annotations

import json

from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from ingest.notifier.channels import SENT, Message, Outcome, SendResult, Target


class WebPushChannel:
    def __init__(self, vapid_private_key: str, subject: str, timeout_s: float) -> None:
        self._vapid = Vapid.from_string(private_key=vapid_private_key)
        self._subject = subject
        self._timeout_s = timeout_s

    def send(self, target: Target, message: Message) -> SendResult:
        sub = target.subscription
        if sub is None:
            return SendResult(Outcome.GONE, "the push subscription was removed")
        info = {"endpoint": sub.endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
        try:
            webpush(
                info,
                data=json.dumps(push_payload(message)),
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self._subject},
                timeout=self._timeout_s,
                ttl=3600,
            )
        except WebPushException as exc:
            return _failure(exc)
        except (OSError, ValueError) as exc:  # requests' errors are OSErrors
            return SendResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:300])
        return SENT


def _failure(exc: WebPushException) -> SendResult:
    code = getattr(exc.response, "status_code", None)
    if code in (404, 410):
        return SendResult(Outcome.GONE, f"push subscription expired (HTTP {code})")
    if isinstance(code, int) and 400 <= code < 500 and code not in (408, 429):
        return SendResult(Outcome.GONE, f"push service refused it (HTTP {code})")
    return SendResult(Outcome.RETRY, f"push service failed (HTTP {code})")


def push_payload(message: Message) -> dict[str, object]:
    return {
        "title": message.title,
        "body": message.body,
        "severity": str(message.severity),
        "kind": str(message.kind),
        "alert_id": message.alert_id,
        "ack_url": message.ack_url,
    }
