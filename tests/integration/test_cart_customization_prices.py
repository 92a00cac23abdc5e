"""Customizations are charged at today's price, not the price captured when the line was added.

The cart prices them from CART_CUSTOMIZATIONS at view time and flags a change like a
catalog price change (old -> new)."""

import copy
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.cart import selectors, services
from tests.factories import guest_cart, make_coupon, make_product, variant_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(settings: object) -> dict[str, dict[str, object]]:
    """A copy of CART_CUSTOMIZATIONS the test may change."""
    value = copy.deepcopy(settings.CART_CUSTOMIZATIONS)  # type: ignore[attr-defined]
    settings.CART_CUSTOMIZATIONS = value  # type: ignore[attr-defined]
    return value  # type: ignore[no-any-return]


def test_priced_cart_prices_customizations_now_and_flags_the_change(
    catalogue: dict[str, dict[str, object]],
) -> None:
    cart = guest_cart()
    variant = variant_of(make_product(price="20.00", stock=10))
    services.add_line(cart, variant.pk, 2, customizations=[{"type": "gift_wrap", "value": "Hi"}])
    catalogue["gift_wrap"]["price"] = "7.50"
    view = selectors.priced_cart(cart)
    (row,) = view.lines
    assert row.added_unit_price == Decimal("25.00")
    assert row.unit_price == Decimal("27.50")
    assert row.price_changed
    assert row.price_went_up
    assert view.subtotal == Decimal("55.00")
    assert [c["price"] for c in row.customizations] == ["7.50"]


def test_coupons_are_applied_on_current_customization_prices(
    catalogue: dict[str, dict[str, object]],
) -> None:
    cart = guest_cart()
    variant = variant_of(make_product(price="20.00", stock=10))
    services.add_line(cart, variant.pk, 1, customizations=[{"type": "engraving", "value": "A"}])
    make_coupon("MIN35", type="fixed_amount", value="5.00", minimum_order_amount="35.00")
    catalogue["engraving"]["price"] = "15.00"  # 20 + 15 = 35: now meets the minimum
    row = services.apply_coupon(cart, "MIN35", user=None)
    assert row.coupon.code == "MIN35"
    assert selectors.priced_cart(cart).discount_total == Decimal("5.00")


def test_a_customization_no_longer_offered_blocks_checkout(
    catalogue: dict[str, dict[str, object]],
) -> None:
    cart = guest_cart()
    variant = variant_of(make_product(name="Pocket Knife", price="20.00", stock=10))
    services.add_line(cart, variant.pk, 1, customizations=[{"type": "engraving", "value": "A"}])
    del catalogue["engraving"]
    view = selectors.priced_cart(cart)
    assert view.checkout_blocked
    assert view.issues == (
        "Engraving is no longer offered for Pocket Knife; "
        "remove the item and add it again to continue.",
    )
    assert view.subtotal == Decimal("30.00")  # the price it was added at


def test_cart_page_and_api_show_the_current_customization_price(
    client: Client, catalogue: dict[str, dict[str, object]]
) -> None:
    cart = client.post("/api/cart").json()["data"]
    variant = variant_of(make_product(price="20.00", stock=10))
    client.post(
        f"/api/cart/{cart['id']}/items",
        {"variantId": variant.pk, "quantity": 1, "customizations": [{"type": "gift_wrap"}]},
        content_type="application/json",
    )
    catalogue["gift_wrap"]["price"] = "6.00"
    (item,) = client.get(f"/api/cart/{cart['id']}").json()["data"]["items"]
    assert (item["originalPrice"], item["price"]) == ("25.00", "26.00")
    assert item["customizations"][0]["price"] == "6.00"
    html = client.get(reverse("cart:detail")).content.decode()
    assert "$25.00 &rarr; $26.00" in html
    assert "(+$6.00)" in html
