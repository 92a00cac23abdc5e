"""Guards of the step pages: a step visited before its prerequisites redirects to the
first incomplete step with a message; an expired checkout goes back to the cart; a cart
that changed after pricing is repriced and shown on review again."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from apps.cart.models import Cart, CartLine
from apps.checkout import services
from apps.checkout.machine import Event, Guard, Refusal, State
from apps.checkout.models import CheckoutEvent, CheckoutSession
from tests.checkout_support import CA_ADDRESS, address_post, fill_cart, make_zones, walk_guest
from tests.factories import guest_cart, make_product, variant_of

pytestmark = pytest.mark.django_db

STEPS = [
    "/checkout/identify/",
    "/checkout/guest/",
    "/checkout/shipping-address/",
    "/checkout/billing-address/",
    "/checkout/shipping-method/",
    "/checkout/payment/",
    "/checkout/review/",
]


def _messages(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def _session() -> CheckoutSession:
    return CheckoutSession.objects.get(is_open=True)


@pytest.mark.parametrize("url", STEPS)
def test_a_step_without_a_checkout_session_goes_to_the_cart_review(url: str) -> None:
    client = Client()
    fill_cart(client)
    response = client.get(url)
    assert response["Location"] == "/checkout/"
    assert "Start checkout from your cart." in _messages(response)


@pytest.mark.parametrize("url", ["/checkout/", *STEPS])
def test_checkout_without_a_cart_goes_to_the_cart(url: str) -> None:
    response = Client().get(url)
    assert response["Location"] == "/cart/"


# (where the session is, the page visited, where it is sent, the message)
GUARDS = [
    (
        "start",
        "/checkout/identify/",
        "/checkout/",
        "Review your cart and proceed to checkout first.",
    ),
    ("start", "/checkout/review/", "/checkout/", "Review your cart and proceed to checkout first."),
    (
        "identify",
        "/checkout/guest/",
        "/checkout/identify/",
        "Choose how you would like to check out first.",
    ),
    (
        "guest",
        "/checkout/shipping-address/",
        "/checkout/guest/",
        "Tell us your email address and name first.",
    ),
    (
        "shipping-address",
        "/checkout/shipping-method/",
        "/checkout/shipping-address/",
        "Enter a shipping address first.",
    ),
    (
        "shipping-address",
        "/checkout/billing-address/",
        "/checkout/shipping-address/",
        "Enter a shipping address first.",
    ),
    (
        "shipping-method",
        "/checkout/payment/",
        "/checkout/shipping-method/",
        "Choose a shipping method first.",
    ),
    ("payment", "/checkout/review/", "/checkout/payment/", "Choose how you would like to pay."),
]


@pytest.mark.parametrize(("at", "url", "sent_to", "message"), GUARDS)
def test_a_step_before_its_prerequisites_redirects_to_the_first_incomplete_step(
    at: str, url: str, sent_to: str, message: str
) -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until=at)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == sent_to
    assert message in _messages(response)


def test_posting_a_later_step_early_changes_nothing() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="guest")
    response = client.post("/checkout/payment/", {"payment_method": "card"})
    assert response["Location"] == "/checkout/guest/"
    session = _session()
    assert (session.state, session.payment_method) == (State.GUEST_INFO, "")


def test_earlier_steps_stay_reachable_for_back_and_edit_links() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="review")
    for url in [
        "/checkout/",
        "/checkout/guest/",
        "/checkout/shipping-address/",
        "/checkout/payment/",
    ]:
        assert client.get(url).status_code == 200, url


def test_an_invalid_step_form_shows_the_errors_in_a_summary() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="guest")
    response = client.post("/checkout/guest/", {"email": "not an email", "first_name": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "data-error-summary" in body
    assert 'href="#id_email"' in body
    assert 'aria-invalid="true"' in body
    assert _session().state == State.GUEST_INFO


def test_a_shipping_method_not_offered_for_the_address_is_refused() -> None:
    methods = make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="shipping-method")
    national = methods["United States Standard"]  # the address is in the US West zone
    response = client.post("/checkout/shipping-method/", {"shipping_method": national.pk})
    assert response.status_code == 400
    assert _session().shipping_method_id is None


def test_an_expired_checkout_goes_back_to_the_cart() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="payment")
    session = _session()
    CheckoutSession.objects.filter(pk=session.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    response = client.get("/checkout/payment/")
    assert response["Location"] == "/cart/"
    assert any("timed out" in m for m in _messages(response))
    session.refresh_from_db()
    assert session.is_open is False
    assert session.events.filter(kind=CheckoutEvent.Kind.EXPIRED).exists()
    assert "checkout_id" not in client.session
    # Starting again opens a fresh session.
    client.get("/checkout/")
    assert _session().pk != session.pk


def test_each_step_pushes_the_expiry_back() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="guest")
    soon = timezone.now() + timedelta(minutes=1)
    CheckoutSession.objects.update(expires_at=soon)
    client.get("/checkout/guest/")
    assert _session().expires_at > soon + timedelta(minutes=30)


def test_a_cart_changed_after_pricing_is_repriced_and_shown_on_review() -> None:
    make_zones()
    client = Client()
    fill_cart(client, lines=2, price="20.00")
    walk_guest(client, until="review")
    assert client.get("/checkout/review/").context["totals"].subtotal == Decimal("40.00")

    # Another tab adds an item.
    extra = make_product(name="Extra", price="10.00", stock=5, image=False)
    client.post("/cart/add/", {"variant_id": variant_of(extra).pk, "quantity": 1})
    response = client.get("/checkout/payment/")
    assert response["Location"] == "/checkout/review/"
    assert "Your cart changed; check the new total." in _messages(response)
    review = client.get("/checkout/review/")
    assert review.context["totals"].subtotal == Decimal("50.00")
    session = _session()
    assert session.cart_id is not None
    assert session.cart_version == Cart.objects.get(pk=session.cart_id).version
    assert session.events.filter(kind=CheckoutEvent.Kind.CART_CHANGED).count() == 1


def test_a_cart_that_can_no_longer_check_out_sends_the_shopper_to_the_cart_review() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="review")
    session = _session()
    assert session.cart_id is not None
    line = CartLine.objects.filter(cart_id=session.cart_id).first()
    assert line is not None
    line.variant.stock.on_hand = 0
    line.variant.stock.save()
    Cart.objects.filter(pk=session.cart_id).update(version=session.cart_version + 1)
    response = client.get("/checkout/review/")
    assert response["Location"] == "/checkout/"
    page = client.get("/checkout/")
    assert page.context["priced"].checkout_blocked
    assert 'data-testid="checkout-blocked"' in page.content.decode()
    assert client.post("/checkout/")["Location"] == "/checkout/"
    assert _session().state == State.CART_REVIEW


def test_a_checkout_id_of_someone_elses_cart_is_not_loaded() -> None:
    make_zones()
    other = guest_cart()
    theirs = CheckoutSession.objects.create(
        cart=other, cart_version=other.version, expires_at=timezone.now() + timedelta(hours=1)
    )
    client = Client()
    fill_cart(client)
    session = client.session
    session["checkout_id"] = theirs.public_id
    session.save()
    response = client.get("/checkout/guest/")
    assert response["Location"] == "/checkout/"
    client.get("/checkout/")
    assert client.session["checkout_id"] != theirs.public_id


def test_the_progress_indicator_marks_the_current_step() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="shipping-address")
    body = client.get("/checkout/shipping-address/").content.decode()
    current = body.split('aria-current="step"')[1][:200]
    assert "Shipping" in current
    for name in ["Cart", "Details", "Shipping", "Payment", "Review"]:
        assert name in body


def test_billing_same_as_shipping_is_checked_and_marketing_unchecked_by_default() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="guest")
    assert "checked" not in str(client.get("/checkout/guest/").context["form"]["marketing_consent"])
    client.post("/checkout/guest/", {"email": "a@example.com", "first_name": "A", "last_name": "B"})
    page = client.get("/checkout/shipping-address/")
    assert "checked" in str(page.context["same_form"]["billing_same_as_shipping"])
    client.post("/checkout/shipping-address/", address_post(CA_ADDRESS))
    assert _session().billing_same_as_shipping is False


def test_a_refused_edit_from_review_leaves_the_session_on_review() -> None:
    methods = make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="review")
    session = _session()
    national = methods["United States Standard"]  # not offered for the Californian address
    outcome = services.submit(
        session, State.SHIPPING_METHOD, Event.SELECT_SHIPPING, {"shipping_method_id": national.pk}
    )
    assert isinstance(outcome, Refusal)
    assert outcome.guard is Guard.SHIPPING_METHOD_AVAILABLE
    session = _session()
    assert session.state == State.ORDER_REVIEW
    assert session.shipping_method_id != national.pk
    assert not session.events.filter(kind=CheckoutEvent.Kind.EDITED).exists()
    assert session.events.filter(kind=CheckoutEvent.Kind.REFUSED).count() == 1
    assert client.get("/checkout/review/").status_code == 200


def test_leaving_checkout_closes_the_session_and_keeps_the_cart() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    walk_guest(client, until="review")
    session = _session()
    response = client.post("/checkout/cancel/")
    assert response["Location"] == "/cart/"
    session.refresh_from_db()
    assert session.is_open is False
    assert session.events.filter(kind=CheckoutEvent.Kind.CANCELLED).exists()
    assert session.cart_id is not None
    assert Cart.objects.filter(pk=session.cart_id, status=Cart.Status.ACTIVE).exists()
    assert client.get("/checkout/review/")["Location"] == "/checkout/"


def test_one_open_checkout_per_cart_is_resumed_not_duplicated() -> None:
    client = Client()
    fill_cart(client)
    client.get("/checkout/")
    first = _session()
    other_tab = client.get("/checkout/")
    assert other_tab.status_code == 200
    assert CheckoutSession.objects.filter(cart=first.cart, is_open=True).count() == 1
    assert client.session["checkout_id"] == first.public_id
    assert first.events.filter(kind=CheckoutEvent.Kind.STARTED).count() == 1


def test_step_submissions_share_the_checkout_rate_limit(settings: Any) -> None:
    """Submitted steps count against CHECKOUT_RATE, as API calls do: past the budget a
    step is refused with a message and the session does not move."""
    settings.CHECKOUT_RATE = "3/5min"
    client = Client()
    fill_cart(client)
    walk_guest(client, until="guest")  # two submissions: start and identify
    assert _session().state == State.GUEST_INFO
    guest = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    assert client.post("/checkout/guest/", guest)["Location"] == "/checkout/shipping-address/"
    refused = client.post("/checkout/shipping-address/", address_post(CA_ADDRESS))
    assert refused["Location"] == "/checkout/shipping-address/"
    assert any("Too many checkout steps" in m for m in _messages(refused))
    assert _session().state == State.SHIPPING_ADDRESS
    assert client.get("/checkout/shipping-address/").status_code == 200  # reading still works
