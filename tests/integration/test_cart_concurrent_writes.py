"""Cart writes are version-checked and a cart merged away meanwhile is a clean 404, never a 500.

- Adopting a guest cart bumps `version` (also when it drops used-up codes), so a tab still
  showing the old cart cannot write on the old version.
- A write racing a merge that deletes the guest cart is a 404 or a message, never a crash.
- DELETE bodies are validated: {"versoin": 1} is a 400 and deletes nothing.
- 409 CART_NOT_ACTIVE carries the cart in `data`, as the schema says.
"""

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.cart import api, errors, merge, services
from apps.cart.models import Cart, CartCoupon, CartLine
from apps.core.api import ApiError
from apps.promotions.services import confirm_usage, reserve_usage
from tests.factories import (
    guest_cart,
    make_coupon,
    make_product,
    make_user,
    new_session,
    variant_of,
)
from tests.integration.test_api_schema import _validate
from tests.support import transaction_in_another_thread

pytestmark = pytest.mark.django_db


def api_cart(client: Client) -> int:
    return int(client.post("/api/cart").json()["data"]["id"])


def add_item(client: Client, cart_id: int, variant_id: int, **extra: object) -> Any:
    return client.post(
        f"/api/cart/{cart_id}/items",
        {"variantId": variant_id, "quantity": 1, **extra},
        content_type="application/json",
    )


# 1. Adoption bumps the version ------------------------------------------------------


def test_adoption_that_drops_a_used_up_code_bumps_the_version_once() -> None:
    user = make_user()
    welcome = make_coupon("ONCEONLY", per_customer_limit=1)
    reserve_usage([welcome.pk], user=user, email="", reference="order-1")
    confirm_usage("order-1")
    guest = guest_cart()
    services.add_line(guest, variant_of(make_product(price="50.00", stock=10)).pk, 1)
    services.apply_coupon(guest, "ONCEONLY", user=None)
    seen = Cart.objects.get(pk=guest.pk)  # what the guest's other tab was rendered with
    result = merge.merge_guest_cart(guest.pk, user)
    assert result.cart is not None
    assert result.cart.pk == guest.pk  # adopted
    assert result.dropped_coupons
    assert not CartCoupon.objects.filter(cart=guest).exists()
    adopted = Cart.objects.get(pk=guest.pk)
    assert adopted.version == seen.version + 1
    assert adopted.expires_at > seen.expires_at
    assert result.cart.version == adopted.version
    # The tab still showing the code writes on the old version: refused.
    with pytest.raises(errors.StaleCart):
        services.clear_cart(adopted, expected_version=seen.version)
    assert CartLine.objects.filter(cart=guest).count() == 1


def test_adoption_without_drops_bumps_the_version_too() -> None:
    user = make_user()
    guest = guest_cart()
    services.add_line(guest, variant_of(make_product(stock=10)).pk, 1)
    before = Cart.objects.get(pk=guest.pk).version
    merge.merge_guest_cart(guest.pk, user)
    assert Cart.objects.get(pk=guest.pk).version == before + 1


# 2. A cart deleted by a merge between the ownership check and the write --------------


def test_write_to_a_cart_deleted_meanwhile_is_cart_gone_not_a_crash() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(stock=10))
    line = services.add_line(cart, variant.pk, 1)
    Cart.objects.filter(pk=cart.pk).delete()  # what the merge does to a guest cart
    writes: list[Callable[[], object]] = [
        lambda: services.add_line(cart, variant.pk, 1),
        lambda: services.set_quantity(cart, line.pk, 2),
        lambda: services.remove_line(cart, line.pk),
        lambda: services.clear_cart(cart),
        lambda: services.apply_coupon(cart, "ANY", user=None),
        lambda: services.remove_coupon(cart, 1),
    ]
    for write in writes:
        with pytest.raises(errors.CartGone):
            write()


def test_api_view_of_a_cart_deleted_meanwhile_is_404() -> None:
    cart = guest_cart()
    Cart.objects.filter(pk=cart.pk).delete()
    with pytest.raises(ApiError) as caught:
        api._view(cart)
    assert caught.value.status_code == 404
    assert caught.value.code == "NOT_FOUND"


