"""Regression (third review of #4): a failed merge at sign-in orphaned the guest cart.

The handler removed the cart id from the session before merging, and the sign-in hooks
log and swallow a failing handler, so a merge that failed (here: a real lock timeout
while another transaction holds the customer's cart) lost the guest cart silently. Now
the id stays until the merge succeeds, the shopper is told, and the cart page retries."""

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
from apps.catalog.models import ProductVariant
from tests.factories import make_product, make_user
from tests.support import transaction_in_another_thread

PASSWORD = "a long passphrase 9"


@pytest.mark.django_db(transaction=True)
def test_a_failed_merge_keeps_the_guest_cart_tells_the_shopper_and_is_retried() -> None:
    user = make_user("late@example.com", password=PASSWORD)
    mine = services.get_or_create_cart(user=user, session=Client().session)
    variant = ProductVariant.objects.filter(product=make_product(stock=10))[0]
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
