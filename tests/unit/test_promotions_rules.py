"""Validation reasons and combinability rules (pure)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from apps.promotions import rules
from apps.promotions.discounts import DiscountCoupon, DiscountLine
from apps.promotions.rules import (
    CombinabilityPolicy,
    CouponFacts,
    check_combination,
    validate_coupon,
)

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
LINES = [DiscountLine(1, 1, Decimal("20.00"), 1, frozenset({10}))]


def facts(kind: str = "percentage", coupon_id: int = 1, **kwargs: Any) -> CouponFacts:
    discount_kwargs = {
        k: kwargs.pop(k)
        for k in list(kwargs)
        if k in {"applicable_product_ids", "excluded_category_ids", "buy_quantity", "get_quantity"}
    }
    defaults: dict[str, object] = {
        "name": "Test",
        "is_active": True,
        "starts_at": NOW - timedelta(days=1),
        "ends_at": NOW + timedelta(days=1),
        "combinable": True,
    }
    defaults.update(kwargs)
    return CouponFacts(
        discount=DiscountCoupon(coupon_id, f"C{coupon_id}", kind, Decimal("10"), **discount_kwargs),
        **defaults,  # type: ignore[arg-type]
    )


def codes(problems: list[rules.Problem]) -> list[str]:
    return [p.code for p in problems]


def test_valid_coupon_has_no_problems() -> None:
    assert validate_coupon(facts(), lines=LINES, now=NOW, currency="USD") == []


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"is_active": False}, rules.INACTIVE),
        ({"starts_at": NOW + timedelta(hours=1)}, rules.NOT_STARTED),
        ({"ends_at": NOW - timedelta(hours=1)}, rules.EXPIRED),
        ({"usage_limit": 5, "usage_count": 5}, rules.USAGE_LIMIT_REACHED),
        ({"per_customer_limit": 1, "customer_usage_count": 1}, rules.PER_CUSTOMER_LIMIT_REACHED),
        ({"minimum_order_amount": Decimal("50.00")}, rules.MINIMUM_NOT_MET),
        ({"applicable_product_ids": frozenset({99})}, rules.NOT_APPLICABLE),
        ({"excluded_category_ids": frozenset({10})}, rules.NOT_APPLICABLE),
    ],
)
def test_each_reason(kwargs: dict[str, Any], code: str) -> None:
    assert codes(validate_coupon(facts(**kwargs), lines=LINES, now=NOW, currency="USD")) == [code]


def test_every_reason_is_reported_together() -> None:
    problems = validate_coupon(
        facts(
            is_active=False, ends_at=NOW - timedelta(days=1), minimum_order_amount=Decimal("100")
        ),
        lines=LINES,
        now=NOW,
        currency="USD",
    )
    assert codes(problems) == [rules.INACTIVE, rules.EXPIRED, rules.MINIMUM_NOT_MET]


def test_minimum_message_says_how_much_more() -> None:
    problems = validate_coupon(
        facts(minimum_order_amount=Decimal("30.00")), lines=LINES, now=NOW, currency="USD"
    )
    assert problems[0].message.startswith("Spend $10.00 more")


def test_buy_x_get_y_needs_enough_units() -> None:
    coupon = facts("buy_x_get_y", buy_quantity=2, get_quantity=1)
    assert codes(validate_coupon(coupon, lines=LINES, now=NOW, currency="USD")) == [
        rules.NOT_APPLICABLE
    ]


POLICY = CombinabilityPolicy(max_coupons_per_order=3)


def test_combination_rules() -> None:
    pct, pct2 = facts("percentage", 1), facts("percentage", 2)
    fixed, ship = facts("fixed_amount", 3), facts("free_shipping", 4)
    assert codes(check_combination(pct2, [pct], POLICY)) == [rules.NOT_COMBINABLE]
    assert (
        check_combination(pct2, [pct], CombinabilityPolicy(3, allow_multiple_percentage=True)) == []
    )
    assert codes(check_combination(fixed, [pct], POLICY)) == [rules.NOT_COMBINABLE]
    assert (
        check_combination(fixed, [pct], CombinabilityPolicy(3, allow_percentage_with_fixed=True))
        == []
    )
    assert check_combination(ship, [pct], POLICY) == []
    assert codes(
        check_combination(
            ship, [pct], CombinabilityPolicy(3, allow_free_shipping_combination=False)
        )
    ) == [rules.NOT_COMBINABLE]
    loner = facts("fixed_amount", 5, combinable=False)
    assert codes(check_combination(loner, [ship], POLICY)) == [rules.NOT_COMBINABLE]
    assert codes(check_combination(ship, [loner], POLICY)) == [rules.NOT_COMBINABLE]
    assert codes(check_combination(ship, [pct, fixed], CombinabilityPolicy(2, True))) == [
        rules.TOO_MANY_COUPONS
    ]


def test_policy_from_settings(settings: object) -> None:
    policy = CombinabilityPolicy.from_settings()
    assert policy.max_coupons_per_order >= 1
    with pytest.raises(ValueError, match="unknown coupon types"):
        CombinabilityPolicy(priority_order=("bogus",))
