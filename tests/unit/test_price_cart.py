"""`price_cart` without a database: snapshots built by hand, every line and coupon problem,
price changes, and the totals' invariants (Hypothesis)."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.cart.calculations import PricedCart, price_cart
from apps.cart.customizations import price_customizations, reprice_customizations
from apps.cart.snapshot import AppliedCouponSnapshot, CartSnapshot, LineSnapshot
from apps.inventory.availability import StockState, StockStatus
from apps.promotions import rules
from apps.promotions.discounts import (
    BUY_X_GET_Y,
    FIXED_AMOUNT,
    FREE_SHIPPING,
    PERCENTAGE,
    DiscountCoupon,
)
from apps.promotions.rules import CombinabilityPolicy, CouponFacts
from tests.support import imports_of

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
POLICY = CombinabilityPolicy()
ENGRAVING = {"engraving": {"name": "Engraving", "price": "2.50", "max_length": 20}}
IN_STOCK = StockStatus(StockState.IN_STOCK, 50)


def line(line_id: int = 1, **kwargs: Any) -> LineSnapshot:
    values: dict[str, Any] = {
        "variant_id": line_id,
        "product_id": line_id,
        "quantity": 1,
        "added_unit_price": Decimal("10.00"),
        "added_customizations_price": Decimal("0.00"),
        "current_price": Decimal("10.00"),
        "stock": IN_STOCK,
        "product_name": f"Item {line_id}",
    }
    values.update(kwargs)
    return LineSnapshot(line_id=line_id, **values)


def coupon(
    coupon_id: int = 1, kind: str = PERCENTAGE, value: str = "10", **kwargs: Any
) -> AppliedCouponSnapshot:
    engine = {
        k: kwargs.pop(k)
        for k in list(kwargs)
        if k
        in {
            "maximum_discount",
            "buy_quantity",
            "get_quantity",
            "applicable_product_ids",
            "excluded_product_ids",
            "applicable_category_ids",
            "excluded_category_ids",
        }
    }
    facts: dict[str, Any] = {
        "name": f"Coupon {coupon_id}",
        "is_active": True,
        "starts_at": NOW - timedelta(days=1),
        "ends_at": NOW + timedelta(days=1),
        "combinable": True,
    }
    facts.update(kwargs)
    return AppliedCouponSnapshot(
        application_id=100 + coupon_id,
        applied_at=NOW,
        facts=CouponFacts(
            discount=DiscountCoupon(coupon_id, f"C{coupon_id}", kind, Decimal(value), **engine),
            **facts,
        ),
    )


def cart(
    *lines: LineSnapshot,
    coupons: tuple[AppliedCouponSnapshot, ...] = (),
    customer_usage: Mapping[int, int] | None = None,
    catalogue: Mapping[str, Mapping[str, object]] | None = None,
    currency: str = "USD",
) -> CartSnapshot:
    return CartSnapshot(
        cart_id=7,
        version=3,
        currency=currency,
        lines=lines,
        coupons=coupons,
        customer_usage=customer_usage,
        customizations=ENGRAVING if catalogue is None else catalogue,
    )


def priced(snapshot: CartSnapshot, policy: CombinabilityPolicy = POLICY) -> PricedCart:
    return price_cart(snapshot, policy, NOW)


def coupon_codes(result: PricedCart) -> list[list[str]]:
    return [[p.code for p in c.problems] for c in result.coupons]


# Purity: the module that computes imports no ORM, settings or clock.


@pytest.mark.parametrize("module", ["calculations", "snapshot", "customizations"])
def test_pricing_modules_import_no_orm_settings_or_clock(module: str) -> None:
    imported = imports_of(f"apps.cart.{module}")
    assert not {m for m in imported if m.startswith(("django", "apps.cart.models"))}, imported


# Line problems.


def test_a_clean_cart_has_no_problems_and_may_check_out() -> None:
    result = priced(cart(line(1, quantity=2), line(2)))
    assert result.issues == ()
    assert not result.checkout_blocked
    assert [row.issue for row in result.lines] == ["", ""]
    assert (result.subtotal, result.estimated_total, result.item_count) == (
        Decimal("30.00"),
        Decimal("30.00"),
        3,
    )
    assert (result.cart_id, result.version, result.currency) == (7, 3, "USD")


def test_an_empty_cart_is_blocked_without_an_issue() -> None:
    result = priced(cart())
    assert result.is_empty
    assert result.checkout_blocked
    assert result.issues == ()
    assert result.estimated_total == Decimal("0.00")


def test_an_unsellable_item_gives_only_that_reason() -> None:
    out = StockStatus(StockState.OUT_OF_STOCK, 0)
    result = priced(cart(line(1, sellable=False, stock=out, product_name="Lamp")))
    assert result.issues == ("Lamp is no longer available; remove it to continue.",)
    assert result.lines[0].problems == result.issues
    assert result.checkout_blocked


def test_out_of_stock() -> None:
    out = StockStatus(StockState.OUT_OF_STOCK, 0)
    result = priced(cart(line(1, stock=out, product_name="Lamp")))
    assert result.issues == ("Lamp is out of stock; remove it to continue.",)


def test_more_than_available_on_one_line() -> None:
    low = StockStatus(StockState.LOW_STOCK, 2)
    result = priced(cart(line(1, quantity=3, stock=low, product_name="Lamp")))
    assert result.issues == ("Only 2 of Lamp available; lower the quantity to continue.",)
    assert result.lines[0].max_quantity == 3  # never below what the line holds


def test_more_than_available_across_lines_of_one_variant_is_one_issue() -> None:
    stock = StockStatus(StockState.IN_STOCK, 5)
    plain = line(1, variant_id=9, quantity=3, stock=stock, product_name="Lamp")
    engraved = line(
        2,
        variant_id=9,
        quantity=3,
        stock=stock,
        product_name="Lamp",
        customizations=({"type": "engraving", "name": "Engraving", "value": "A"},),
    )
    other = line(3)
    result = priced(cart(plain, engraved, other))
    expected = (
        "Only 5 of Lamp available, and your cart has 6 of it across 2 lines; "
        "lower the quantities to continue."
    )
    assert result.issues == (expected,)
    assert [row.issue for row in result.lines] == [expected, expected, ""]


def test_lines_of_one_variant_within_stock_share_it_in_the_quantity_field() -> None:
    stock = StockStatus(StockState.IN_STOCK, 12)
    result = priced(
        cart(
            line(1, variant_id=9, quantity=4, stock=stock),
            line(2, variant_id=9, quantity=4, stock=stock),
        )
    )
    assert result.issues == ()
    assert [row.max_quantity for row in result.lines] == [8, 8]


def test_backorder_and_untracked_lines_are_never_short() -> None:
    backorder = StockStatus(StockState.BACKORDER, 0, backorder=True)
    untracked = StockStatus(StockState.IN_STOCK, None)
    result = priced(cart(line(1, quantity=60, stock=backorder), line(2, stock=untracked)))
    assert result.issues == ()
    assert [row.max_quantity for row in result.lines] == [99, 99]


def test_a_withdrawn_customization_blocks_and_keeps_its_stored_price() -> None:
    stored = ({"type": "gift_wrap", "name": "Gift wrap", "value": "", "price": "4.00"},)
    row = line(
        1,
        product_name="Lamp",
        customizations=stored,
        added_customizations_price=Decimal("4.00"),
    )
    result = priced(cart(row))
    assert result.issues == (
        "Gift wrap is no longer offered for Lamp; remove the item and add it again to continue.",
    )
    assert result.lines[0].unit_price == Decimal("14.00")
    assert not result.lines[0].price_changed


def test_a_line_shows_every_problem_and_the_cart_each_once() -> None:
    stored = ({"type": "gift_wrap", "name": "Gift wrap", "value": "", "price": "0"},)
    out = StockStatus(StockState.OUT_OF_STOCK, 0)
    result = priced(cart(line(1, stock=out, customizations=stored, product_name="Lamp")))
    assert len(result.lines[0].problems) == 2
    assert result.issues == result.lines[0].problems


# Price changes.


def test_a_price_that_went_up_since_added() -> None:
    result = priced(cart(line(1, quantity=2, current_price=Decimal("12.00"))))
    row = result.lines[0]
    assert (row.added_unit_price, row.unit_price) == (Decimal("10.00"), Decimal("12.00"))
    assert row.price_changed
    assert row.price_went_up
    assert row.line_total == result.subtotal == Decimal("24.00")
    assert not result.checkout_blocked  # a changed price is shown, not a problem


def test_a_price_that_went_down_since_added() -> None:
    row = priced(cart(line(1, current_price=Decimal("8.00")))).lines[0]
    assert row.price_changed
    assert not row.price_went_up


def test_a_customization_is_repriced_at_todays_catalogue_price() -> None:
    stored = ({"type": "engraving", "name": "Engraving", "value": "A", "price": "2.50"},)
    row = line(1, customizations=stored, added_customizations_price=Decimal("2.50"))
    same = priced(cart(row)).lines[0]
    assert same.unit_price == Decimal("12.50")
    assert not same.price_changed
    dearer = {"engraving": {"name": "Engraving", "price": "4.00"}}
    result = priced(cart(row, catalogue=dearer))
    repriced = result.lines[0]
    assert (repriced.added_unit_price, repriced.unit_price) == (
        Decimal("12.50"),
        Decimal("14.00"),
    )
    assert repriced.price_went_up
    assert [c["price"] for c in repriced.customizations] == ["4.00"]
    assert result.issues == ()


def test_customizations_are_rounded_in_the_carts_currency() -> None:
    """A yen cart's customization costs whole yen, not yen and cents."""
    items, total = price_customizations([{"type": "engraving", "value": "A"}], ENGRAVING, "JPY")
    assert total == Decimal("3")
    assert items[0]["price"] == "3"
    assert reprice_customizations(items, ENGRAVING, "JPY").price == Decimal("3")
    assert price_customizations([{"type": "engraving"}], ENGRAVING, "USD")[1] == Decimal("2.50")