def _merge_while_request_waits(guest_cart_id: int, user: Any, request: Callable[[], Any]) -> Any:
    """Hold the guest cart's row lock (as the sign-in merge does), let the request pass
    its unlocked ownership check and block on the lock, then merge (deleting the guest
    cart) and commit. Returns the request's response."""

    def merger(locked: Callable[[], None]) -> None:
        Cart.objects.select_for_update().get(pk=guest_cart_id)
        locked()
        deadline = time.monotonic() + 10
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.02)
            else:
                raise AssertionError("the request never waited for the cart lock")
        merge.merge_guest_cart(guest_cart_id, user)

    with transaction_in_another_thread(merger):
        response = request()
    return response


@pytest.mark.django_db(transaction=True)
def test_api_write_racing_a_merge_that_deletes_the_cart_is_404_not_500() -> None:
    user = make_user()
    mine = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(mine, variant_of(make_product(stock=10)).pk, 1)
    guest = Client(raise_request_exception=False)
    cid = api_cart(guest)
    assert add_item(guest, cid, variant_of(make_product(stock=10)).pk).status_code == 201
    late = variant_of(make_product(stock=10))
    response = _merge_while_request_waits(cid, user, lambda: add_item(guest, cid, late.pk))
    assert response.status_code == 404, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "NOT_FOUND"
    assert not Cart.objects.filter(pk=cid).exists()
    assert CartLine.objects.filter(cart=mine).count() == 2  # the guest line moved over


@pytest.mark.django_db(transaction=True)
def test_page_write_racing_a_merge_that_deletes_the_cart_redirects_with_a_message() -> None:
    user = make_user()
    services.get_or_create_cart(user=user, session=new_session())
    guest = Client(raise_request_exception=False)
    variant = variant_of(make_product(stock=10))
    guest.post(reverse("cart:add"), {"variant_id": variant.pk, "quantity": 1})
    cart = Cart.objects.get(user__isnull=True)
    version = cart.version
    response = _merge_while_request_waits(
        cart.pk, user, lambda: guest.post(reverse("cart:clear"), {"version": version})
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")
    page = guest.get(reverse("cart:detail")).content.decode()
    assert "merged into your account" in page


# 3. DELETE bodies are validated -----------------------------------------------------


@pytest.mark.parametrize("kind", ["item", "coupon"])
def test_delete_body_with_an_unknown_field_is_400_and_deletes_nothing(
    client: Client, kind: str
) -> None:
    cid = api_cart(client)
    make_coupon("TENOFF")
    added = add_item(client, cid, variant_of(make_product(price="50.00", stock=10)).pk).json()
    applied = client.post(
        f"/api/cart/{cid}/coupons", {"code": "TENOFF"}, content_type="application/json"
    ).json()["data"]
    url = (
        f"/api/cart/{cid}/items/{added['data']['addedItem']['id']}"
        if kind == "item"
        else f"/api/cart/{cid}/coupons/{applied['appliedCoupon']['couponId']}"
    )
    response = client.delete(url, json.dumps({"versoin": 1}), content_type="application/json")
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [d["field"] for d in error["details"]] == ["versoin"]
    assert CartLine.objects.filter(cart_id=cid).count() == 1
    assert CartCoupon.objects.filter(cart_id=cid).count() == 1
    # A stale version in the body is checked; the current one deletes.
    stale = client.delete(url, json.dumps({"version": 1}), content_type="application/json")
    assert stale.status_code == 409
    version = stale.json()["data"]["version"]
    both = client.delete(
        f"{url}?version={version}",
        json.dumps({"version": version - 1}),
        content_type="application/json",
    )
    assert both.status_code == 400
    assert both.json()["error"]["details"][0]["field"] == "version"
    done = client.delete(url, json.dumps({"version": version}), content_type="application/json")
    assert done.status_code == 200, done.json()


# 4. 409 CART_NOT_ACTIVE carries the current cart ------------------------------------


def test_cart_not_active_carries_the_cart_as_the_schema_says(client: Client) -> None:
    schema = json.loads(client.get("/api/schema/?format=json").content)
    cid = api_cart(client)
    variant = variant_of(make_product(stock=10))
    assert add_item(client, cid, variant.pk).status_code == 201
    services.mark_converted(cid)
    response = add_item(client, cid, variant.pk)
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["code"] == "CART_NOT_ACTIVE"
    assert body["data"]["id"] == cid
    assert body["data"]["status"] == "converted"
    _validate(schema, "/api/cart/{cart_id}/items", "post", response)
