"""Coupon validation and combinability: pure functions over plain data.

Every reason a coupon cannot be used comes back as a Problem with a stable code and a
message a shopper understands; callers show all of them, not just the first.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol

from django.conf import settings

from apps.core.money import ZERO, format_money, quantize
from apps.promotions.discounts import (
    BUY_X_GET_Y,
    COUPON_TYPES,
    DEFAULT_PRIORITY,
    FIXED_AMOUNT,
    FREE_SHIPPING,
    PERCENTAGE,
    DiscountCoupon,
    DiscountLine,
    eligible_lines,
)

NOT_FOUND: Final = "not_found"
INACTIVE: Final = "inactive"
NOT_STARTED: Final = "not_started"
EXPIRED: Final = "expired"
USAGE_LIMIT_REACHED: Final = "usage_limit_reached"
PER_CUSTOMER_LIMIT_REACHED: Final = "per_customer_limit_reached"
MINIMUM_NOT_MET: Final = "minimum_not_met"
NOT_APPLICABLE: Final = "not_applicable"
NOT_COMBINABLE: Final = "not_combinable"
TOO_MANY_COUPONS: Final = "too_many_coupons"
ALREADY_APPLIED: Final = "already_applied"


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    field: str = "code"


@dataclass(frozen=True, slots=True)
class CombinabilityPolicy:
    max_coupons_per_order: int = 2
    allow_percentage_with_fixed: bool = False
    allow_multiple_percentage: bool = False
    allow_free_shipping_combination: bool = True
    priority_order: tuple[str, ...] = DEFAULT_PRIORITY

    def __post_init__(self) -> None:
        if self.max_coupons_per_order < 1:
            raise ValueError("max_coupons_per_order must be at least 1")
        unknown = set(self.priority_order) - set(COUPON_TYPES)
        if unknown:
            raise ValueError(f"unknown coupon types in priority_order: {sorted(unknown)}")

    @classmethod
    def from_settings(cls) -> "CombinabilityPolicy":
        raw: dict[str, object] = dict(getattr(settings, "COUPON_COMBINABILITY", {}))
        priority = raw.pop("priority_order", DEFAULT_PRIORITY)
        assert isinstance(priority, list | tuple)
        return cls(priority_order=tuple(str(p) for p in priority), **raw)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class CouponFacts:
    """What validation needs to know about a coupon, beyond what the engine needs."""

    discount: DiscountCoupon
    name: str
    is_active: bool
    starts_at: datetime
    ends_at: datetime
    combinable: bool
    minimum_order_amount: Decimal | None = None
    usage_limit: int | None = None
    usage_count: int = 0
    per_customer_limit: int | None = None
    customer_usage_count: int = 0

    @property
    def coupon_id(self) -> int:
        return self.discount.coupon_id

    @property
    def code(self) -> str:
        return self.discount.code

    @property
    def type(self) -> str:
        return self.discount.type


class UsageCounts(Protocol):
    """What the usage limits are checked against (CouponFacts and CouponUsage have it)."""

    @property
    def usage_limit(self) -> int | None: ...

    @property
    def usage_count(self) -> int: ...

    @property
    def per_customer_limit(self) -> int | None: ...

    @property
    def customer_usage_count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class CouponUsage:
    """A coupon's limits and counts alone, for writes that hold the coupon row locked and
    need no other facts (reserving and confirming uses)."""

    usage_limit: int | None
    usage_count: int
    per_customer_limit: int | None
    customer_usage_count: int = 0


def not_found_problem() -> Problem:
    return Problem(NOT_FOUND, "We don't recognise that code. Check it and try again.")


def usage_problems(facts: UsageCounts, *, overall: bool = True) -> list[Problem]:
    """Is the code used up: overall (usage_limit) and by this customer (per_customer_limit,
    from `facts.customer_usage_count`)? `overall=False` checks only the customer. The one
    usage-limit rule: applying a code, the cart, the sign-in merge and reserving or
    confirming uses at payment all ask it."""
    problems: list[Problem] = []
    if overall and facts.usage_limit is not None and facts.usage_count >= facts.usage_limit:
        problems.append(Problem(USAGE_LIMIT_REACHED, "This code has been fully redeemed."))
    if (
        facts.per_customer_limit is not None
        and facts.customer_usage_count >= facts.per_customer_limit
    ):
        times = "once" if facts.per_customer_limit == 1 else f"{facts.per_customer_limit} times"
        problems.append(
            Problem(
                PER_CUSTOMER_LIMIT_REACHED,
                f"You have already used this code (it can be used {times} per customer).",
            )
        )
    return problems


def validate_coupon(
    facts: CouponFacts,
    *,
    lines: Sequence[DiscountLine],
    now: datetime,
    currency: str,
    check_usage: bool = True,
) -> list[Problem]:
    """Everything that makes this coupon unusable on these lines right now."""
    problems: list[Problem] = []
    if not facts.is_active:
        problems.append(Problem(INACTIVE, "This code is no longer active."))
    if now < facts.starts_at:
        problems.append(
            Problem(NOT_STARTED, f"This code can be used from {facts.starts_at:%B %-d, %Y}.")
        )
    if now >= facts.ends_at:
        problems.append(Problem(EXPIRED, f"This code expired on {facts.ends_at:%B %-d, %Y}."))
    if check_usage:
        problems += usage_problems(facts)
    subtotal = sum((quantize(line.total, currency) for line in lines), ZERO)
    minimum = facts.minimum_order_amount
    if minimum is not None and subtotal < minimum:
        short = quantize(minimum - subtotal, currency)
        problems.append(
            Problem(
                MINIMUM_NOT_MET,
                f"Spend {format_money(short, currency)} more to use this code "
                f"(minimum order {format_money(minimum, currency)}).",
            )
        )
    eligible = eligible_lines(facts.discount, lines)
    if not eligible:
        problems.append(
            Problem(NOT_APPLICABLE, "This code doesn't apply to anything in your cart.")
        )
    elif facts.type == BUY_X_GET_Y:
        buy = facts.discount.buy_quantity or 0
        get = facts.discount.get_quantity or 0
        units = sum(line.quantity for line in eligible)
        if units < buy + get:
            problems.append(
                Problem(
                    NOT_APPLICABLE,
                    f"Add {buy + get - units} more eligible item(s): "
                    f"buy {buy}, get {get} at {facts.discount.value.normalize():f}% off.",
                )
            )
    return problems


def check_combination(
    new: CouponFacts, applied: Sequence[CouponFacts], policy: CombinabilityPolicy
) -> list[Problem]:
    """Can `new` join the coupons already `applied` under this policy?"""
    problems: list[Problem] = []
    others = [c for c in applied if c.coupon_id != new.coupon_id]
    if len(others) + 1 > policy.max_coupons_per_order:
        limit = policy.max_coupons_per_order
        problems.append(
            Problem(
                TOO_MANY_COUPONS,
                f"Only {limit} code{'s' if limit != 1 else ''} can be used per order.",
            )
        )
    if not others:
        return problems
    reason = ""
    if not new.combinable:
        reason = "This code can't be combined with other codes."
    elif any(not c.combinable for c in others):
        blocker = next(c for c in others if not c.combinable)
        reason = f"The code {blocker.code} can't be combined with other codes."
    else:
        types = {c.type for c in others}
        if not policy.allow_multiple_percentage and new.type == PERCENTAGE and PERCENTAGE in types:
            reason = "Only one percentage-off code can be used per order."
        elif not policy.allow_percentage_with_fixed and (
            (new.type == PERCENTAGE and FIXED_AMOUNT in types)
            or (new.type == FIXED_AMOUNT and PERCENTAGE in types)
        ):
            reason = "A percentage-off code can't be combined with an amount-off code."
        elif not policy.allow_free_shipping_combination and (
            new.type == FREE_SHIPPING or FREE_SHIPPING in types
        ):
            reason = "Free shipping can't be combined with other codes."
    if reason:
        problems.append(Problem(NOT_COMBINABLE, reason))
    return problems
