"""Signed acknowledgement links, channel masking and message grouping."""

from __future__ import annotations

import pytest

from ingest.notifier.channels import MemoryNotifier, Message, Outcome, Target
from ingest.notifier.model import DeliveryKind
from ingest.notifier.sender import group
from ingest.notifier.sending import Claimed
from shelfsense.alert_links import (
    AckClaim,
    AckLinkError,
    mask_channel,
    new_secret,
    sign_ack,
    vapid_public_key,
    verify_ack,
)
from shelfsense.domain import Severity

KEY = b"k" * 32


def test_a_signed_link_verifies_until_it_expires() -> None:
    token = sign_ack(KEY, AckClaim(42, 7, 1_000))
    assert verify_ack(KEY, token, now_s=999) == AckClaim(42, 7, 1_000)
    with pytest.raises(AckLinkError, match="expired"):
        verify_ack(KEY, token, now_s=1_000)


def test_a_tampered_or_foreign_link_is_refused() -> None:
    token = sign_ack(KEY, AckClaim(42, 7, 1_000))
    with pytest.raises(AckLinkError, match="signature"):
        verify_ack(KEY, token.replace("42-", "43-", 1), now_s=0)
    with pytest.raises(AckLinkError, match="signature"):
        verify_ack(b"x" * 32, token, now_s=0)
    with pytest.raises(AckLinkError, match="not an acknowledgement link"):
        verify_ack(KEY, "42-7-1000", now_s=0)


def test_vapid_key_is_a_p256_point() -> None:
    public = vapid_public_key(new_secret("vapid_private_key"))
    assert len(public) == 87  # 65 bytes, base64url without padding


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ntfys://user:pw@ntfy.sh/secret-topic", "ntfys://ntfy.sh/***"),
        ("json://127.0.0.1:8080/hook?token=abc", "json://127.0.0.1:8080/***"),
        ("tgram://123456:ABCDEF/987654", "tgram://***/***"),
        ("pover://userkey@apptoken", "pover://***"),
        ("webpush:12", "webpush:12"),
    ],
)
def test_masking_hides_credentials_and_topics(url: str, shown: str) -> None:
    assert mask_channel(url) == shown


def claimed(i: int, recipient: int, target: str, *, digest: bool) -> Claimed:
    return Claimed(
        i, 100 + i, recipient, DeliveryKind.ALERT, Severity.INFO, f"t{i}", "b", target, digest, 0
    )


def test_digests_group_per_recipient_and_target() -> None:
    rows = [
        claimed(1, 1, "ntfy://a", digest=True),
        claimed(2, 1, "ntfy://a", digest=True),
        claimed(3, 2, "ntfy://a", digest=True),
        claimed(4, 1, "ntfy://a", digest=False),
    ]
    assert sorted([c.id for c in batch] for batch in group(rows)) == [[1, 2], [3], [4]]


def test_the_fake_notifier_fails_on_demand() -> None:
    fake = MemoryNotifier()
    fake.fail_next(1)
    msg = Message("t", "b", Severity.INFO, DeliveryKind.ALERT, 1)
    assert fake.send(Target("ntfy://x/y"), msg).outcome is Outcome.RETRY
    assert fake.send(Target("ntfy://x/y"), msg).outcome is Outcome.SENT
    assert [s.message for s in fake.sent] == [msg]