# Coupon problems: each rule, through price_cart.


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"is_active": False}, rules.INACTIVE),
        ({"ends_at": NOW - timedelta(seconds=1)}, rules.EXPIRED),
        ({"starts_at": NOW + timedelta(days=1)}, rules.NOT_STARTED),
        ({"minimum_order_amount": Decimal("50.00")}, rules.MINIMUM_NOT_MET),
        ({"applicable_product_ids": frozenset({99})}, rules.NOT_APPLICABLE),
        ({"excluded_product_ids": frozenset({1})}, rules.NOT_APPLICABLE),
        ({"applicable_category_ids": frozenset({5})}, rules.NOT_APPLICABLE),
        ({"excluded_category_ids": frozenset({4})}, rules.NOT_APPLICABLE),
    ],
)
def test_a_coupon_that_does_not_apply_is_listed_with_its_reason_and_not_counted(
    kwargs: dict[str, Any], code: str
) -> None:
    result = priced(cart(line(1, category_ids=frozenset({3, 4})), coupons=(coupon(1, **kwargs),)))
    assert coupon_codes(result) == [[code]]
    assert not result.coupons[0].valid
    assert result.coupons[0].amount == Decimal("0.00")
    assert result.discount_total == Decimal("0.00")
    assert not result.checkout_blocked  # an invalid code is not counted, not a blocker


