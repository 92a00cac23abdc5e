"""The stock cap is per variant, not per cart line.

Lines with different customizations are separate lines of the same variant, so every check
counts all of them: a cart cannot hold 4 x 12 of a variant with 12 available."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.cart import errors, merge, selectors, services
from apps.cart.models import Cart, CartLine
from tests.factories import guest_cart, make_product, make_user, new_session, variant_of

pytestmark = pytest.mark.django_db

WRAP = [{"type": "gift_wrap", "value": "a"}]
ENGRAVE_A = [{"type": "engraving", "value": "a"}]
ENGRAVE_B = [{"type": "engraving", "value": "b"}]


def test_api_refuses_a_second_line_of_the_same_variant_past_stock(client: Client) -> None:
    """12 available: the same 12 again with customizations is refused as a second line."""
    cart = client.post("/api/cart", content_type="application/json").json()["data"]
    variant = variant_of(make_product(stock=12))
    url = f"/api/cart/{cart['id']}/items"
    first = client.post(
        url, {"variantId": variant.pk, "quantity": 12}, content_type="application/json"
    )
    assert first.status_code == 201
    for extra in (WRAP, ENGRAVE_A, ENGRAVE_B):
        response = client.post(
            url,
            {"variantId": variant.pk, "quantity": 12, "customizations": extra},
            content_type="application/json",
        )
        assert response.status_code == 400, response.json()
        assert response.json()["error"]["code"] == "INSUFFICIENT_STOCK"
        assert "you already have 12 in your cart" in response.json()["error"]["message"]
    data = client.get(f"/api/cart/{cart['id']}").json()["data"]
    assert [item["quantity"] for item in data["items"]] == [12]
    assert data["checkoutBlocked"] is False


def test_add_line_counts_every_line_of_the_variant() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(stock=12))
    services.add_line(cart, variant.pk, 5)
    services.add_line(cart, variant.pk, 4, customizations=WRAP)
    with pytest.raises(errors.InsufficientStock, match="you already have 9 in your cart"):
        services.add_line(cart, variant.pk, 4, customizations=ENGRAVE_A)
    services.add_line(cart, variant.pk, 3, customizations=ENGRAVE_A)  # exactly 12
    with pytest.raises(errors.InsufficientStock):
        services.add_line(cart, variant.pk, 1)
    assert sum(CartLine.objects.filter(cart=cart).values_list("quantity", flat=True)) == 12


def test_set_quantity_counts_the_variants_other_lines() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(stock=12))
    plain = services.add_line(cart, variant.pk, 6)
    wrapped = services.add_line(cart, variant.pk, 6, customizations=WRAP)
    with pytest.raises(errors.InsufficientStock, match="Only 12"):
        services.set_quantity(cart, wrapped.pk, 7)
    services.set_quantity(cart, plain.pk, 2)
    assert services.set_quantity(cart, wrapped.pk, 10) is not None


def test_backorder_and_untracked_variants_have_no_variant_cap_but_99_per_line() -> None:
    cart = guest_cart()
    backorder = variant_of(make_product(stock=3, allow_backorder=True))
    untracked = variant_of(make_product(stock=0, track_quantity=False))
    for variant in (backorder, untracked):
        services.add_line(cart, variant.pk, 99)
        services.add_line(cart, variant.pk, 99, customizations=WRAP)  # 99 per *line*
        with pytest.raises(errors.InvalidQuantity, match="at most 99"):
            services.add_line(cart, variant.pk, 1, customizations=WRAP)
    assert not selectors.priced_cart(cart).issues


def test_priced_cart_flags_every_line_of_an_oversold_variant_and_blocks_checkout() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(name="Field Jacket", stock=12))
    other = variant_of(make_product(stock=12))
    services.add_line(cart, variant.pk, 8)
    services.add_line(cart, variant.pk, 4, customizations=WRAP)
    services.add_line(cart, other.pk, 2)
    view = selectors.priced_cart(cart)
    assert not view.checkout_blocked
    assert [row.max_quantity for row in view.lines] == [8, 4, 12]  # the rest of the stock
    variant.stock.on_hand = 10
    variant.stock.save()
    view = selectors.priced_cart(cart)
    assert view.checkout_blocked
    expected = (
        "Only 10 of Field Jacket available, and your cart has 12 of it across 2 lines; "
        "lower the quantities to continue."
    )
    assert view.issues == (expected,)  # one message for the variant, not one per line
    assert [row.issue for row in view.lines] == [expected, expected, ""]


def test_merge_caps_the_sum_over_all_lines_of_the_variant() -> None:
    user = make_user()
    mine = services.get_or_create_cart(user=user, session=new_session())
    variant = variant_of(make_product(name="Trail Mug", stock=12))
    services.add_line(mine, variant.pk, 8)
    guest = guest_cart()
    services.add_line(guest, variant.pk, 3, customizations=WRAP)
    services.add_line(guest, variant.pk, 3, customizations=ENGRAVE_A)
    services.add_line(guest, variant.pk, 2)
    result = merge.merge_guest_cart(guest.pk, user)
    lines = list(CartLine.objects.filter(cart=mine).order_by("id"))
    assert sum(line.quantity for line in lines) == 12
    assert not selectors.priced_cart(mine).checkout_blocked
    # 8 held; the wrapped 3 fit (11); of the engraved 3 only 1 fits; the plain 2 sum into
    # the customer's plain line of 8, with nothing left: it stays at 8 (capped, not
    # dropped, since the line is kept). Exactly these messages, not "either list".
    assert result.capped == [
        "We could only keep 1 of Trail Mug in your cart (you had 3; 11 more are in "
        "other lines of your cart).",
        "We could only keep 8 of Trail Mug in your cart (you had 10; 4 more are in "
        "other lines of your cart).",
    ]
    assert result.dropped == []


def test_html_checkout_gate_counts_every_line_of_the_variant(client: Client) -> None:
    """The cart page's 'Proceed to checkout' used the per-line check too."""
    variant = variant_of(make_product(name="Camp Stove", stock=12))
    client.post(reverse("cart:add"), {"variant_id": variant.pk, "quantity": 12})
    cart = Cart.objects.get()
    # Two lines of one variant, each within stock alone, together past it.
    CartLine.objects.create(
        cart=cart,
        variant=variant,
        quantity=12,
        unit_price=variant.price,
        customizations=[{"type": "gift_wrap", "name": "Gift wrap", "value": "a"}],
        customizations_key="wrap-a",
    )
    page = client.get(reverse("cart:detail")).content.decode()
    assert 'data-testid="checkout" disabled' in page
    assert "your cart has 24 of it across 2 lines" in page
    assert len(re.findall(r'data-testid="line-issue"', page)) == 2
    response = client.post(reverse("cart:checkout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("cart:detail")
    assert "your cart has 24 of it across 2 lines" in response.content.decode()


def test_a_withdrawn_customization_does_not_hide_the_oversold_variant(settings: Any) -> None:
    """Each problem gets its own message, so a withdrawn customization on the first line
    does not hide the oversold variant ("... across 2 lines")."""
    cart = guest_cart()
    variant = variant_of(make_product(name="Camp Lantern", stock=12))
    services.add_line(cart, variant.pk, 6, customizations=WRAP)
    services.add_line(cart, variant.pk, 6)
    variant.stock.on_hand = 10
    variant.stock.save()
    offered = dict(settings.CART_CUSTOMIZATIONS)
    del offered["gift_wrap"]
    settings.CART_CUSTOMIZATIONS = offered
    view = selectors.priced_cart(cart)
    withdrawn = (
        "Gift wrap is no longer offered for Camp Lantern; "
        "remove the item and add it again to continue."
    )
    oversold = (
        "Only 10 of Camp Lantern available, and your cart has 12 of it across 2 lines; "
        "lower the quantities to continue."
    )
    assert view.issues == (withdrawn, oversold)
    assert [row.issue for row in view.lines] == [f"{withdrawn} {oversold}", oversold]
    assert view.checkout_blocked
