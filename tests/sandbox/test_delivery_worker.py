"""The delivery worker in-process, with configurations the control API refuses: whatever
goes wrong in an attempt must end as a recorded, retried failure, never a busy loop."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from stripe_sandbox.engine import PAGE_CTX, Config
from stripe_sandbox.server import Sandbox
from stripe_sandbox.store import Attempt
from stripe_sandbox.testing import WebhookReceiver


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


def _deliver_one(config: Config) -> tuple[list[Attempt], str, float]:
    """Emit one event with ``config``; wait until the worker is idle (5 s at most)."""
    sandbox = Sandbox(config)
    sandbox.start_background()
    try:
        started = time.process_time()
        event = sandbox.engine.emit("coupon.created", {"id": "co_x", "object": "coupon"}, PAGE_CTX)
        deadline = time.monotonic() + 5
        while not sandbox.deliverer.idle():
            assert time.monotonic() < deadline, "the delivery never settled (busy loop?)"
            time.sleep(0.02)
        used = time.process_time() - started
        delivery = sandbox.store.delivery(event["id"])
        assert delivery is not None
        return sandbox.store.attempts(event["id"]), str(delivery["state"]), used
    finally:
        sandbox.stop()
        sandbox.store.close()


def _config(receiver: WebhookReceiver, **overrides: object) -> Config:
    config = Config(
        secret_key="sk_test_worker",
        webhook_url=receiver.url,
        webhook_secret="whsec_worker",
        public_url="http://127.0.0.1:1",
        retry_schedule=[0.05, 0.05],
        delivery_timeout=2.0,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def test_bad_timeout_is_a_failed_attempt(receiver: WebhookReceiver) -> None:
    """``urlopen(timeout=-1)`` raises ValueError: it is recorded as a failed attempt, so the
    delivery is not re-posted at once, forever."""
    attempts, state, used = _deliver_one(_config(receiver, delivery_timeout=-1.0))
    assert len(attempts) == 3
    assert all(not a.ok and a.status is None for a in attempts)
    assert "ValueError" in str(attempts[0].error)
    assert state == "failed"
    assert used < 1.0


def test_bad_port_is_a_failed_attempt(receiver: WebhookReceiver) -> None:
    attempts, state, _used = _deliver_one(
        _config(receiver, webhook_url="http://127.0.0.1:notaport/")
    )
    assert len(attempts) == 3
    assert "InvalidURL" in str(attempts[0].error)
    assert state == "failed"


def test_crash_outside_the_transport_backs_off(receiver: WebhookReceiver) -> None:
    """Any other crash in an attempt (here: a secret that cannot be encoded, so signing
    fails) is recorded as a failed attempt and retried on the schedule, not at once."""
    attempts, state, used = _deliver_one(_config(receiver, webhook_secret="\ud800"))
    assert len(attempts) == 3
    assert "UnicodeEncodeError" in str(attempts[0].error)
    assert attempts[1].at - attempts[0].at >= 0.04  # the retry schedule applied
    assert state == "failed"
    assert receiver.deliveries == []
    assert used < 1.0
