"""Repeat until acknowledged, through the real notifier, database, API and a capture server:
reminders at the configured interval, at most repeat_max, once each even with two notifiers,
and none after the ack link, the API's acknowledge or a clear."""

from __future__ import annotations

from itertools import pairwise

import httpx
import psycopg
from integration.api_world import auth, served_api
from integration.notify_world import (
    SITE,
    clear_alert,
    deliveries,
    notifier_thread,
    open_alert,
    processed,
    recipient,
    rows,
)
from support.capture import CaptureServer, Hit
from support.services import wait_for

from shelfsense.clock import ManualClock, SystemClock
from shelfsense.domain import Role, Severity
from shelfsense.tokens import issue_token

MINUTE = {Severity.CRITICAL: 60.0}


def titles(hits: list[Hit], alert_id: int) -> list[str]:
    return [h.json()["title"] for h in hits if h.json()["alert_id"] == alert_id]


def reminders(url: str, alert_id: int) -> list[int]:
    found = rows(
        url,
        "select repeat_n from notify_reminders where alert_id = %s order by repeat_n",
        alert_id,
    )
    return [int(r[0]) for r in found]


def settle(url: str, *alert_ids: int) -> None:
    """Wait until every delivery of ``alert_ids`` is recorded as sent: its ``sent_at`` (read
    from the manual clock) is what the next reminder counts from."""
    wait_for(lambda: all(d["status"] == "sent" for a in alert_ids for d in deliveries(url, a)))


def test_an_unacknowledged_critical_alert_is_repeated_at_the_interval_up_to_the_max(
    database_url: str,
) -> None:
    every = {Severity.CRITICAL: 0.4, Severity.MAJOR: 0.4}
    with (
        CaptureServer() as capture,
        notifier_thread(
            database_url, public_url="https://ss.test", repeat_every_s=every, repeat_max=3
        ),
    ):
        recipient(database_url, "anna", [f"json://{capture.base}/hook"])
        alert = open_alert(database_url, severity="critical")
        major = open_alert(database_url, severity="major", sku="COLA-330")
        hits = [h for h in capture.wait_for(8) if h.json()["alert_id"] == alert]
        late = capture.wait_for(9, timeout_s=1.5)  # two more intervals: nothing else comes
    assert len(late) == 8
    assert [h.json()["title"] for h in hits] == [
        "[CRITICAL] Out of stock: TUNA-160",
        "[CRITICAL] Reminder 1: Out of stock: TUNA-160",
        "[CRITICAL] Reminder 2: Out of stock: TUNA-160",
        "[CRITICAL] Reminder 3: Out of stock: TUNA-160",
    ]
    gaps = [b.at_wall_s - a.at_wall_s for a, b in pairwise(hits)]
    assert all(0.3 <= gap < 3.0 for gap in gaps), gaps  # arrival times: send latency blurs
    sent_at = rows(database_url, "select min(sent_at) from deliveries where alert_id = %s", alert)
    released = rows(
        database_url,
        "select release_at from notify_reminders where alert_id = %s order by repeat_n",
        alert,
    )
    moments = [sent_at[0][0]] + [r[0] for r in released]
    steps = [(b - a).total_seconds() for a, b in pairwise(moments)]
    assert all(step >= 0.4 for step in steps), steps  # decided no earlier than the interval
    bodies = [h.json() for h in hits[1:]]
    assert all(b["kind"] == "reminder" and b["severity"] == "critical" for b in bodies)
    assert all(b["ack_url"].startswith(f"https://ss.test/api/v1/ack/{alert}-") for b in bodies)
    assert bodies[2]["message"].endswith("reminder 3 of 3, not acknowledged yet")
    assert [d["kind"] for d in deliveries(database_url, alert)] == ["alert"] + ["reminder"] * 3
    assert reminders(database_url, alert) == [1, 2, 3]
    assert len(titles(late, major)) == 4  # major repeats too when configured


