"""Signing in at checkout merges the guest cart into the customer's (the guest cart is
deleted); the checkout session follows the customer's cart and keeps what was entered."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from apps.cart import services as cart_services
from apps.cart.models import Cart
from apps.checkout.machine import State
from apps.checkout.models import CheckoutEvent, CheckoutSession
from tests.checkout_support import fill_cart, make_zones, stored, walk_guest
from tests.factories import make_product, make_user, variant_of

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 9"


def _customer_with_cart() -> tuple[User, Cart]:
    user = make_user("walker@example.com", password=PASSWORD)
    cart = cart_services.get_or_create_cart(user=user, session=SessionStore())
    mug = make_product(name="Camp Mug", price="12.00", stock=10, image=False)
    cart_services.add_line(cart, variant_of(mug).pk, 2)
    return user, cart


def _sign_in(client: Client, next_url: str) -> str:
    response = client.post(
        "/accounts/sign-in/",
        {"email": "walker@example.com", "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == 302
    return str(response["Location"])


def test_signing_in_at_identification_merges_carts_and_keeps_the_checkout_going() -> None:
    make_zones()
    user, customer_cart = _customer_with_cart()
    client = Client()
    fill_cart(client, lines=2, price="20.00")
    guest_cart_id = client.session["cart_id"]
    walk_guest(client, until="identify")
    guest_session = CheckoutSession.objects.get(is_open=True)
    assert guest_session.state == State.USER_IDENTIFICATION

    page = client.get("/checkout/identify/")
    assert "/accounts/sign-in/?next=/checkout/identify/" in page.content.decode()
    assert _sign_in(client, "/checkout/identify/") == "/checkout/identify/"

    assert not Cart.objects.filter(pk=guest_cart_id).exists()
    session = CheckoutSession.objects.get(pk=guest_session.pk)
    assert session.is_open
    assert session.cart_id == customer_cart.pk
    assert session.user_id == user.pk
    assert session.cart_version == Cart.objects.get(pk=customer_cart.pk).version
    assert client.session["checkout_id"] == session.public_id
    assert session.events.filter(kind=CheckoutEvent.Kind.CART_MERGED).exists()

    # Back at identification, a signed-in shopper passes SELECT_REGISTERED.
    response = client.get("/checkout/identify/")
    assert response["Location"] == "/checkout/shipping-address/"
    page = client.get("/checkout/")
    assert page.context["priced"].item_count == 4  # 2 mugs + the guest's 2 items
    session.refresh_from_db()
    assert session.user_type == CheckoutSession.UserType.REGISTERED
    assert session.email == "walker@example.com"


def test_signing_in_after_entering_everything_returns_to_review_with_the_new_total() -> None:
    make_zones()
    _customer_with_cart()
    client = Client()
    fill_cart(client, lines=2, price="20.00")
    walk_guest(client, until="review")
    assert client.get("/checkout/review/").context["totals"].subtotal == Decimal("40.00")

    _sign_in(client, "/checkout/review/")
    response = client.get("/checkout/review/")
    # Identification passes at once for the signed-in shopper; the kept choices hold.
    assert response.status_code == 200
    assert "Choose how you would like to check out first." not in response.content.decode()
    totals = response.context["totals"]
    assert totals.subtotal == Decimal("64.00")  # the merged cart: 40.00 + 2 x 12.00
    assert "Your cart changed; check the new total." in response.content.decode()
    session = CheckoutSession.objects.get(is_open=True)
    assert session.state == State.ORDER_REVIEW
    assert stored(session.shipping_address)["city"] == "San Francisco"


def test_another_open_checkout_on_the_customers_cart_is_closed() -> None:
    make_zones()
    user, customer_cart = _customer_with_cart()
    elsewhere = Client()
    elsewhere.force_login(user)
    elsewhere.get("/checkout/")
    older = CheckoutSession.objects.get(cart=customer_cart, is_open=True)

    client = Client()
    fill_cart(client)
    walk_guest(client, until="identify")
    _sign_in(client, "/checkout/identify/")

    older.refresh_from_db()
    assert older.is_open is False
    assert CheckoutSession.objects.filter(cart=customer_cart, is_open=True).count() == 1
    assert client.get("/checkout/identify/")["Location"] == "/checkout/shipping-address/"


def test_a_guest_cart_adopted_by_a_customer_without_a_cart_keeps_its_checkout() -> None:
    make_zones()
    make_user("walker@example.com", password=PASSWORD)
    client = Client()
    fill_cart(client)
    walk_guest(client, until="identify")
    session = CheckoutSession.objects.get(is_open=True)
    _sign_in(client, "/checkout/identify/")
    session.refresh_from_db()
    assert session.is_open
    assert session.cart is not None
    assert client.get("/checkout/identify/")["Location"] == "/checkout/shipping-address/"
