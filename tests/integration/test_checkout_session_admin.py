"""Checkout sessions in admin are view only, so staff cannot corrupt a checkout: no add,
change or delete of a session or its audit events, but a list and a read-only timeline."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from apps.cart import services as cart_services
from apps.checkout.machine import Event, State
from apps.checkout.models import CheckoutEvent, CheckoutSession
from tests.factories import new_session

pytestmark = pytest.mark.django_db


def make_session(state: State = State.SHIPPING_ADDRESS, **fields: object) -> CheckoutSession:
    cart = cart_services.get_or_create_cart(user=None, session=new_session())
    session = CheckoutSession.objects.create(
        cart=cart,
        cart_version=cart.version,
        state=state.value,
        user_type=CheckoutSession.UserType.GUEST,
        expires_at=timezone.now() + timedelta(hours=1),
        **fields,
    )
    CheckoutEvent.objects.create(
        session=session, kind=CheckoutEvent.Kind.STARTED, to_state=State.CART_REVIEW.value
    )
    CheckoutEvent.objects.create(
        session=session,
        kind=CheckoutEvent.Kind.REFUSED,
        event=Event.SUBMIT_SHIPPING.value,
        from_state=State.SHIPPING_ADDRESS.value,
        detail="shipping_address_valid",
    )
    return session


def test_list_filters_and_search(admin_client: Client) -> None:
    shown = make_session()
    other = make_session(State.ORDER_REVIEW, is_open=False)
    url = reverse("admin:checkout_checkoutsession_changelist")

    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert shown.public_id[:10] in html
    assert other.public_id[:10] in html
    assert shown.public_id not in html  # only a prefix in the list

    by_state = admin_client.get(url, {"state": State.ORDER_REVIEW.value}).content.decode()
    assert other.public_id[:10] in by_state
    assert shown.public_id[:10] not in by_state
    open_only = admin_client.get(url, {"is_open__exact": "1"}).content.decode()
    assert shown.public_id[:10] in open_only
    assert other.public_id[:10] not in open_only
    guests = admin_client.get(url, {"user_type": "guest"}).content.decode()
    assert shown.public_id[:10] in guests

    found = admin_client.get(url, {"q": shown.public_id[:12]}).content.decode()
    assert shown.public_id[:10] in found
    assert other.public_id[:10] not in found


def test_detail_shows_the_event_timeline_read_only(admin_client: Client) -> None:
    session = make_session()
    change = reverse("admin:checkout_checkoutsession_change", args=[session.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    html = page.content.decode()
    assert "shipping_address_valid" in html  # the refused event's guard
    assert "Checkout started" in html
    assert 'name="state"' not in html  # shown, not editable
    assert 'name="events-0-kind"' not in html
    assert 'name="_save"' not in html


def test_no_add_change_or_delete(admin_client: Client) -> None:
    session = make_session()
    change = reverse("admin:checkout_checkoutsession_change", args=[session.pk])
    response = admin_client.post(
        change, {"state": State.ORDER_REVIEW.value, "is_open": "", "user_type": "registered"}
    )
    assert response.status_code == 403
    session.refresh_from_db()
    assert session.state == State.SHIPPING_ADDRESS.value
    assert session.is_open

    assert admin_client.get(reverse("admin:checkout_checkoutsession_add")).status_code == 403
    delete = reverse("admin:checkout_checkoutsession_delete", args=[session.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert CheckoutSession.objects.filter(pk=session.pk).exists()
    # No bulk delete action either.
    changelist = reverse("admin:checkout_checkoutsession_changelist")
    admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [session.pk], "post": "yes"}
    )
    assert CheckoutSession.objects.filter(pk=session.pk).exists()
    assert CheckoutEvent.objects.filter(session=session).count() == 2
    # Events have no admin of their own to edit them through.
    with pytest.raises(NoReverseMatch):
        reverse("admin:checkout_checkoutevent_changelist")


def test_staff_with_view_permission_only_can_look(client: Client) -> None:
    session = make_session()
    staff = get_user_model().objects.create_user(
        username="viewer", email="viewer@example.com", password="pw-viewer-1", is_staff=True
    )
    staff.user_permissions.add(Permission.objects.get(codename="view_checkoutsession"))
    client.force_login(staff)
    change = reverse("admin:checkout_checkoutsession_change", args=[session.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"state": "order_review"}).status_code == 403
    session.refresh_from_db()
    assert session.state == State.SHIPPING_ADDRESS.value
