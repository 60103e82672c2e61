"""Alert life cycle: open once, update in place, stay acknowledged, clear, re-open as new."""

from __future__ import annotations

from ingest.alert_lifecycle import Clear, Open, OpenAlert, Refresh, Update, event_of, plan
from ingest.alert_rules import RULES_BY_TYPE, Desired
from shelfsense.alerting import AlertType
from shelfsense.domain import AlertStatus, Severity

T0 = 1_000_000
SUBJ = "location:a|sku:b"
SIG = {r.type: r.significant for r in RULES_BY_TYPE.values()}


def _want(qty: int = 3, severity: Severity = Severity.WARNING, **extra: object) -> Desired:
    return Desired(AlertType.LOW_STOCK, SUBJ, severity, T0, {"qty": qty, **extra}, "a", "b")


def _open(status: AlertStatus = AlertStatus.ACTIVE, qty: int = 3) -> OpenAlert:
    return OpenAlert(1, AlertType.LOW_STOCK, SUBJ, Severity.WARNING, status, T0, {"qty": qty})


def _plan(current: list[OpenAlert], wanted: list[Desired], now_ms: int = T0 + 5) -> list[object]:
    return list(
        plan(
            current,
            {w.key: w for w in wanted},
            scope=AlertType,
            significant=SIG,
            now_ms=lambda _: now_ms,
        )
    )


def test_a_new_condition_opens_one_alert() -> None:
    want = _want()
    assert _plan([], [want]) == [Open(want, T0 + 5)]


def test_the_same_condition_again_changes_nothing() -> None:
    assert _plan([_open()], [_want()]) == []


def test_a_significant_change_updates_in_place() -> None:
    alert, want = _open(), _want(qty=2)
    assert _plan([alert], [want]) == [Update(alert, want, T0 + 5)]
    severe = _want(severity=Severity.MAJOR)
    assert _plan([alert], [severe]) == [Update(alert, severe, T0 + 5)]


def test_other_detail_changes_refresh_silently() -> None:
    alert, want = _open(), _want(stale=True)
    (change,) = _plan([alert], [want])
    assert change == Refresh(alert, want, T0 + 5)
    assert event_of(change) is None


def test_acknowledged_stays_acknowledged_while_the_condition_holds() -> None:
    """Ingest never writes status on update: the changes carry no status at all."""
    alert = _open(AlertStatus.ACKNOWLEDGED)
    assert _plan([alert], [_want()]) == []
    assert [type(c) for c in _plan([alert], [_want(qty=1)])] == [Update]


def test_gone_condition_clears_never_before_it_opened() -> None:
    alert = _open()
    assert _plan([alert], []) == [Clear(alert, T0 + 5)]
    assert _plan([alert], [], now_ms=T0 - 50) == [Clear(alert, T0)]


def test_types_out_of_scope_are_never_touched() -> None:
    foreign = OpenAlert(2, AlertType.MISPLACED, "x", Severity.INFO, AlertStatus.ACTIVE, T0, {})
    changes = plan([foreign], {}, scope=[AlertType.LOW_STOCK], significant=SIG, now_ms=lambda _: T0)
    assert changes == []