def test_a_category_coupon_covers_subcategories_through_the_ancestors() -> None:
    result = priced(
        cart(
            line(1, category_ids=frozenset({3, 4})),
            coupons=(coupon(1, applicable_category_ids=frozenset({3})),),
        )
    )
    assert result.coupons[0].valid
    assert result.discount_total == Decimal("1.00")


def test_buy_x_get_y_needs_enough_eligible_units() -> None:
    bxgy = coupon(1, BUY_X_GET_Y, "50", buy_quantity=2, get_quantity=1)
    short = priced(cart(line(1, quantity=2), coupons=(bxgy,)))
    assert coupon_codes(short) == [[rules.NOT_APPLICABLE]]
    enough = priced(cart(line(1, quantity=3), coupons=(bxgy,)))
    assert enough.coupons[0].valid
    assert enough.discount_total == Decimal("5.00")  # half of one unit


def test_per_customer_usage_counts_for_a_signed_in_customer_only() -> None:
    once = coupon(1, per_customer_limit=1)
    customer = priced(cart(line(1), coupons=(once,), customer_usage={1: 1}))
    assert coupon_codes(customer) == [[rules.PER_CUSTOMER_LIMIT_REACHED]]
    unused = priced(cart(line(1), coupons=(once,), customer_usage={}))
    assert unused.coupons[0].valid
    guest = priced(cart(line(1), coupons=(once,), customer_usage=None))
    assert guest.coupons[0].valid


