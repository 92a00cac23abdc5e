"""Checkout totals without a database: the priced cart plus shipping and tax, by example and
as Hypothesis properties (never negative, discount never above the subtotal, total exactly
subtotal - discounts + shipping + tax, no tax on a non-taxable line)."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.cart.calculations import PricedCart, price_cart
from apps.cart.snapshot import CartSnapshot
from apps.checkout.pricing import checkout_totals
from apps.checkout.shipping import ShippingQuote
from apps.checkout.tax import RateSnapshot
from apps.promotions.discounts import FIXED_AMOUNT, FREE_SHIPPING, PERCENTAGE
from apps.promotions.rules import CombinabilityPolicy
from tests.unit.test_price_cart import NOW, POLICY, cart, carts, coupon, line

D = Decimal
CENT = D("0.01")


def rate(rate_id: int, value: str, *, shipping: bool = False) -> RateSnapshot:
    return RateSnapshot(rate_id, f"rate {rate_id}", "US", "CA", "", D(value), "sales", shipping)


def shipping_quote(cost: str, *, free: bool = False) -> ShippingQuote:
    return ShippingQuote(
        method_id=1,
        name="Standard",
        description="",
        carrier="USPS",
        service_level="standard",
        cost=D(cost),
        currency="USD",
        free=free,
        min_days=2,
        max_days=4,
        earliest=date(2026, 12, 4),
        latest=date(2026, 12, 8),
        tracking=True,
        signature=False,
    )


def priced(snapshot: CartSnapshot) -> PricedCart:
    return price_cart(snapshot, POLICY, NOW)


def test_total_is_subtotal_minus_discounts_plus_shipping_plus_tax() -> None:
    # Two lines of 50.00; 10% off: 90.00; shipping 8.00; 7.25% on goods only: 6.53 (3.26+3.26
    # per line, 3.2625 each rounds to 3.26).
    result = priced(
        cart(
            line(1, current_price=D("50.00"), added_unit_price=D("50.00")),
            line(2, current_price=D("50.00"), added_unit_price=D("50.00")),
            coupons=(coupon(1, PERCENTAGE, "10"),),
        )
    )
    totals = checkout_totals(
        result,
        shipping=shipping_quote("8.00"),
        rates=[rate(1, "0.0725")],
        taxable={},
        currency="USD",
    )
    assert (totals.subtotal, totals.discount_total, totals.shipping) == (
        D("100.00"),
        D("10.00"),
        D("8.00"),
    )
    assert totals.tax is not None
    assert totals.tax.per_line == {1: D("3.26"), 2: D("3.26")}
    assert totals.tax_total == D("6.52")
    assert totals.total == D("104.52")
    assert [(c.code, c.amount) for c in totals.coupon_discounts] == [("C1", D("10.00"))]
    assert totals.line_discounts == {1: D("5.00"), 2: D("5.00")}
    assert totals.line_amounts == {1: D("45.00"), 2: D("45.00")}


def test_before_an_address_there_is_no_tax_or_shipping() -> None:
    totals = checkout_totals(
        priced(cart(line(1))), shipping=None, rates=[], taxable={}, currency="USD"
    )
    assert (totals.shipping, totals.tax, totals.tax_total) == (None, None, None)
    assert totals.total == D("10.00")


def test_rates_without_a_method_give_tax_on_the_goods() -> None:
    totals = checkout_totals(
        priced(cart(line(1))),
        shipping=None,
        rates=[rate(1, "0.10", shipping=True)],
        taxable={},
        currency="USD",
    )
    assert totals.tax_total == D("1.00")
    assert totals.shipping is None
    assert totals.total == D("11.00")


def test_shipping_taxed_where_the_rate_says_so() -> None:
    totals = checkout_totals(
        priced(cart(line(1))),
        shipping=shipping_quote("5.00"),
        rates=[rate(1, "0.20", shipping=True)],
        taxable={},
        currency="USD",
    )
    assert totals.tax_total == D("3.00")
    assert totals.total == D("18.00")


def test_a_non_taxable_line_pays_no_tax() -> None:
    snapshot = cart(line(1), replace(line(2), taxable=False))
    totals = checkout_totals(
        priced(snapshot), shipping=None, rates=[rate(1, "0.10")], taxable={}, currency="USD"
    )
    assert totals.tax is not None
    assert totals.tax.per_line == {1: D("1.00"), 2: D("0.00")}
    # The mapping given by the caller wins over the snapshot's flag.
    overridden = checkout_totals(
        priced(snapshot), shipping=None, rates=[rate(1, "0.10")], taxable={1: False}, currency="USD"
    )
    assert overridden.tax_total == D("0.00")


def test_a_free_shipping_coupon_shows_on_the_totals() -> None:
    result = priced(cart(line(1), coupons=(coupon(1, FREE_SHIPPING, "0"),)))
    totals = checkout_totals(
        result, shipping=shipping_quote("0.00", free=True), rates=[], taxable={}, currency="USD"
    )
    assert totals.free_shipping
    assert totals.shipping == D("0.00")
    assert totals.coupon_discounts[0].free_shipping
    assert totals.total == D("10.00")


def test_a_discount_larger_than_the_cart_leaves_nothing_to_pay_for_goods() -> None:
    result = priced(cart(line(1), coupons=(coupon(1, FIXED_AMOUNT, "50.00"),)))
    totals = checkout_totals(
        result,
        shipping=shipping_quote("4.99"),
        rates=[rate(1, "0.0725")],
        taxable={},
        currency="USD",
    )
    assert totals.discount_total == D("10.00")
    assert totals.tax_total == D("0.00")
    assert totals.total == D("4.99")


# Properties.

quotes = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=500, places=2).map(lambda v: shipping_quote(str(v))),
)
rate_lists = st.lists(
    st.builds(
        lambda i, v, s: rate(i, str(v), shipping=s),
        st.integers(1, 1000),
        st.decimals(min_value=0, max_value=D("0.99999"), places=5),
        st.booleans(),
    ),
    max_size=3,
)


@settings(max_examples=300, deadline=None)
@given(carts(), quotes, rate_lists, st.data())
def test_totals_properties(
    snapshot: CartSnapshot,
    quote: ShippingQuote | None,
    rates: list[RateSnapshot],
    data: st.DataObject,
) -> None:
    flags = {
        line.line_id: data.draw(st.booleans(), label=f"taxable {line.line_id}")
        for line in snapshot.lines
    }
    result = price_cart(snapshot, CombinabilityPolicy(max_coupons_per_order=3), NOW)
    totals = checkout_totals(result, shipping=quote, rates=rates, taxable=flags, currency="USD")
    shipping = totals.shipping or D("0")
    tax = totals.tax_total or D("0")
    assert totals.total >= 0
    assert 0 <= totals.discount_total <= totals.subtotal
    assert totals.total == totals.subtotal - totals.discount_total + shipping + tax
    for amount in (totals.subtotal, totals.discount_total, shipping, tax, totals.total):
        assert amount == amount.quantize(CENT)
    if totals.tax is not None:
        assert totals.tax.total == sum((t.amount for t in totals.tax.lines), D("0"))
        for line_id, taxable in flags.items():
            if not taxable:
                assert totals.tax.per_line[line_id] == 0
            assert totals.tax.per_line[line_id] >= 0
    else:
        assert quote is None
        assert not rates
