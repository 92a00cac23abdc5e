"""The cart's loader reads everything pricing needs in a fixed number of queries, however
many lines the cart has, and the snapshot it returns prices to the same figures as the page."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest

from apps.cart import selectors, services
from apps.cart.models import Cart
from tests.factories import make_coupon, make_product, make_user, new_session, variant_of

pytestmark = pytest.mark.django_db

AssertMax = Callable[[int], AbstractContextManager[object]]

# Lines with variant, product and stock; primary images; categories; applied coupons and
# their four rule sets; the customer's redeemed uses.
SNAPSHOT_MAX_QUERIES = 9


def customer_cart_with(lines: int) -> Cart:
    user = make_user(f"snap{lines}@example.com")
    cart = services.get_or_create_cart(user=user, session=new_session())
    for _ in range(lines):
        services.add_line(cart, variant_of(make_product(price="10.00", stock=10)).pk, 1)
    make_coupon("SNAP5", type="fixed_amount", value="5", combinable=True)
    make_coupon("SHIPSNAP", type="free_shipping", value="0", combinable=True)
    services.apply_coupon(cart, "SNAP5", user=user, email=user.email)
    services.apply_coupon(cart, "SHIPSNAP", user=user, email=user.email)
    return cart


@pytest.mark.parametrize("lines", [2, 20])
def test_snapshot_queries_do_not_grow_with_lines(
    django_assert_max_num_queries: AssertMax, lines: int
) -> None:
    cart = customer_cart_with(lines)
    with django_assert_max_num_queries(SNAPSHOT_MAX_QUERIES):
        snapshot = selectors.load_cart_snapshot(cart)
    assert len(snapshot.lines) == lines
    assert [c.code for c in snapshot.coupons] == ["SNAP5", "SHIPSNAP"]
    assert snapshot.customer_usage == {}


def test_snapshot_is_plain_data_and_prices_like_the_page() -> None:
    cart = customer_cart_with(2)
    snapshot = selectors.load_cart_snapshot(cart)
    line = snapshot.lines[0]
    assert (line.current_price, line.quantity, line.stock.available) == (Decimal("10.00"), 1, 10)
    assert line.product_url.startswith("/")
    priced = selectors.priced_cart(cart)
    assert priced.subtotal == Decimal("20.00")
    assert priced.discount_total == Decimal("5.00")
    assert priced.estimated_total == Decimal("15.00")
    assert priced.free_shipping