def test_two_notifiers_send_each_reminder_once(database_url: str) -> None:
    every = {Severity.CRITICAL: 0.3}
    with (
        CaptureServer() as capture,
        notifier_thread(database_url, repeat_every_s=every, repeat_max=2),
        notifier_thread(database_url, repeat_every_s=every, repeat_max=2),
    ):
        recipient(database_url, "anna", [f"json://{capture.base}/a", f"json://{capture.base}/b"])
        alert = open_alert(database_url, severity="critical")
        capture.wait_for(6)
        hits = capture.wait_for(7, timeout_s=1.2)
    assert sorted((h.path, h.json()["title"][:22]) for h in hits) == [
        ("/a", "[CRITICAL] Out of stoc"),
        ("/a", "[CRITICAL] Reminder 1:"),
        ("/a", "[CRITICAL] Reminder 2:"),
        ("/b", "[CRITICAL] Out of stoc"),
        ("/b", "[CRITICAL] Reminder 1:"),
        ("/b", "[CRITICAL] Reminder 2:"),
    ]
    assert reminders(database_url, alert) == [1, 2]


def test_the_ack_link_or_the_api_stops_reminders(database_url: str) -> None:
    clock = ManualClock(SystemClock().now_ms())  # links expire by the API's real clock
    with psycopg.connect(database_url) as conn:
        _, token = issue_token(conn, role=Role.OPERATOR, name="ops")
        conn.execute(  # the API acknowledges alerts of known sites only
            "insert into sites (site_id, name) values (%s, %s) on conflict do nothing", (SITE, SITE)
        )
    with (
        served_api(database_url) as api,
        CaptureServer() as capture,
        notifier_thread(database_url, clock=clock, public_url=api, repeat_every_s=MINUTE),
    ):
        recipient(database_url, "anna", [f"json://{capture.base}/hook"])
        by_link = open_alert(database_url, severity="critical", sku="TUNA-160")
        by_api = open_alert(database_url, severity="critical", sku="MILK-1L")
        ignored = open_alert(database_url, severity="critical", sku="COLA-330")
        capture.wait_for(3)
        settle(database_url, by_link, by_api, ignored)
        clock.advance(59_999)
        assert len(capture.wait_for(4, timeout_s=0.3)) == 3  # nothing before the interval
        clock.advance(1)
        hits = capture.wait_for(6)
        settle(database_url, by_link, by_api, ignored)
        (link,) = [h.json()["ack_url"] for h in hits[3:] if h.json()["alert_id"] == by_link]
        assert httpx.post(link).status_code == 200  # the reminder's own link
        path = f"{api}/api/v1/sites/{SITE}/alerts/{by_api}/ack"
        assert httpx.post(path, headers=auth(token)).status_code == 200
        clock.advance(60_000)
        capture.wait_for(7)
        settle(database_url, ignored)
    assert titles(capture.ok_hits(), ignored)[-1] == "[CRITICAL] Reminder 2: Out of stock: COLA-330"
    for acked in (by_link, by_api):
        assert reminders(database_url, acked) == [1]
        assert [d["kind"] for d in deliveries(database_url, acked)] == ["alert", "reminder"]
    assert len(capture.ok_hits()) == 7


def test_a_cleared_alert_is_not_reminded_again(database_url: str) -> None:
    clock = ManualClock()
    with (
        CaptureServer() as capture,
        notifier_thread(database_url, clock=clock, repeat_every_s=MINUTE),
    ):
        recipient(database_url, "anna", [f"json://{capture.base}/hook"])
        cleared = open_alert(database_url, severity="critical", sku="TUNA-160")
        canary = open_alert(database_url, severity="critical", sku="CANARY")
        capture.wait_for(2)
        settle(database_url, cleared, canary)
        clock.advance(60_000)
        capture.wait_for(4)
        settle(database_url, cleared, canary)
        event = clear_alert(database_url, cleared)
        wait_for(lambda: processed(database_url, event))
        settle(database_url, cleared)  # the resolved message
        clock.advance(60_000)
        capture.wait_for(6)
        settle(database_url, canary)
    assert titles(capture.ok_hits(), cleared) == [
        "[CRITICAL] Out of stock: TUNA-160",
        "[CRITICAL] Reminder 1: Out of stock: TUNA-160",
        "Resolved: Out of stock: TUNA-160",
    ]
    assert titles(capture.ok_hits(), canary)[-1] == "[CRITICAL] Reminder 2: Out of stock: CANARY"
    assert reminders(database_url, cleared) == [1]
