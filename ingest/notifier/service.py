"""Wiring of ``shelfsense notify``: ``run_notify(config, stop=...)``.

A process of its own, so a dead channel never slows ingest. One thread (this one) owns the
loop and both database connections; sends run on ``Sender``'s pool.

    wait for NOTIFY shelfsense_alerts (or poll_s: the safety net, or tick_s when busy)
    -> dispatch: outbox events -> deliveries (pure policy)       [store, dispatch]
    -> every tick_s: escalate unacknowledged alerts               [sending.escalate]
    -> every tick_s: remind who was told about them                [reminding, policy.remind]
    -> lease due deliveries and hand them to the pool             [sending.claim_due]
    -> record finished sends (sent / failed + backoff / dead)     [sending.record]

A database error drops both connections and reconnects with backoff; leased deliveries whose
outcome was not recorded are sent again when their lease expires (at least once).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx
import psycopg

from ingest.notifier import dispatch, policy, reminding, sending, store
from ingest.notifier.apprise_channel import AppriseChannel
from ingest.notifier.channels import ChannelRouter, Notifier
from ingest.notifier.config import NotifyConfig
from ingest.notifier.http_channels import JsonWebhookChannel, NtfyChannel
from ingest.notifier.policy import Scope
from ingest.notifier.sender import AckLinks, Sender
from ingest.notifier.webpush import WebPushChannel
from shelfsense import alert_links
from shelfsense.alert_links import b64url_decode
from shelfsense.clock import Clock, SystemClock
from shelfsense.db.migrate import upgrade

log = logging.getLogger(__name__)
BUSY_WAIT_S = 0.01  # how often finished sends are collected while some are in flight
ERROR_PAUSE_S = 2.0  # after an unexpected database error (a bug, a constraint): log, pause, go on


def run_notify(
    config: NotifyConfig,
    *,
    stop: threading.Event,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Run until ``stop`` is set. ``notifier`` replaces the real channels (tests, benchmarks);
    ``ready`` is set once LISTEN is in place."""
    clock = clock or SystemClock()
    upgrade(config.database_url)
    with _connect(config.database_url) as conn, _connect(config.database_url) as listen:
        listen.execute(f"listen {store.CHANNEL}")
        links = _links(conn, config)
        with httpx.Client(timeout=config.http_timeout_s) as http:
            sender = Sender(notifier or _router(conn, config, http), config.send_workers, links)
            if ready is not None:
                ready.set()
            log.info("notify running (ack links: %s)", config.ack_base() or "off")
            loop = _Loop(config, clock, conn, listen, sender)
            try:
                loop.run(stop)
            finally:
                sender.close()  # waits for the sends in flight
                loop.drain()


