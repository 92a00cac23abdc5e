"""Signed, asynchronous, at-least-once webhook delivery, and the control API around it."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from stripe_sandbox.control_client import Json, SandboxControl, SandboxControlError
from stripe_sandbox.testing import ROOT, WebhookReceiver
from stripe_sandbox.webhooks import sign

from .conftest import WEBHOOK_SECRET, SchemaChecker
from .helpers import create_session


def _paid_session(client: Any, sandbox: SandboxControl) -> str:
    s = create_session(client)
    assert sandbox.pay(s.id)["outcome"] == "succeeded"
    return str(s.id)


def test_signature_verifies_with_the_sdk(
    client: Any,
    sandbox: SandboxControl,
    webhook_receiver: WebhookReceiver,
    schemas: SchemaChecker,
) -> None:
    cs_id = _paid_session(client, sandbox)
    delivery = webhook_receiver.wait_for("checkout.session.completed")[0]
    event = stripe.Webhook.construct_event(delivery.body, delivery.signature, WEBHOOK_SECRET)
    assert event.type == "checkout.session.completed"
    assert event.data.object.id == cs_id
    assert event.data.object.payment_status == "paid"
    raw = json.loads(delivery.body)
    schemas.check("event", raw)
    schemas.check("checkout.session", raw["data"]["object"])
    assert raw["id"].startswith("evt_")
    assert raw["object"] == "event"
    assert raw["livemode"] is False
    assert raw["pending_webhooks"] == 1
    assert raw["api_version"] == stripe.api_version
    assert set(raw["request"]) == {"id", "idempotency_key"}
    assert delivery.headers["content-type"].startswith("application/json")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, "whsec_wrong")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body + b" ", delivery.signature, WEBHOOK_SECRET)
    # the event is stored: GET /v1/events/{id} returns the same object, delivered
    sandbox.wait_idle()
    stored = client.v1.events.retrieve(raw["id"])
    assert stored.pending_webhooks == 0
    assert stored.data.object.id == cs_id


def test_old_timestamp_is_rejected(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    sandbox.configure(sign_time_offset=-301)
    _paid_session(client, sandbox)
    delivery = webhook_receiver.wait_for("checkout.session.completed")[0]
    t = int(delivery.signature.split(",")[0].removeprefix("t="))
    assert time.time() - t > 300
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.Webhook.construct_event(delivery.body, delivery.signature, WEBHOOK_SECRET)
    # ... while the same bytes, freshly signed, verify
    fresh = sign(delivery.body, WEBHOOK_SECRET, int(time.time()))
    stripe.Webhook.construct_event(delivery.body, fresh, WEBHOOK_SECRET)


def test_sign_matches_sdk_generator() -> None:
    payload = b'{"id": "evt_1"}'
    ours = sign(payload, "whsec_x", 1700000000)
    theirs = stripe.WebhookSignature._compute_signature("1700000000." + payload.decode(), "whsec_x")
    assert ours == f"t=1700000000,v1={theirs}"


def test_card_payment_event_sequence(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    _paid_session(client, sandbox)
    assert sandbox.wait_idle()
    types = sorted(e["type"] for e in webhook_receiver.events())
    assert types == ["checkout.session.completed", "payment_intent.succeeded"]
    pi_event = webhook_receiver.events("payment_intent.succeeded")[0]
    assert pi_event["data"]["object"]["status"] == "succeeded"
    assert pi_event["data"]["object"]["metadata"] == {"checkout_id": "42"}


def test_retries_until_delivered(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    sandbox.pause_webhooks()
    s = create_session(client)
    sandbox.expire(s.id)
    sandbox.fail_next(2)
    sandbox.resume_webhooks()
    webhook_receiver.wait_for("checkout.session.expired")
    assert sandbox.wait_idle()
    [record] = sandbox.events("checkout.session.expired")
    attempts = record["attempts"]
    assert [a["ok"] for a in attempts] == [False, False, True]
    assert [a["status"] for a in attempts] == [500, 500, 200]
    assert record["delivery"]["state"] == "delivered"
    assert record["delivery"]["attempts"] == 3
    assert len(webhook_receiver.events("checkout.session.expired")) == 1
    # the gaps grow (schedule 0.05, 0.1, ... in tests)
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(attempts)]
    assert gaps[1] > gaps[0] * 1.2


def test_real_endpoint_failures_and_timeouts_are_retried(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    sandbox.fail_next(1, mode="timeout")  # the first answer is lost: the receiver sees it twice
    webhook_receiver.fail_first = 2  # and the endpoint itself answers 500 to the first two
    s = create_session(client)
    sandbox.expire(s.id)
    webhook_receiver.wait_for("checkout.session.expired", count=3)
    assert sandbox.wait_idle()
    attempts = sandbox.events("checkout.session.expired")[0]["attempts"]
    assert len(attempts) == 3
    assert attempts[0]["error"].startswith("simulated timeout")
    assert attempts[1]["status"] == 500
    assert attempts[2]["ok"] is True
    ids = {e["id"] for e in webhook_receiver.events("checkout.session.expired")}
    assert len(ids) == 1  # at least once: the same event id, three times


def test_gives_up_after_the_schedule(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    sandbox.configure(retry_schedule=[0.01, 0.01])
    webhook_receiver.status = 503
    s = create_session(client)
    sandbox.expire(s.id)
    assert sandbox.wait_idle()
    record = sandbox.events("checkout.session.expired")[0]
    assert record["delivery"]["state"] == "failed"
    assert len(record["attempts"]) == 3
    assert client.v1.events.retrieve(record["event"]["id"]).pending_webhooks == 1


def test_pause_lets_the_browser_return_first(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    sandbox.pause_webhooks()
    _paid_session(client, sandbox)
    time.sleep(0.3)
    assert webhook_receiver.events() == []
    assert all(r["delivery"]["state"] == "pending" for r in sandbox.events())
    sandbox.resume_webhooks()
    webhook_receiver.wait_for("checkout.session.completed")


def test_reverse_order_delivery(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    sandbox.pause_webhooks()
    _paid_session(client, sandbox)
    created_order = [r["event"]["type"] for r in sandbox.events()]
    assert created_order == ["payment_intent.succeeded", "checkout.session.completed"]
    results = sandbox.flush_webhooks(order="reverse")
    assert [r["ok"] for r in results] == [True, True]
    assert [e["type"] for e in webhook_receiver.events()] == created_order[::-1]
    sandbox.resume_webhooks()
    assert sandbox.wait_idle()
    assert len(webhook_receiver.events()) == 2  # flushed events are not sent again


def test_concurrent_redelivery(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.delay = 0.2
    _paid_session(client, sandbox)
    evt = sandbox.wait_for_event("checkout.session.completed")
    assert sandbox.wait_idle()
    webhook_receiver.clear()
    webhook_receiver.delay = 0.2
    started = time.monotonic()
    results = sandbox.redeliver(evt["id"], times=5, concurrent=True)
    elapsed = time.monotonic() - started
    assert len(results) == 5
    assert all(r["ok"] for r in results)
    assert elapsed < 0.2 * 5 * 0.8  # they overlapped
    got = webhook_receiver.events("checkout.session.completed")
    assert len(got) == 5
    assert {e["id"] for e in got} == {evt["id"]}


def test_session_expires_by_itself(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    s = create_session(client, expires_at=int(time.time()) + 1800)
    sandbox.set_clock(advance=1801)
    delivery = webhook_receiver.wait_for("checkout.session.expired")[0]
    assert delivery.event["data"]["object"]["id"] == s.id
    assert delivery.event["data"]["object"]["status"] == "expired"
    assert client.v1.checkout.sessions.retrieve(s.id).status == "expired"
    outcome = sandbox.pay(s.id)
    assert outcome["outcome"] == "not_open"


def test_background_expiry_without_control_call(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    s = create_session(client, expires_at=int(time.time()) + 1800)
    sandbox._call("POST", "/clock", {"offset": 1800})  # the sweeper must notice on its own
    webhook_receiver.wait_for("checkout.session.expired", timeout=5)
    assert client.v1.checkout.sessions.retrieve(s.id).status == "expired"


def test_declined_card_emits_payment_failed(
    client: Any,
    sandbox: SandboxControl,
    webhook_receiver: WebhookReceiver,
    schemas: SchemaChecker,
) -> None:
    s = create_session(client)
    out = sandbox.pay(s.id, "4000000000009995")
    assert out["outcome"] == "declined"
    assert out["decline_code"] == "insufficient_funds"
    delivery = webhook_receiver.wait_for("payment_intent.payment_failed")[0]
    pi = delivery.event["data"]["object"]
    schemas.check("payment_intent", pi)
    assert pi["status"] == "requires_payment_method"
    assert pi["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert pi["last_payment_error"]["type"] == "card_error"
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"
    # the customer retries on the same page with a good card: same PaymentIntent
    assert sandbox.pay(s.id)["outcome"] == "succeeded"
    done = client.v1.checkout.sessions.retrieve(s.id)
    assert done.payment_intent == pi["id"]
    assert done.payment_status == "paid"


def test_three_d_secure_via_control(client: Any, sandbox: SandboxControl) -> None:
    s = create_session(client)
    assert sandbox.pay(s.id, "4000002500003155")["outcome"] == "requires_action"
    pi = client.v1.payment_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(s.id).payment_intent)
    )
    assert pi.status == "requires_action"
    assert pi.next_action.type == "redirect_to_url"
    failed = sandbox.authenticate(s.id, complete=False)
    assert failed["outcome"] == "declined"
    assert client.v1.payment_intents.retrieve(pi.id).last_payment_error.code == (
        "payment_intent_authentication_failure"
    )
    assert sandbox.pay(s.id, "4000002500003155")["outcome"] == "requires_action"
    ok = sandbox.authenticate(s.id, complete=True)
    assert ok["outcome"] == "succeeded"
    assert ok["redirect_url"] == f"http://shop.test/checkout/success/?session_id={s.id}"


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_async_bank_debit(
    client: Any,
    sandbox: SandboxControl,
    webhook_receiver: WebhookReceiver,
    schemas: SchemaChecker,
    outcome: str,
) -> None:
    s = create_session(client)
    assert sandbox.pay(s.id, method="bank_debit")["outcome"] == "processing"
    completed = webhook_receiver.wait_for("checkout.session.completed")[0].event
    assert completed["data"]["object"]["payment_status"] == "unpaid"
    assert completed["data"]["object"]["status"] == "complete"
    got = client.v1.checkout.sessions.retrieve(s.id, params={"expand": ["payment_intent"]})
    assert got.payment_intent.status == "processing"
    schemas.check("checkout.session", got)
    sandbox.settle(s.id, outcome)
    kind = f"checkout.session.async_payment_{outcome}"
    evt = webhook_receiver.wait_for(kind)[0].event
    schemas.check("checkout.session", evt["data"]["object"])
    after = client.v1.checkout.sessions.retrieve(s.id, params={"expand": ["payment_intent"]})
    if outcome == "succeeded":
        assert evt["data"]["object"]["payment_status"] == "paid"
        assert after.payment_intent.status == "succeeded"
        webhook_receiver.wait_for("payment_intent.succeeded")
    else:
        assert evt["data"]["object"]["payment_status"] == "unpaid"
        assert after.payment_intent.status == "requires_payment_method"
        webhook_receiver.wait_for("payment_intent.payment_failed")
    with pytest.raises(Exception, match="no delayed payment"):
        sandbox.settle(s.id, outcome)


def test_webhook_url_can_change_at_runtime(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    with WebhookReceiver() as other:
        sandbox.configure(webhook_url=other.url)
        _paid_session(client, sandbox)
        other.wait_for("checkout.session.completed")
        assert sandbox.wait_idle()
    assert webhook_receiver.events() == []
    sandbox.reset(config=True)
    assert sandbox.config()["webhook_url"] == webhook_receiver.url


def test_no_double_payment_under_races(client: Any, sandbox: SandboxControl) -> None:
    import concurrent.futures

    s = create_session(client)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: sandbox.pay(s.id)["outcome"], range(8)))
    assert outcomes.count("succeeded") == 1
    assert outcomes.count("not_open") == 7
    assert len(sandbox.events("checkout.session.completed")) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_a_failed_delivery(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver, status: int
) -> None:
    """Stripe does not follow redirects: a 3xx is a failure, recorded with its status and
    retried, never followed as a GET that the merchant page could answer 200."""
    sandbox.configure(retry_schedule=[0.01, 0.01])
    webhook_receiver.status = status
    webhook_receiver.redirect_to = f"{webhook_receiver.base_url}/moved/"
    s = create_session(client)
    sandbox.expire(s.id)
    assert sandbox.wait_idle()
    record = sandbox.events("checkout.session.expired")[0]
    assert [a["status"] for a in record["attempts"]] == [status] * 3
    assert not any(a["ok"] for a in record["attempts"])
    assert "redirects are not followed" in record["attempts"][0]["error"]
    assert record["delivery"]["state"] == "failed"
    assert len(webhook_receiver.events("checkout.session.expired")) == 3  # retried
    assert client.v1.events.retrieve(record["event"]["id"]).pending_webhooks == 1


def test_no_busy_loop_while_a_delivery_is_in_flight(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    """While a slow endpoint holds a delivery, the scheduler must sleep, not spin: the
    sandbox process may use only a little CPU over one second (the busy loop took ~100%).

    The delivery timeout (5 s) is well above the receiver's delay (2 s): with both at 2 s
    the attempt raced its own timeout, was retried, and the test took 2-8 s, sometimes
    longer than ``wait_idle``'s 10 s."""
    sandbox.configure(delivery_timeout=5)
    webhook_receiver.delay = 2.0
    s = create_session(client)
    sandbox.expire(s.id)
    webhook_receiver.wait_for("checkout.session.expired")  # posted; the answer takes 2 s
    before = sandbox.stats()
    assert before["inflight"] == 1
    time.sleep(1.0)
    after = sandbox.stats()
    assert after["inflight"] == 1  # still in flight for the whole window
    used = after["process_time"] - before["process_time"]
    assert used < 0.2, f"sandbox used {used:.2f} s of CPU in 1 s while waiting"
    assert sandbox.wait_idle()
    attempts = sandbox.events("checkout.session.expired")[0]["attempts"]
    assert [a["ok"] for a in attempts] == [True]  # answered in time: no timeout, no retry