def test_the_overall_usage_limit_is_left_to_payment_start() -> None:
    used_up = coupon(1, usage_limit=5, usage_count=5)
    assert priced(cart(line(1), coupons=(used_up,), customer_usage={})).coupons[0].valid


def test_a_coupon_that_does_not_combine_with_an_earlier_one_is_not_counted() -> None:
    first = coupon(1, PERCENTAGE, "10")
    solo = coupon(2, FIXED_AMOUNT, "5", combinable=False)
    result = priced(cart(line(1, current_price=Decimal("50.00")), coupons=(first, solo)))
    assert coupon_codes(result) == [[], [rules.NOT_COMBINABLE]]
    assert result.valid_coupon_ids == [1]
    assert result.discount_total == Decimal("5.00")


def test_too_many_coupons_under_the_policy() -> None:
    policy = CombinabilityPolicy(max_coupons_per_order=1)
    result = priced(cart(line(1), coupons=(coupon(1), coupon(2, FREE_SHIPPING, "0"))), policy)
    assert coupon_codes(result) == [[], [rules.TOO_MANY_COUPONS]]
    assert not result.free_shipping


def test_an_invalid_coupon_does_not_block_a_later_one() -> None:
    expired = coupon(1, PERCENTAGE, "10", ends_at=NOW - timedelta(days=1))
    later = coupon(2, PERCENTAGE, "20")
    result = priced(cart(line(1, current_price=Decimal("50.00")), coupons=(expired, later)))
    assert coupon_codes(result) == [[rules.EXPIRED], []]
    assert result.discount_total == Decimal("10.00")


# Discounts per coupon and per line.


def test_discounts_per_coupon_and_per_line_and_free_shipping() -> None:
    ten = coupon(1, PERCENTAGE, "10")
    ship = coupon(2, FREE_SHIPPING, "0")
    result = priced(
        cart(
            line(1, quantity=2, current_price=Decimal("25.00")),
            line(2, current_price=Decimal("20.00")),
            coupons=(ten, ship),
        )
    )
    assert result.subtotal == Decimal("70.00")
    assert [c.amount for c in result.coupons] == [Decimal("7.00"), Decimal("0.00")]
    assert dict(result.coupons[0].per_line) == {1: Decimal("5.00"), 2: Decimal("2.00")}
    assert [row.discount for row in result.lines] == [Decimal("5.00"), Decimal("2.00")]
    assert result.free_shipping
    assert result.coupons[1].free_shipping
    assert result.estimated_total == Decimal("63.00")
    assert result.coupon(2) is result.coupons[1]