def _connect(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    return psycopg.connect(url, autocommit=True)


def _links(conn: store.Conn, config: NotifyConfig) -> AckLinks | None:
    base = config.ack_base()
    if base is None:
        log.warning("SHELFSENSE_PUBLIC_URL is not set: messages carry no acknowledgement link")
        return None
    key = b64url_decode(store.secret(conn, alert_links.ACK_KEY))
    return AckLinks(base, key, config.ack_link_ttl_s)


def _router(conn: store.Conn, config: NotifyConfig, http: httpx.Client) -> Notifier:
    vapid = store.secret(conn, alert_links.VAPID_KEY)
    ntfy, webhook = NtfyChannel(http), JsonWebhookChannel(http)
    push = WebPushChannel(vapid, config.vapid_subject, config.http_timeout_s)
    routes: dict[str, Notifier] = {"ntfy": ntfy, "ntfys": ntfy, "json": webhook}
    routes |= {"jsons": webhook, "webpush": push}
    return ChannelRouter(routes, fallback=AppriseChannel())


class _Loop:
    def __init__(
        self,
        config: NotifyConfig,
        clock: Clock,
        conn: store.Conn,
        listen: store.Conn,
        sender: Sender,
    ) -> None:
        self.config, self.clock, self.conn, self.listen = config, clock, conn, listen
        self.sender = sender
        self.retry = sending.RetryPolicy(
            config.retry_base_s, config.retry_cap_s, config.max_attempts
        )
        self.next_poll = self.next_tick = 0.0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.step()
            except psycopg.OperationalError as exc:
                log.error("database unavailable (%s); reconnecting", exc)
                self._reconnect(stop)
            except psycopg.Error:
                log.exception("database error; trying again in %.1f s", ERROR_PAUSE_S)
                stop.wait(ERROR_PAUSE_S)

    def step(self) -> None:
        woken = self._wait()
        self._record()
        now = time.monotonic()
        if woken or now >= self.next_poll:
            self.next_poll = now + self.config.poll_s
            self._dispatch()
        if woken or now >= self.next_tick:
            if now >= self.next_tick:
                self.next_tick = now + self.config.tick_s
                self._escalate()
                self._remind()
            self._send_due()

    def _wait(self) -> bool:
        timeout_s = BUSY_WAIT_S if self.sender.busy else self.config.tick_s
        return any(True for _ in self.listen.notifies(timeout=timeout_s, stop_after=1))

    def _dispatch(self) -> None:
        cfg = self.config
        while dispatch.dispatch(self.conn, self.clock.now_ms(), cfg.policy, cfg.batch_max):
            pass

    def _escalate(self) -> None:
        now_ms = self.clock.now_ms()
        found = sending.candidates(self.conn)
        if not found:
            return
        recipients = store.load_recipients(self.conn)
        for c in found:
            scope = Scope(c.site_id, c.alert_type, c.severity)
            reached_ms = int(c.reached_at.timestamp() * 1000)
            level = policy.next_escalation(
                scope, recipients, c.level, reached_ms, now_ms, self.config.policy
            )
            if level is not None and sending.escalate(self.conn, c, level, dispatch.utc(now_ms)):
                log.info("alert %d escalated to level %d", c.alert_id, level)
                self.next_poll = 0.0  # dispatch the escalated event on the next step

    def _remind(self) -> None:
        cfg = self.config.policy
        found = reminding.candidates(self.conn, cfg)
        if not found:
            return
        now_ms = self.clock.now_ms()
        recipients = {r.id: r for r in store.load_recipients(self.conn)}
        for c in found:
            recipient = recipients.get(c.recipient_id)
            planned = [] if recipient is None else policy.remind(c.unacked, recipient, now_ms, cfg)
            if planned and reminding.record(self.conn, c, planned):
                n = planned[0].repeat_n
                log.info("alert %d: reminder %d to recipient %d", c.alert_id, n, c.recipient_id)

    def _send_due(self) -> None:
        room = self.config.send_workers * 4 - self.sender.busy
        if room <= 0:
            return
        now_ms = self.clock.now_ms()
        due = sending.claim_due(
            self.conn, dispatch.utc(now_ms), min(room, self.config.batch_max), self.config.lease_s
        )
        if due:
            self.sender.submit(due, now_ms // 1000)

    def _record(self) -> None:
        for batch, result in self.sender.finished():
            now = dispatch.utc(self.clock.now_ms())
            sending.record(self.conn, batch, result, now, self.retry)

    def drain(self) -> None:
        """Record the sends that finished while stopping, so a restart does not send them again
        when their lease expires."""
        try:
            self._record()
        except psycopg.Error as exc:
            log.warning(
                "could not record the last sends (%s); they go again after their lease", exc
            )

    def _reconnect(self, stop: threading.Event) -> None:
        delay_s = 0.5
        while not stop.wait(delay_s):
            try:
                conn, listen = (
                    _connect(self.config.database_url),
                    _connect(self.config.database_url),
                )
                listen.execute(f"listen {store.CHANNEL}")
            except psycopg.OperationalError as exc:
                log.error("cannot reconnect (%s); retrying in %.1f s", exc, delay_s)
                delay_s = min(delay_s * 2, 10.0)
                continue
            for old in (self.conn, self.listen):
                old.close()
            self.conn, self.listen = conn, listen
            return
