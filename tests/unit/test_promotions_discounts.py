"""Property tests for the discount engine: the invariants hold for any lines and coupons."""

from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.promotions.discounts import (
    BUY_X_GET_Y,
    FIXED_AMOUNT,
    FREE_SHIPPING,
    PERCENTAGE,
    DiscountCoupon,
    DiscountLine,
    allocate,
    compute_discounts,
)

CENT = Decimal("0.01")
prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("5000.00"), places=2)
amounts = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("10000.00"), places=2)


@st.composite
def lines_strategy(draw: st.DrawFn) -> list[DiscountLine]:
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        DiscountLine(
            line_id=i + 1,
            product_id=draw(st.integers(min_value=1, max_value=5)),
            unit_price=draw(prices),
            quantity=draw(st.integers(min_value=1, max_value=99)),
            category_ids=frozenset(draw(st.sets(st.integers(1, 4), max_size=2))),
        )
        for i in range(count)
    ]


@st.composite
def coupon_strategy(draw: st.DrawFn, coupon_id: int) -> DiscountCoupon:
    kind = draw(st.sampled_from([PERCENTAGE, FIXED_AMOUNT, FREE_SHIPPING, BUY_X_GET_Y]))
    value = (
        draw(st.decimals(min_value=0, max_value=100, places=2))
        if kind in (PERCENTAGE, BUY_X_GET_Y)
        else draw(amounts)
    )
    return DiscountCoupon(
        coupon_id=coupon_id,
        code=f"C{coupon_id}",
        type=kind,
        value=value,
        maximum_discount=draw(st.none() | amounts),
        buy_quantity=draw(st.integers(1, 4)) if kind == BUY_X_GET_Y else None,
        get_quantity=draw(st.integers(1, 3)) if kind == BUY_X_GET_Y else None,
        applicable_product_ids=frozenset(draw(st.sets(st.integers(1, 5), max_size=2))),
        excluded_product_ids=frozenset(draw(st.sets(st.integers(1, 5), max_size=1))),
        applicable_category_ids=frozenset(draw(st.sets(st.integers(1, 4), max_size=1))),
        excluded_category_ids=frozenset(draw(st.sets(st.integers(1, 4), max_size=1))),
    )


@st.composite
def coupons_strategy(draw: st.DrawFn) -> list[DiscountCoupon]:
    n = draw(st.integers(min_value=0, max_value=4))
    return [draw(coupon_strategy(i + 1)) for i in range(n)]


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy(), coupons=coupons_strategy())
def test_engine_invariants(lines: list[DiscountLine], coupons: list[DiscountCoupon]) -> None:
    result = compute_discounts(lines, coupons, currency="USD")
    totals = {line.line_id: line.unit_price * line.quantity for line in lines}
    assert result.subtotal == sum(totals.values(), Decimal("0"))
    # Never more than a line's total, never negative, always whole cents.
    for line_id, discount in result.per_line.items():
        assert Decimal("0") <= discount <= totals[line_id]
        assert discount == discount.quantize(CENT)
    assert result.discounted_subtotal >= 0
    # Per-coupon amounts add up, and each coupon's lines add up to its amount.
    assert result.total_discount == sum((c.amount for c in result.coupons), Decimal("0"))
    assert result.total_discount == sum(result.per_line.values(), Decimal("0"))
    for coupon_result, coupon in zip(result.coupons, coupons, strict=True):
        assert coupon_result.coupon_id == coupon.coupon_id
        assert coupon_result.amount == sum(coupon_result.per_line.values(), Decimal("0"))
        assert coupon_result.amount >= 0
        if coupon.maximum_discount is not None:
            assert coupon_result.amount <= coupon.maximum_discount
        # Only eligible lines are discounted.
        eligible = {line.line_id for line in lines if coupon.covers(line)}
        assert set(coupon_result.per_line) <= eligible
        if coupon.type == FREE_SHIPPING:
            assert coupon_result.amount == 0
            assert coupon_result.free_shipping == bool(eligible)
    assert result.free_shipping == any(c.free_shipping for c in result.coupons)


