"""Sending leased deliveries on a small thread pool, so one slow channel does not hold others.

The service thread submits; worker threads only call ``Notifier.send`` (no database); the
service thread collects finished sends and records them. Digest deliveries of one recipient and
target that come due together go out as one message.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from ingest.notifier import messages
from ingest.notifier.channels import Message, Notifier, Outcome, SendResult, Target
from ingest.notifier.model import DeliveryKind, rank
from ingest.notifier.sending import Claimed
from shelfsense.alert_links import AckClaim, sign_ack

log = logging.getLogger(__name__)
_ACKABLE = (
    DeliveryKind.ALERT,
    DeliveryKind.UPDATE,
    DeliveryKind.ESCALATION,
    DeliveryKind.REMINDER,
)


@dataclass(frozen=True, slots=True)
class AckLinks:
    base_url: str  # ends with /api/v1/ack/
    key: bytes
    ttl_s: int

    def url(self, alert_id: int, recipient_id: int, now_s: int) -> str:
        claim = AckClaim(alert_id, recipient_id, now_s + self.ttl_s)
        return self.base_url + sign_ack(self.key, claim)


def group(claimed: Sequence[Claimed]) -> list[list[Claimed]]:
    """One batch per message: each non-digest delivery alone, digests per (recipient, target)."""
    singles = [[c] for c in claimed if not c.digest]
    digests = sorted((c for c in claimed if c.digest), key=lambda c: (c.recipient_id, c.target))
    grouped = itertools.groupby(digests, key=lambda c: (c.recipient_id, c.target))
    return singles + [list(batch) for _, batch in grouped]


def message(batch: Sequence[Claimed], links: AckLinks | None, now_s: int) -> Message:
    first = batch[0]
    if len(batch) > 1 or first.digest:
        title, body = messages.digest([c.title for c in batch])
        severity = max((c.severity for c in batch), key=rank)
        return Message(title, body, severity, DeliveryKind.ALERT, first.alert_id)
    ack = None
    if links is not None and first.kind in _ACKABLE:
        ack = links.url(first.alert_id, first.recipient_id, now_s)
    return Message(first.title, first.body, first.severity, first.kind, first.alert_id, ack)


class Sender:
    def __init__(self, notifier: Notifier, workers: int, links: AckLinks | None) -> None:
        self._notifier = notifier
        self._links = links
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="notify-send")
        self._inflight: list[tuple[list[Claimed], Future[SendResult]]] = []

    @property
    def busy(self) -> int:
        return len(self._inflight)

    def submit(self, claimed: Sequence[Claimed], now_s: int) -> None:
        for batch in group(claimed):
            target = Target(batch[0].target, batch[0].subscription)
            future = self._pool.submit(self._send, target, message(batch, self._links, now_s))
            self._inflight.append((batch, future))

    def _send(self, target: Target, msg: Message) -> SendResult:
        try:
            return self._notifier.send(target, msg)
        except Exception as exc:  # a channel bug must not kill the worker: retry it later
            log.exception("channel %s raised", target.url.split(":", 1)[0])
            return SendResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}"[:300])

    def finished(self) -> list[tuple[list[Claimed], SendResult]]:
        done: list[tuple[list[Claimed], Future[SendResult]]] = []
        waiting: list[tuple[list[Claimed], Future[SendResult]]] = []
        for batch, future in self._inflight:
            (done if future.done() else waiting).append((batch, future))
        self._inflight = waiting
        # a send cancelled by close() never started: its lease expires and it goes again
        return [(batch, future.result()) for batch, future in done if not future.cancelled()]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