@contextlib.contextmanager
def _not_http_listener() -> Iterator[str]:
    """A TCP port that answers like Redis does to an HTTP request: not HTTP at all."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.settimeout(1)
                conn.recv(65536)
                conn.sendall(b"-ERR unknown command\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/webhooks/stripe/"
    finally:
        stop.set()
        server.close()
        thread.join(timeout=2)


def test_endpoint_that_does_not_speak_http_is_a_failed_attempt(
    client: Any, sandbox: SandboxControl
) -> None:
    """A non-HTTP answer (BadStatusLine) is a failed attempt like a 500: recorded with an
    error, retried on schedule, then ``failed``; it never escapes ``attempt()`` and leaves the
    delivery due, re-posted at once in a busy loop."""
    with _not_http_listener() as url:
        sandbox.configure(webhook_url=url, retry_schedule=[0.05, 0.05])
        s = create_session(client)
        before = sandbox.stats()["process_time"]
        sandbox.expire(s.id)
        assert sandbox.wait_idle(timeout=5)
        used = sandbox.stats()["process_time"] - before
    record = sandbox.events("checkout.session.expired")[0]
    attempts = record["attempts"]
    assert len(attempts) == 3
    assert not any(a["ok"] for a in attempts)
    assert all(a["status"] is None for a in attempts)
    assert "BadStatusLine" in attempts[0]["error"]
    assert record["delivery"]["state"] == "failed"
    assert used < 0.5, f"sandbox used {used:.2f} s of CPU for three failed attempts"


@pytest.mark.parametrize(
    "config",
    [
        {"webhook_url": "http://127.0.0.1:notaport/"},
        {"webhook_url": "http://127.0.0.1:99999/"},
        {"webhook_url": "ftp://127.0.0.1/hook"},
        {"webhook_url": "http:///no-host"},
        {"delivery_timeout": -1},
        {"delivery_timeout": 0},
        {"delivery_timeout": "nan"},
        {"delivery_timeout": 1e400},
        {"retry_schedule": [1, -1]},
        {"retry_schedule": ["inf"]},
        {"sign_time_offset": "nan"},
    ],
    ids=lambda c: json.dumps(c),
)
def test_config_that_would_break_deliveries_is_400(sandbox: SandboxControl, config: Json) -> None:
    """Config that would make every delivery raise (InvalidURL, ValueError) and the worker
    spin is refused, and the stored config is left as it was."""
    before = sandbox.config()
    with pytest.raises(SandboxControlError) as exc_info:
        sandbox._call("POST", "/config", config)
    assert exc_info.value.status == 400
    assert exc_info.value.body["error"]["message"]
    assert sandbox.config() == before


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--webhook-url", "http://127.0.0.1:notaport/"),
        ("--webhook-url", "127.0.0.1:8000/hook"),
        ("--delivery-timeout", "-1"),
        ("--delivery-timeout", "nan"),
        ("--retry-schedule", "1,-2"),
    ],
)
def test_startup_flags_that_would_break_deliveries_are_usage_errors(flag: str, value: str) -> None:
    """Refused by argparse (exit 2, the flag named), not discovered one failed delivery later."""
    cmd = [sys.executable, "-m", "stripe_sandbox", "--secret-key", "sk_test_x",
           "--webhook-secret", "whsec_x", "--port", "0", flag, value]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_SANDBOX_")}
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"argument {flag}" in proc.stderr


def test_events_list_filters_on_delivery_success(
    client: Any, sandbox: SandboxControl, webhook_receiver: WebhookReceiver
) -> None:
    """``delivery_success`` filters the event list, as on Stripe: ``true`` lists events every
    endpoint acknowledged, ``false`` those still pending or failed (``pending_webhooks > 0``)."""
    sandbox.configure(retry_schedule=[0.01])
    delivered, failed, pending = (create_session(client) for _ in range(3))
    sandbox.expire(delivered.id)
    assert sandbox.wait_idle()
    webhook_receiver.status = 500
    sandbox.expire(failed.id)
    assert sandbox.wait_idle()
    sandbox.pause_webhooks()
    sandbox.expire(pending.id)
    by_session = {e["event"]["data"]["object"]["id"]: e for e in sandbox.events()}
    assert by_session[failed.id]["delivery"]["state"] == "failed"
    assert by_session[pending.id]["delivery"]["state"] == "pending"

    def listed(flag: str) -> set[str]:
        page = client.v1.events.list(params={"delivery_success": flag == "true", "limit": 100})
        return {e.data.object.id for e in page.data}

    assert listed("true") == {delivered.id}
    assert listed("false") == {failed.id, pending.id}
    sandbox.resume_webhooks()
