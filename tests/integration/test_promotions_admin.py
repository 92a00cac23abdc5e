"""Coupon admin: a usage limit below the uses already counted is a form
error, never a 500 from the promotions_coupon_usage_within_limit check constraint, and a
save never writes back a stale usage_count over uses counted meanwhile."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django import forms
from django.db.models import F
from django.test import Client
from django.utils import timezone

from apps.promotions.models import Coupon
from apps.promotions.services import reserve_usage
from tests.factories import make_coupon, make_user
from tests.integration.test_catalog_admin import change_form_data, change_url
from tests.support import transaction_in_another_thread

pytestmark = pytest.mark.django_db


def form_data(admin_client: Client, coupon: Coupon) -> dict[str, Any]:
    """The change page's POST body; admin date-times are split into date and time."""
    response = admin_client.get(change_url(coupon))
    data = change_form_data(response)
    for bound in response.context["adminform"].form:
        if isinstance(bound.field.widget, forms.SplitDateTimeWidget):
            value = data.pop(bound.html_name)
            if not isinstance(value, datetime):
                value = bound.field.to_python(value)
            local = timezone.localtime(value)
            data[f"{bound.html_name}_0"] = local.strftime("%Y-%m-%d")
            data[f"{bound.html_name}_1"] = local.strftime("%H:%M:%S")
    return data


def post_limit(admin_client: Client, coupon: Coupon, limit: object) -> Any:
    url = change_url(coupon)
    data = form_data(admin_client, coupon)
    data["usage_limit"] = limit
    return admin_client.post(url, data)


def test_usage_limit_below_usage_count_is_a_form_error(admin_client: Client) -> None:
    coupon = make_coupon("LIMITED", usage_limit=5)
    for n in range(3):
        reserve_usage([coupon.pk], user=make_user(), reference=f"checkout-{n}")
    response = post_limit(admin_client, coupon, 2)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "usage_limit" in errors
    assert "already been used 3 times" in str(errors["usage_limit"])
    coupon.refresh_from_db()
    assert (coupon.usage_limit, coupon.usage_count) == (5, 3)
    assert post_limit(admin_client, coupon, 3).status_code == 302  # equal is fine
    coupon.refresh_from_db()
    assert (coupon.usage_limit, coupon.usage_count) == (3, 3)
    assert post_limit(admin_client, coupon, "").status_code == 302  # no limit
    coupon.refresh_from_db()
    assert coupon.usage_limit is None


def test_the_count_is_read_from_the_database_not_the_page(admin_client: Client) -> None:
    """Uses counted after the change page was rendered still count."""
    coupon = make_coupon("LATE", usage_limit=5)
    url = change_url(coupon)
    data = form_data(admin_client, coupon)
    Coupon.objects.filter(pk=coupon.pk).update(usage_count=F("usage_count") + 4)
    data["usage_limit"] = 3
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "already been used 4 times" in str(response.context["adminform"].form.errors)


def checkout_counting_uses(
    coupon: Coupon, usage_count: Any
) -> Callable[[Callable[[], None]], None]:
    """A checkout that holds the coupon's row lock while the admin POST arrives, then
    sets usage_count (a number or an F() expression)."""

    def body(locked: Callable[[], None]) -> None:
        Coupon.objects.select_for_update().get(pk=coupon.pk)
        locked()
        time.sleep(0.5)  # the admin POST arrives while the lock is held
        Coupon.objects.filter(pk=coupon.pk).update(usage_count=usage_count)

    return body


@pytest.mark.django_db(transaction=True)
def test_a_use_counted_while_the_admin_saves_is_neither_lost_nor_a_500(
    admin_client: Client,
) -> None:
    """A checkout holds the coupon row lock and counts a use while staff save a lower
    limit: the admin waits for the lock, sees the new count and refuses; it never
    writes its stale usage_count back (lost update) nor trips the check constraint."""
    coupon = make_coupon("RACE", usage_limit=5, usage_count=1)
    url = change_url(coupon)
    data = form_data(admin_client, coupon)
    data["usage_limit"] = 2
    with transaction_in_another_thread(checkout_counting_uses(coupon, 3)):
        response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "already been used 3 times" in str(response.context["adminform"].form.errors)
    coupon.refresh_from_db()
    assert (coupon.usage_limit, coupon.usage_count) == (5, 3)


@pytest.mark.django_db(transaction=True)
def test_an_unrelated_edit_does_not_overwrite_a_use_counted_meanwhile(
    admin_client: Client,
) -> None:
    """Renaming a coupon while a checkout counts a use keeps that use."""
    coupon = make_coupon("KEEP", usage_limit=10, usage_count=1)
    url = change_url(coupon)
    data = form_data(admin_client, coupon)
    data["name"] = "Renamed"
    with transaction_in_another_thread(checkout_counting_uses(coupon, F("usage_count") + 1)):
        response = admin_client.post(url, data)
    assert response.status_code == 302
    coupon.refresh_from_db()
    assert (coupon.name, coupon.usage_count) == ("Renamed", 2)
