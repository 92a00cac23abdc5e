"""The cart admin is view-only, so staff edits cannot break cart invariants."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.cart import services
from apps.cart.models import Cart
from tests.factories import new_session

pytestmark = pytest.mark.django_db


def test_cart_admin_is_view_only(admin_client: Client) -> None:
    """Staff can look but not edit or add: reactivating a converted guest cart would break
    the one-active-cart constraint, and any edit would skip the version bump."""
    session = new_session()
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
