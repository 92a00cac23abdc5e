"""Regressions (fourth review of #4): the cart admin could 500 and skip version bumps, and a
guest cart id left in one customer's session could be merged into the next customer's."""

import pytest
from django.contrib.sessions.backends.cache import SessionStore
from django.test import Client
from django.urls import reverse

from apps.cart import services
from apps.cart.models import Cart, CartLine
from apps.cart.selectors import CART_SESSION_KEY
from apps.catalog.models import ProductVariant
from tests.factories import make_product, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 9"


def test_cart_admin_is_view_only(admin_client: Client) -> None:
    """Reactivating a converted guest cart whose session already has an active one broke the
    one-active-cart constraint (a 500); any staff edit skipped the version bump."""
    session = SessionStore()
    first = services.get_or_create_cart(user=None, session=session)
    services.mark_converted(first.pk)
    second = services.get_or_create_cart(user=None, session=session)
    assert second.pk != first.pk
    change = reverse("admin:cart_cart_change", args=[first.pk])

    page = admin_client.get(change)
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()  # shown, not editable

    response = admin_client.post(change, {"status": "active", "currency": "USD"})
    assert response.status_code == 403
    first.refresh_from_db()
    assert first.status == Cart.Status.CONVERTED
    assert admin_client.get(reverse("admin:cart_cart_add")).status_code == 403


def sign_in(client: Client, email: str) -> None:
    response = client.post(reverse("accounts:sign_in"), {"email": email, "password": PASSWORD})
    assert response.status_code == 302


def test_a_guest_cart_pending_in_one_customers_session_is_not_merged_into_the_next() -> None:
    make_user("ana@example.com", password=PASSWORD)
    ben = make_user("ben@example.com", password=PASSWORD)
    variant = ProductVariant.objects.filter(product=make_product(stock=10))[0]
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
