"""Every other channel (Pushover, Telegram, e-mail, Slack, …) through apprise 2.x.

apprise answers only True/False, so a False is taken as transient (RETRY: the backoff and the
attempt limit bound it); a URL apprise does not understand is GONE at once. The acknowledgement
link is appended to the body, since most of these channels have no buttons.
"""

from __future__ import annotations

import apprise

from ingest.notifier.channels import SENT, Message, Outcome, SendResult, Target, mask


class AppriseChannel:
    def send(self, target: Target, message: Message) -> SendResult:
        bundle = apprise.Apprise()
        if not bundle.add(target.url):
            return SendResult(Outcome.GONE, f"apprise does not understand {mask(target.url)}")
        body = message.body
        if message.ack_url:
            body += f"\nAcknowledge: {message.ack_url}"
        if bundle.notify(body=body, title=message.title):
            return SENT
        return SendResult(Outcome.RETRY, "apprise reported a failed delivery")