def test_a_discount_never_exceeds_the_cart() -> None:
    result = priced(
        cart(line(1, current_price=Decimal("3.00")), coupons=(coupon(1, FIXED_AMOUNT, "10"),))
    )
    assert result.discount_total == Decimal("3.00")
    assert result.estimated_total == Decimal("0.00")


def test_a_yen_cart_is_priced_in_whole_yen() -> None:
    result = priced(
        cart(
            line(1, current_price=Decimal("999"), quantity=3),
            coupons=(coupon(1, PERCENTAGE, "15"),),
            currency="JPY",
        )
    )
    assert result.subtotal == Decimal("2997")
    assert result.discount_total == Decimal("450")  # 449.55 rounded half-up to the yen
    assert result.estimated_total == Decimal("2547")


# The invariants, for any cart.

prices = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("2000.00"), places=2)
line_strategy = st.builds(
    lambda price, qty, category, sellable: line(
        current_price=price, quantity=qty, category_ids=frozenset({category}), sellable=sellable
    ),
    prices,
    st.integers(min_value=1, max_value=99),
    st.integers(min_value=0, max_value=2),
    st.booleans(),
)


@st.composite
def carts(draw: st.DrawFn) -> CartSnapshot:
    lines = [
        replace(draw(line_strategy), line_id=i, variant_id=i, product_id=i)
        for i in range(1, draw(st.integers(min_value=0, max_value=6)) + 1)
    ]
    kinds = [
        st.builds(
            lambda v: (PERCENTAGE, v, {}),
            st.decimals(min_value=0, max_value=100, places=2),
        ),
        st.builds(lambda v: (FIXED_AMOUNT, v, {}), prices),
        st.builds(
            lambda v, b, g: (BUY_X_GET_Y, v, {"buy_quantity": b, "get_quantity": g}),
            st.decimals(min_value=0, max_value=100, places=0),
            st.integers(min_value=1, max_value=3),
            st.integers(min_value=1, max_value=3),
        ),
        st.just((FREE_SHIPPING, Decimal("0"), {})),
    ]
    coupons = []
    for coupon_id in range(1, draw(st.integers(min_value=0, max_value=3)) + 1):
        kind, value, extra = draw(st.one_of(kinds))
        if draw(st.booleans()):
            extra["maximum_discount"] = draw(prices)
        if draw(st.booleans()):
            extra["applicable_category_ids"] = frozenset({draw(st.integers(0, 2))})
        coupons.append(coupon(coupon_id, kind, str(value), **extra))
    return cart(*lines, coupons=tuple(coupons))


@settings(max_examples=300, deadline=None)
@given(carts(), st.booleans(), st.booleans())
def test_totals_add_up_to_the_cent_and_nothing_is_negative(
    snapshot: CartSnapshot, stack_percentages: bool, mix: bool
) -> None:
    policy = CombinabilityPolicy(
        max_coupons_per_order=3,
        allow_multiple_percentage=stack_percentages,
        allow_percentage_with_fixed=mix,
    )
    result = price_cart(snapshot, policy, NOW)
    cent = Decimal("0.01")
    assert result.subtotal - result.discount_total == result.estimated_total
    assert result.discount_total <= result.subtotal
    for amount in (result.subtotal, result.discount_total, result.estimated_total):
        assert amount >= 0
        assert amount == amount.quantize(cent)
    assert sum((row.discount for row in result.lines), Decimal("0")) == result.discount_total
    assert sum((c.amount for c in result.coupons), Decimal("0")) == result.discount_total
    assert sum((row.line_total for row in result.lines), Decimal("0")) == result.subtotal
    for row in result.lines:
        assert 0 <= row.discount <= row.line_total
        assert row.unit_price >= 0
    for priced_coupon in result.coupons:
        assert priced_coupon.amount >= 0
        if not priced_coupon.valid:
            assert priced_coupon.amount == 0