@settings(max_examples=300, deadline=None)
@given(
    amount=amounts,
    weights=st.lists(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2),
        min_size=1,
        max_size=10,
    ),
)
def test_allocation_is_exact_proportional_and_capped(
    amount: Decimal, weights: list[Decimal]
) -> None:
    by_line = dict(enumerate(weights))
    shares = allocate(amount, by_line, by_line, "USD")
    total = sum(by_line.values(), Decimal("0"))
    assert sum(shares.values(), Decimal("0")) == min(amount, total)
    for i, share in shares.items():
        assert Decimal("0") <= share <= by_line[i]
        exact = min(amount, total) * by_line[i] / total
        # Rounding moves any share by at most a cent per line, except the remainder taker.
        assert abs(share - exact) <= CENT * len(weights)


@given(lines=lines_strategy())
def test_percentage_of_full_cart_matches_rounded_percentage(lines: list[DiscountLine]) -> None:
    coupon = DiscountCoupon(1, "TEN", PERCENTAGE, Decimal("10"))
    result = compute_discounts(lines, [coupon], currency="USD")
    expected = (result.subtotal * Decimal("0.10")).quantize(CENT, rounding=ROUND_HALF_UP)
    assert result.total_discount == expected


def test_remainder_goes_to_largest_line() -> None:
    lines = [
        DiscountLine(1, 1, Decimal("10.00"), 1),
        DiscountLine(2, 2, Decimal("10.00"), 1),
        DiscountLine(3, 3, Decimal("20.00"), 1),
    ]
    result = compute_discounts(
        lines, [DiscountCoupon(1, "ONE", FIXED_AMOUNT, Decimal("1.00"))], currency="USD"
    )
    assert result.per_line == {1: Decimal("0.25"), 2: Decimal("0.25"), 3: Decimal("0.50")}
    odd = compute_discounts(
        lines, [DiscountCoupon(1, "ODD", FIXED_AMOUNT, Decimal("0.03"))], currency="USD"
    )
    # 0.0075 -> 0.01, 0.0075 -> 0.01, 0.015 -> 0.02 = 0.04; the largest line gives a cent back.
    assert odd.total_discount == Decimal("0.03")
    assert odd.per_line[3] == Decimal("0.01")


def test_buy_two_get_one_half_price_discounts_the_cheapest_unit() -> None:
    lines = [DiscountLine(1, 1, Decimal("30.00"), 2), DiscountLine(2, 2, Decimal("10.00"), 1)]
    coupon = DiscountCoupon(1, "B2G1", BUY_X_GET_Y, Decimal("50"), buy_quantity=2, get_quantity=1)
    result = compute_discounts(lines, [coupon], currency="USD")
    assert result.total_discount == Decimal("5.00")
    assert result.per_line[2] == Decimal("5.00")


def test_fixed_amount_never_exceeds_the_cart_and_priority_orders_coupons() -> None:
    lines = [DiscountLine(1, 1, Decimal("20.00"), 1)]
    fixed = DiscountCoupon(1, "FIVE", FIXED_AMOUNT, Decimal("50.00"))
    assert compute_discounts(lines, [fixed], currency="USD").total_discount == Decimal("20.00")
    pct = DiscountCoupon(2, "TEN", PERCENTAGE, Decimal("10"))
    five = DiscountCoupon(1, "FIVE", FIXED_AMOUNT, Decimal("5.00"))
    # Percentage first (default priority): 2.00 off 20, then 5 off the remaining 18.
    result = compute_discounts(lines, [five, pct], currency="USD")
    assert [c.amount for c in result.coupons] == [Decimal("5.00"), Decimal("2.00")]
    # Fixed first: 5 off, then 10% of 15 = 1.50.
    result = compute_discounts(
        lines, [five, pct], currency="USD", priority=[FIXED_AMOUNT, PERCENTAGE]
    )
    assert [c.amount for c in result.coupons] == [Decimal("5.00"), Decimal("1.50")]


def test_maximum_discount_caps_a_percentage() -> None:
    lines = [DiscountLine(1, 1, Decimal("500.00"), 1)]
    coupon = DiscountCoupon(1, "BIG", PERCENTAGE, Decimal("50"), maximum_discount=Decimal("25"))
    assert compute_discounts(lines, [coupon], currency="USD").total_discount == Decimal("25.00")
