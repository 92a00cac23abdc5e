"""The hosted payment page in a real Chromium (Playwright), one test card at a time."""

from __future__ import annotations

import re
from typing import Any

import pytest

from stripe_sandbox.control_client import SandboxControl
from stripe_sandbox.testing import WebhookReceiver

from .helpers import create_session as _create_session

pytestmark = pytest.mark.e2e


@pytest.fixture
def shop(page: Any) -> Any:
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def merchant(webhook_receiver: WebhookReceiver) -> str:
    """The receiver also answers GET, standing in for the shop's success and cancel pages."""
    return webhook_receiver.base_url


def create_session(client: Any, **overrides: Any) -> Any:
    base = overrides.pop("merchant")
    overrides.setdefault("success_url", f"{base}/success/?session_id={{CHECKOUT_SESSION_ID}}")
    overrides.setdefault("cancel_url", f"{base}/cancel/")
    return _create_session(client, **overrides)


def _fill_card(page: Any, number: str, *, email: str | None = None) -> None:
    if email is not None:
        page.get_by_label("Email").first.fill(email)
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Name on card").fill("Jenny Rosen")
    page.get_by_label("Country or region").select_option("DE")
    page.get_by_label("Postal code").fill("10115")


def test_summary_and_success(
    shop: Any,
    merchant: str,
    client: Any,
    sandbox: SandboxControl,
    webhook_receiver: WebhookReceiver,
) -> None:
    rate = client.v1.tax_rates.create(
        params={"display_name": "VAT", "percentage": 19, "inclusive": False}
    )
    coupon = client.v1.coupons.create(params={"amount_off": 500, "currency": "eur"})
    s = create_session(
        client,
        merchant=merchant,
        discounts=[{"coupon": coupon.id}],
        shipping_options=[
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": 495, "currency": "eur"},
                    "display_name": "Standard",
                }
            }
        ],
        line_items=[
            {
                "price_data": {"currency": "eur", "unit_amount": 2000,
                               "product_data": {"name": "Linen <shirt>"}},
                "quantity": 2,
                "tax_rates": [rate.id],
            }
        ],
    )  # fmt: skip
    shop.goto(s.url)
    summary = shop.get_by_role("table", name="Order summary")
    assert "Linen <shirt>" in summary.inner_text()  # escaped, shown literally
    text = summary.inner_text()
    for expected in ("€40.00", "\u2212€5.00", "Shipping (Standard)", "€4.95", "€6.65", "€46.60"):
        assert expected in text
    assert shop.get_by_label("Email").first.input_value() == "buyer@example.com"
    _fill_card(shop, "4242 4242 4242 4242")
    shop.get_by_role("button", name="Pay €46.60").click()
    shop.wait_for_url(f"{merchant}/success/?session_id={s.id}")
    done = client.v1.checkout.sessions.retrieve(s.id, params={"expand": ["payment_intent"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    assert done.payment_intent.status == "succeeded"
    assert done.customer_details.email == "buyer@example.com"
    assert done.customer_details.address.country == "DE"
    webhook_receiver.wait_for("checkout.session.completed")
    # a completed session never takes a second payment
    shop.goto(s.url)
    assert shop.get_by_role("heading", name="This payment is complete").is_visible()
    assert shop.get_by_label("Card number").count() == 0


@pytest.mark.parametrize(
    ("card", "message", "decline_code"),
    [
        ("4000 0000 0000 0002", "Your card was declined.", "generic_decline"),
        ("4000 0000 0000 9995", "Your card has insufficient funds.", "insufficient_funds"),
    ],
)
def test_declines_stay_on_page(
    shop: Any,
    merchant: str,
    client: Any,
    webhook_receiver: WebhookReceiver,
    card: str,
    message: str,
    decline_code: str,
) -> None:
    s = create_session(client, merchant=merchant)
    shop.goto(s.url)
    _fill_card(shop, card)
    shop.locator("#pay").click()
    alert = shop.get_by_role("alert")
    assert alert.inner_text() == message
    assert shop.url == s.url
    assert shop.get_by_label("Card number").input_value() == ""  # card data not echoed back
    evt = webhook_receiver.wait_for("payment_intent.payment_failed")[0].event
    assert evt["data"]["object"]["last_payment_error"]["decline_code"] == decline_code
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"
    # the customer can still pay on the same page
    _fill_card(shop, "4242424242424242")
    shop.locator("#pay").click()
    shop.wait_for_url(f"{merchant}/success/**")


@pytest.mark.parametrize("complete", [True, False])
def test_three_d_secure_challenge(
    shop: Any,
    merchant: str,
    client: Any,
    webhook_receiver: WebhookReceiver,
    complete: bool,
) -> None:
    s = create_session(client, merchant=merchant)
    shop.goto(s.url)
    _fill_card(shop, "4000 0025 0000 3155")
    shop.locator("#pay").click()
    shop.wait_for_url(f"{s.url}/3ds")
    assert shop.get_by_role("heading", name="3D Secure 2 test page").is_visible()
    if complete:
        shop.get_by_role("button", name="Complete").click()
        shop.wait_for_url(f"{merchant}/success/?session_id={s.id}")
        assert client.v1.checkout.sessions.retrieve(s.id).payment_status == "paid"
    else:
        shop.get_by_role("button", name="Fail").click()
        assert "unable to authenticate" in shop.get_by_role("alert").inner_text()
        assert client.v1.checkout.sessions.retrieve(s.id).status == "open"
        evt = webhook_receiver.wait_for("payment_intent.payment_failed")[0].event
        error = evt["data"]["object"]["last_payment_error"]
        assert error["code"] == "payment_intent_authentication_failure"


def test_async_bank_debit_on_page(
    shop: Any, merchant: str, client: Any, sandbox: SandboxControl
) -> None:
    s = create_session(client, merchant=merchant)
    shop.goto(s.url)
    shop.get_by_label("Account holder name").fill("Jenny Rosen")
    shop.get_by_role("button", name="Pay with bank debit").click()
    shop.wait_for_url(f"{merchant}/success/?session_id={s.id}")
    got = client.v1.checkout.sessions.retrieve(s.id)
    assert (got.status, got.payment_status) == ("complete", "unpaid")
    sandbox.settle(s.id, "succeeded")
    assert client.v1.checkout.sessions.retrieve(s.id).payment_status == "paid"


def test_validation_errors_are_readable(shop: Any, merchant: str, client: Any) -> None:
    s = create_session(client, merchant=merchant)
    shop.goto(s.url)
    shop.get_by_label("Card number").fill("4242 4242 4242 4241")
    shop.locator("#pay").click()
    assert shop.get_by_role("alert").inner_text() == "Please correct the highlighted fields."
    number = shop.get_by_label("Card number")
    assert number.get_attribute("aria-invalid") == "true"
    described = number.get_attribute("aria-describedby")
    assert shop.locator(f"#{described}").inner_text() == "Your card number is invalid."
    assert "Enter the expiry date" in shop.locator("#f-exp-err").inner_text()
    assert client.v1.checkout.sessions.retrieve(s.id).payment_intent is None


def test_keyboard_only_payment(shop: Any, merchant: str, client: Any) -> None:
    s = create_session(client, merchant=merchant, customer_email=None)
    shop.goto(s.url)
    shop.locator("#cancel").focus()
    shop.keyboard.press("Tab")
    shop.keyboard.type("kb@example.com")
    for value in ("4242424242424242", "1234", "123", "Key Board"):
        shop.keyboard.press("Tab")
        shop.keyboard.type(value)
    shop.keyboard.press("Tab")  # country select: keep the default
    shop.keyboard.press("Tab")
    shop.keyboard.type("94107")
    shop.keyboard.press("Enter")
    shop.wait_for_url(f"{merchant}/success/**")


def test_cancel_link_and_expired_page(
    shop: Any, merchant: str, client: Any, sandbox: SandboxControl
) -> None:
    s = create_session(client, merchant=merchant)
    shop.goto(s.url)
    shop.get_by_role("link", name=re.compile("Back to the shop")).click()
    shop.wait_for_url(f"{merchant}/cancel/")
    assert client.v1.checkout.sessions.retrieve(s.id).status == "open"
    sandbox.expire(s.id)
    shop.goto(s.url)
    assert shop.get_by_role("heading", name="This checkout session has expired").is_visible()
    assert shop.get_by_label("Card number").count() == 0
    response = shop.request.post(
        s.url, form={"method": "card", "email": "a@b.co", "cardnumber": "4242424242424242",
                     "exp": "12/34", "cvc": "123", "name": "X", "postal": "1"},
        max_redirects=0,
    )  # fmt: skip
    assert response.status == 303  # back to the page, which says "expired"
    assert client.v1.checkout.sessions.retrieve(s.id).payment_intent is None


def test_unknown_session_page(shop: Any, merchant: str, sandbox: SandboxControl) -> None:
    response = shop.goto(f"{sandbox.base_url}/c/pay/cs_test_nope")
    assert response.status == 404
    assert shop.get_by_role("heading", name="Not found").is_visible()


def test_zero_total_page_asks_for_no_card(
    shop: Any, merchant: str, client: Any, webhook_receiver: WebhookReceiver
) -> None:
    """A 100% coupon: a confirm button instead of a card form; no PaymentIntent."""
    free = client.v1.coupons.create(params={"percent_off": 100})
    s = create_session(client, merchant=merchant, discounts=[{"coupon": free.id}])
    shop.goto(s.url)
    assert shop.get_by_role("table", name="Order summary").locator("#total").inner_text() == (
        "€0.00"
    )
    assert shop.get_by_label("Card number").count() == 0
    assert shop.get_by_role("button", name="Pay with bank debit").count() == 0
    assert shop.get_by_label("Email").input_value() == "buyer@example.com"
    shop.get_by_role("button", name="Confirm order").click()
    shop.wait_for_url(f"{merchant}/success/?session_id={s.id}")
    done = client.v1.checkout.sessions.retrieve(s.id)
    assert (done.status, done.payment_status) == ("complete", "no_payment_required")
    assert done.payment_intent is None
    assert done.url is None
    webhook_receiver.wait_for("checkout.session.completed")
    assert [e["type"] for e in webhook_receiver.events()] == ["checkout.session.completed"]
