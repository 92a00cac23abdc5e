"""The cart never counts a code the signed-in customer can no longer use.

Merge, adoption and the cart view run the same usage checks (overall and per customer) as
applying the code directly."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.cart import errors, merge, selectors, services
from apps.cart.models import Cart, CartCoupon
from apps.promotions import rules
from apps.promotions.services import confirm_usage, reserve_usage
from tests.factories import (
    guest_cart,
    make_coupon,
    make_product,
    make_user,
    new_session,
    variant_of,
)

pytestmark = pytest.mark.django_db

PASSWORD = "a long passphrase 9"


def guest_cart_with(code: str) -> Cart:
    cart = guest_cart()
    services.add_line(cart, variant_of(make_product(price="50.00", stock=10)).pk, 1)
    services.apply_coupon(cart, code, user=None)
    return cart


def redeemed(coupon_id: int, user: object, reference: str) -> None:
    reserve_usage([coupon_id], user=user, email="", reference=reference)  # type: ignore[arg-type]
    confirm_usage(reference)


def test_adopted_guest_cart_drops_a_code_the_customer_has_used_up() -> None:
    user = make_user("used@example.com")
    welcome = make_coupon("WELCOME10", per_customer_limit=1)
    redeemed(welcome.pk, user, "order-1")
    guest = guest_cart_with("WELCOME10")
    result = merge.merge_guest_cart(guest.pk, user)
    assert result.cart is not None
    assert result.cart.pk == guest.pk  # adopted
    assert not CartCoupon.objects.filter(cart=guest).exists()
    assert result.dropped_coupons == [
        "The code WELCOME10 from your guest cart was not kept: "
        "You have already used this code (it can be used once per customer)."
    ]
    with pytest.raises(errors.CouponRejected):  # the same answer as applying it directly
        services.apply_coupon(result.cart, "WELCOME10", user=user, email=user.email)


def test_merged_guest_code_is_checked_against_the_customer_and_the_overall_limit() -> None:
    user = make_user("merge@example.com")
    mine = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(mine, variant_of(make_product(stock=10)).pk, 1)
    once = make_coupon("ONCE", per_customer_limit=1, combinable=True)
    guest = guest_cart_with("ONCE")
    # Used before by a guest checkout with the customer's email: it counts, as on apply.
    reserve_usage([once.pk], user=None, email="MERGE@example.com", reference="guest-order")
    result = merge.merge_guest_cart(guest.pk, user)
    assert selectors.applied_coupons(mine) == []
    assert "ONCE" in result.dropped_coupons[0]
    assert "already used" in result.dropped_coupons[0]

    full = make_coupon("FULL", usage_limit=1, type="free_shipping", combinable=True)
    guest = guest_cart_with("FULL")
    reserve_usage([full.pk], user=make_user(), email="", reference="someone-else")
    result = merge.merge_guest_cart(guest.pk, user)
    assert selectors.applied_coupons(mine) == []
    assert "fully redeemed" in result.dropped_coupons[0]


def test_priced_cart_does_not_count_a_code_the_customer_has_redeemed() -> None:
    user = make_user()
    cart = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(cart, variant_of(make_product(price="50.00", stock=10)).pk, 1)
    welcome = make_coupon("WELCOME10", per_customer_limit=1)
    services.apply_coupon(cart, "WELCOME10", user=user)
    assert selectors.priced_cart(cart).discount_total == Decimal("5.00")
    redeemed(welcome.pk, user, "order-elsewhere")  # e.g. in another cart, since applied
    view = selectors.priced_cart(cart)
    assert [p.code for p in view.coupons[0].problems] == [rules.PER_CUSTOMER_LIMIT_REACHED]
    assert view.discount_total == 0


def test_priced_cart_counts_a_guest_order_placed_with_the_accounts_email() -> None:
    user = make_user("buyer@example.com")
    cart = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(cart, variant_of(make_product(price="50.00", stock=10)).pk, 1)
    welcome = make_coupon("WELCOME10", per_customer_limit=1)
    services.apply_coupon(cart, "WELCOME10", user=user)
    reserve_usage([welcome.pk], user=None, email="Buyer@Example.com", reference="guest-order")
    confirm_usage("guest-order")
    assert not selectors.priced_cart(cart).coupons[0].valid


def test_priced_cart_still_counts_a_code_reserved_by_its_own_payment_in_flight() -> None:
    """A reservation is the customer's checkout in progress (one active cart each): it
    must not turn the cart's own code invalid while they pay."""
    user = make_user()
    cart = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(cart, variant_of(make_product(price="50.00", stock=10)).pk, 1)
    welcome = make_coupon("WELCOME10", per_customer_limit=1)
    services.apply_coupon(cart, "WELCOME10", user=user)
    reserve_usage([welcome.pk], user=user, email="", reference="this-checkout")
    assert selectors.priced_cart(cart).coupons[0].valid


def test_sign_in_shows_the_dropped_code(client: Client) -> None:
    """Signing in through the pages shows the code the customer can no longer use as dropped."""
    user = make_user("shopper@example.com", password=PASSWORD)
    welcome = make_coupon("WELCOME10", per_customer_limit=1)
    redeemed(welcome.pk, user, "order-1")
    variant = variant_of(make_product(price="50.00", stock=10))
    client.post(reverse("cart:add"), {"variant_id": variant.pk, "quantity": 1})
    html = client.get(reverse("cart:detail")).content.decode()
    version = html.split('data-cart-version="')[1].split('"')[0]
    client.post(reverse("cart:apply_coupon"), {"code": "WELCOME10", "version": version})
    page = client.post(
        reverse("accounts:sign_in"),
        {"email": "shopper@example.com", "password": PASSWORD, "next": "/cart/"},
        follow=True,
    )
    html = page.content.decode()
    assert "The code WELCOME10 from your guest cart was not kept" in html
    cart = Cart.objects.get(user=user)
    view = selectors.priced_cart(cart)
    assert view.coupons == ()
    assert view.discount_total == 0


@pytest.mark.parametrize("coupons", [1, 2])
def test_signed_in_cart_page_query_count_does_not_grow_with_coupons(
    client: Client, django_assert_max_num_queries: object, coupons: int
) -> None:
    user = make_user("qc@example.com", password=PASSWORD)
    client.login(username="qc@example.com", password=PASSWORD)
    cart = services.get_or_create_cart(user=user, session=new_session())
    for _ in range(5):
        services.add_line(cart, variant_of(make_product(stock=10)).pk, 1)
    codes = [("PCT", "percentage"), ("SHIP", "free_shipping")][:coupons]
    for code, kind in codes:
        make_coupon(code, type=kind, combinable=True, per_customer_limit=1)
        services.apply_coupon(cart, code, user=user)
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        page = client.get(reverse("cart:detail"))
    assert page.status_code == 200
