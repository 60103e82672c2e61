"""The pure delivery policy: who is told what, when (time is an argument)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time

from ingest.notifier.model import (
    AlertEvent,
    AlertInfo,
    DeliveryKind,
    EventKind,
    Planned,
    QuietHours,
    Recipient,
    Told,
)
from ingest.notifier.policy import PolicyConfig, Scope, first_level, next_escalation, plan
from shelfsense.domain import Severity

NOON = int(datetime.fromisoformat("2025-11-21T12:00:00+00:00").timestamp() * 1000)
NIGHT = int(datetime.fromisoformat("2025-11-21T23:00:00+00:00").timestamp() * 1000)
CFG = PolicyConfig(digest_every_s=600.0, escalation_delays_s=(120.0, 600.0))

ANNA = Recipient(1, "anna", targets=("ntfy://n.local/anna",), min_severity=Severity.WARNING)
BORA = Recipient(2, "bora", targets=("json://h.local/hook", "webpush:5"))
MGR = Recipient(3, "mgr", role="manager", escalation_level=2, targets=("ntfy://n.local/mgr",))
OTHER_SITE = Recipient(4, "far", site_id="elsewhere", targets=("ntfy://n.local/far",))
EVERYONE = (ANNA, BORA, MGR, OTHER_SITE)


def event(kind: EventKind, severity: Severity = Severity.MAJOR, **payload: object) -> AlertEvent:
    alert = AlertInfo(
        "out_of_stock", "location:a/1|sku:TUNA", "active", "a/1", "TUNA", None, {"qty": 0}
    )
    return AlertEvent(10, "store-1", 77, kind, severity, NOON, alert, payload)


def who(planned: list[Planned]) -> list[tuple[int, str, DeliveryKind]]:
    return sorted((p.recipient_id, p.target, p.kind) for p in planned)


def test_an_opening_goes_to_every_channel_of_the_first_level_only() -> None:
    planned = plan(event(EventKind.OPENED), EVERYONE, {}, 1, NOON, CFG)
    assert who(planned) == [
        (1, "ntfy://n.local/anna", DeliveryKind.ALERT),
        (2, "json://h.local/hook", DeliveryKind.ALERT),
        (2, "webpush:5", DeliveryKind.ALERT),
    ]
    assert all(p.release_ms == NOON and not p.held for p in planned)
    assert planned[0].title == "[MAJOR] Out of stock: TUNA"


def test_an_opening_is_not_repeated_to_someone_already_told() -> None:
    told = {1: Told(Severity.MAJOR)}
    assert [
        p.recipient_id for p in plan(event(EventKind.OPENED), EVERYONE, told, 1, NOON, CFG)
    ] == [
        2,
        2,
    ]


def test_min_severity_and_alert_types_filter() -> None:
    picky = replace(ANNA, min_severity=Severity.CRITICAL)
    typed = replace(BORA, alert_types=frozenset({"temperature"}))
    assert plan(event(EventKind.OPENED), (picky, typed), {}, 1, NOON, CFG) == []


def test_roles_in_the_payload_narrow_the_recipients() -> None:
    boss = replace(MGR, escalation_level=1)
    planned = plan(event(EventKind.OPENED, roles=["manager"]), (ANNA, boss), {}, 1, NOON, CFG)
    assert who(planned) == [(3, "ntfy://n.local/mgr", DeliveryKind.ALERT)]


def test_no_first_level_recipient_means_the_lowest_level_with_one() -> None:
    assert first_level((MGR,), Scope.of(event(EventKind.OPENED))) == 2
    assert who(plan(event(EventKind.OPENED), (MGR,), {}, 1, NOON, CFG)) == [
        (3, "ntfy://n.local/mgr", DeliveryKind.ALERT)
    ]


def test_an_update_at_the_same_severity_says_nothing() -> None:
    told = {1: Told(Severity.MAJOR), 2: Told(Severity.MAJOR)}
    assert plan(event(EventKind.UPDATED), EVERYONE, told, 1, NOON, CFG) == []
    assert plan(event(EventKind.UPDATED, Severity.WARNING), EVERYONE, told, 1, NOON, CFG) == []


def test_a_severity_rise_is_told_to_the_levels_reached_so_far() -> None:
    told = {1: Told(Severity.WARNING), 2: Told(Severity.WARNING)}
    planned = plan(event(EventKind.UPDATED, Severity.CRITICAL), EVERYONE, told, 1, NOON, CFG)
    assert {(p.recipient_id, p.kind) for p in planned} == {
        (1, DeliveryKind.UPDATE),
        (2, DeliveryKind.UPDATE),
    }
    assert planned[0].title.startswith("[CRITICAL] Worse: ")
    reached_two = plan(event(EventKind.UPDATED, Severity.CRITICAL), EVERYONE, told, 2, NOON, CFG)
    assert (3, DeliveryKind.ALERT) in {(p.recipient_id, p.kind) for p in reached_two}


def test_a_rise_past_min_severity_is_a_first_message() -> None:
    picky = replace(ANNA, min_severity=Severity.CRITICAL)
    planned = plan(event(EventKind.UPDATED, Severity.CRITICAL), (picky,), {}, 1, NOON, CFG)
    assert who(planned) == [(1, "ntfy://n.local/anna", DeliveryKind.ALERT)]


def test_resolved_goes_only_to_those_who_were_told() -> None:
    told = {2: Told(Severity.MAJOR)}
    planned = plan(event(EventKind.CLEARED), EVERYONE, told, 1, NOON, CFG)
    assert who(planned) == [
        (2, "json://h.local/hook", DeliveryKind.RESOLVED),
        (2, "webpush:5", DeliveryKind.RESOLVED),
    ]
    assert planned[0].title == "Resolved: Out of stock: TUNA"


def test_acknowledged_sends_nothing() -> None:
    assert (
        plan(event(EventKind.ACKNOWLEDGED), EVERYONE, {1: Told(Severity.MAJOR)}, 1, NOON, CFG) == []
    )


def test_escalated_goes_to_the_named_level() -> None:
    planned = plan(
        event(EventKind.ESCALATED, level=2), EVERYONE, {1: Told(Severity.MAJOR)}, 2, NOON, CFG
    )
    assert who(planned) == [(3, "ntfy://n.local/mgr", DeliveryKind.ESCALATION)]
    assert "level 2" in planned[0].body


def test_quiet_hours_hold_non_critical_until_they_end() -> None:
    sleepy = replace(ANNA, quiet=QuietHours(time(22, 0), time(7, 0)), timezone="UTC")
    (held,) = plan(event(EventKind.OPENED), (sleepy,), {}, 1, NIGHT, CFG)
    morning = int(datetime.fromisoformat("2025-11-22T07:00:00+00:00").timestamp() * 1000)
    assert held.held and held.release_ms == morning
    (critical,) = plan(event(EventKind.OPENED, Severity.CRITICAL), (sleepy,), {}, 1, NIGHT, CFG)
    assert not critical.held and critical.release_ms == NIGHT
    (daytime,) = plan(event(EventKind.OPENED), (sleepy,), {}, 1, NOON, CFG)
    assert not daytime.held


def test_low_severity_waits_for_the_digest() -> None:
    digesting = replace(ANNA, min_severity=Severity.INFO, digest_severity=Severity.WARNING)
    (info,) = plan(event(EventKind.OPENED, Severity.INFO), (digesting,), {}, 1, NOON + 1, CFG)
    assert info.digest and info.held and info.release_ms == NOON + 600_000
    (major,) = plan(event(EventKind.OPENED, Severity.MAJOR), (digesting,), {}, 1, NOON + 1, CFG)
    assert not major.digest and major.release_ms == NOON + 1


def test_a_digest_due_in_quiet_hours_waits_for_their_end() -> None:
    both = replace(
        ANNA,
        min_severity=Severity.INFO,
        digest_severity=Severity.INFO,
        quiet=QuietHours(time(22, 0), time(7, 0)),
    )
    (info,) = plan(event(EventKind.OPENED, Severity.INFO), (both,), {}, 1, NIGHT, CFG)
    morning = int(datetime.fromisoformat("2025-11-22T07:00:00+00:00").timestamp() * 1000)
    assert info.digest and info.release_ms == morning


def test_escalation_is_due_after_the_levels_delay_and_only_to_a_higher_level() -> None:
    scope = Scope.of(event(EventKind.OPENED))
    assert next_escalation(scope, EVERYONE, 1, NOON, NOON + 119_999, CFG) is None
    assert next_escalation(scope, EVERYONE, 1, NOON, NOON + 120_000, CFG) == 2
    assert next_escalation(scope, EVERYONE, 2, NOON, NOON + 10**9, CFG) is None  # no level 3
    below = Scope("store-1", "out_of_stock", Severity.INFO)
    assert next_escalation(below, EVERYONE, 1, NOON, NOON + 10**9, CFG) is None  # mgr: warning+


def test_other_sites_recipients_are_never_told() -> None:
    planned = plan(event(EventKind.OPENED), (OTHER_SITE,), {}, 1, NOON, CFG)
    assert planned == []
