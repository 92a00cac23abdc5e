"""The pure amount math behind checkout.session totals."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from stripe_sandbox.money import (
    MAX_AMOUNT,
    CouponIn,
    LineIn,
    TaxRateIn,
    allocate,
    charge_limit_error,
    session_amounts,
)


def test_no_discount_no_tax() -> None:
    t = session_amounts([LineIn(1999, 2), LineIn(500, 1)], None, 0)
    assert (t.amount_subtotal, t.amount_discount, t.amount_tax, t.amount_total) == (
        4498,
        0,
        0,
        4498,
    )


def test_percent_coupon_rounds_half_up_and_tax_applies_after_discount() -> None:
    vat = TaxRateIn("txr_1", Decimal("20"))
    t = session_amounts([LineIn(1999, 2, (vat,))], CouponIn(percent_off=Decimal("12.5")), 500)
    # 3998 * 12.5% = 499.75 -> 500; tax 20% of 3498 = 699.6 -> 700
    assert t.amount_discount == 500
    assert t.amount_tax == 700
    assert t.amount_shipping == 500
    assert t.amount_total == 3998 - 500 + 500 + 700
    assert t.lines[0].amount_total == 3498 + 700


def test_amount_off_is_capped_at_subtotal_and_never_touches_shipping() -> None:
    t = session_amounts([LineIn(300, 1)], CouponIn(amount_off=1000), 450)
    assert t.amount_discount == 300
    assert t.amount_total == 450


def test_discount_is_allocated_proportionally_and_taxed_per_line() -> None:
    vat = TaxRateIn("txr_vat", Decimal("19"))
    reduced = TaxRateIn("txr_red", Decimal("7"))
    lines = [LineIn(1000, 1, (vat,)), LineIn(3000, 1, (reduced,)), LineIn(1, 1)]
    t = session_amounts(lines, CouponIn(amount_off=1001), 0)
    # exact shares 250.19, 750.56, 0.25: the leftover unit goes to the largest remainder
    assert [x.amount_discount for x in t.lines] == [250, 751, 0]
    assert t.lines[0].amount_tax == 143  # 19% of 750 = 142.5 -> 143
    assert t.lines[1].amount_tax == 157  # 7% of 2249 = 157.43 -> 157
    assert t.tax_by_rate == {"txr_vat": (143, 750), "txr_red": (157, 2249)}
    assert t.amount_total == 4001 - 1001 + 143 + 157


def test_allocate_largest_remainder() -> None:
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(0, [5, 5]) == [0, 0]
    assert allocate(7, [0, 0]) == [0, 0]


@given(
    st.lists(st.tuples(st.integers(0, 100_000), st.integers(1, 20)), min_size=1, max_size=8),
    st.one_of(st.none(), st.integers(1, 100), st.decimals(1, 100, places=2)),
    st.integers(0, 5000),
    st.decimals(0, 30, places=3),
)
def test_totals_are_consistent(
    lines: list[tuple[int, int]], coupon: int | Decimal | None, shipping: int, rate: Decimal
) -> None:
    c = None
    if isinstance(coupon, Decimal):
        c = CouponIn(percent_off=coupon)
    elif isinstance(coupon, int):
        c = CouponIn(amount_off=coupon * 100)
    t = session_amounts([LineIn(u, q, (TaxRateIn("r", rate),)) for u, q in lines], c, shipping)
    assert t.amount_subtotal == sum(u * q for u, q in lines)
    assert 0 <= t.amount_discount <= t.amount_subtotal
    assert sum(x.amount_discount for x in t.lines) == t.amount_discount
    assert sum(x.amount_tax for x in t.lines) == t.amount_tax
    assert t.amount_total == t.amount_subtotal - t.amount_discount + shipping + t.amount_tax
    assert all(x.amount_total >= 0 for x in t.lines)


def test_charge_limits() -> None:
    assert charge_limit_error(0, "usd") is None  # nothing to charge: no minimum
    assert charge_limit_error(50, "usd") is None
    assert charge_limit_error(MAX_AMOUNT, "usd") is None
    assert charge_limit_error(49, "usd") == (
        "The Checkout Session's total amount due must add up to at least $0.50 usd"
    )
    assert charge_limit_error(29, "gbp") is not None
    assert charge_limit_error(30, "gbp") is None
    assert "¥50 jpy" in str(charge_limit_error(49, "jpy"))
    assert "no more than $999,999.99 usd" in str(charge_limit_error(MAX_AMOUNT + 1, "usd"))
