"""Signing in merges the session's guest cart into that customer only, and never loses it.

The sign-in hooks log and swallow a failing handler, so the guest cart id stays in the
session until a merge succeeds (here one fails on a real lock timeout while another
transaction holds the customer's cart): the shopper is told, and the cart page retries."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.cart import services
from apps.cart.models import Cart, CartLine
from apps.cart.selectors import CART_SESSION_KEY
from apps.cart.signin import MERGE_FAILED
from tests.factories import make_product, make_user, variant_of
from tests.support import transaction_in_another_thread

PASSWORD = "a long passphrase 9"


@pytest.mark.django_db(transaction=True)
def test_a_failed_merge_keeps_the_guest_cart_tells_the_shopper_and_is_retried() -> None:
    user = make_user("late@example.com", password=PASSWORD)
    mine = services.get_or_create_cart(user=user, session=Client().session)
    variant = variant_of(make_product(stock=10))
    guest = Client()
    guest.post(reverse("cart:add"), {"variant_id": variant.pk, "quantity": 2})
    guest_cart = Cart.objects.get(user__isnull=True)

    release = threading.Event()

    def hold_customer_cart(locked: Callable[[], None]) -> None:
        Cart.objects.select_for_update().get(pk=mine.pk)
        locked()
        release.wait(20)

    with transaction_in_another_thread(hold_customer_cart):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
            response = guest.post(
                reverse("accounts:sign_in"), {"email": user.email, "password": PASSWORD}
            )
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
            release.set()
    assert response.status_code == 302  # signed in all the same
    assert guest.session[CART_SESSION_KEY] == guest_cart.pk
    assert Cart.objects.filter(pk=guest_cart.pk, user__isnull=True).exists()
    assert not CartLine.objects.filter(cart=mine).exists()

    page = guest.get(reverse("cart:detail")).content.decode()
    assert MERGE_FAILED.replace("'", "&#x27;") in page  # the message from the sign-in
    # ... and the same page view merged the guest cart (the lock is gone now).
    assert not Cart.objects.filter(pk=guest_cart.pk).exists()
    assert list(CartLine.objects.filter(cart=mine).values_list("variant_id", "quantity")) == [
        (variant.pk, 2)
    ]
    assert CART_SESSION_KEY not in guest.session
    assert "We added the items from your guest cart" in page


def sign_in(client: Client, email: str) -> None:
    response = client.post(reverse("accounts:sign_in"), {"email": email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_guest_cart_pending_in_one_customers_session_is_not_merged_into_the_next() -> None:
    """A guest cart id left in one customer's session is dropped, not merged, when the next
    customer signs in on the same browser."""
    make_user("ana@example.com", password=PASSWORD)
    ben = make_user("ben@example.com", password=PASSWORD)
    variant = variant_of(make_product(stock=10))
    stranger = Client()
    stranger.post(reverse("cart:add"), {"variant_id": variant.pk, "quantity": 3})
    guest_cart = Cart.objects.get(user__isnull=True)

    shared = Client()
    sign_in(shared, "ana@example.com")
    # What a failed merge at Ana's sign-in leaves behind: a guest cart id in her session.
    session = shared.session
    session[CART_SESSION_KEY] = guest_cart.pk
    session.save()

    sign_in(shared, "ben@example.com")  # Ben signs in on the same browser

    guest_cart.refresh_from_db()
    assert guest_cart.user_id is None  # not adopted by Ben
    assert not CartLine.objects.filter(cart__user=ben).exists()
    assert CART_SESSION_KEY not in shared.session
