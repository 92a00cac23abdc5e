"""Reads of coupons: lookup by code, and the facts validation needs."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet, Subquery, Value
from django.db.models.functions import Lower
from django.utils import timezone

from apps.promotions.discounts import DiscountCoupon, DiscountLine
from apps.promotions.models import Coupon, CouponRedemption
from apps.promotions.rules import (
    CombinabilityPolicy,
    CouponFacts,
    CouponUsage,
    Problem,
    check_combination,
    not_found_problem,
    usage_problems,
    validate_coupon,
)

MAX_CODE_LENGTH = 40
ACTIVE_USAGE = (CouponRedemption.Status.RESERVED, CouponRedemption.Status.REDEEMED)


def find_by_code(code: str) -> Coupon | None:
    """Case-insensitive lookup as LOWER(code) = LOWER(%s): the same expression as the
    unique index promotions_coupon_code_ci_unique, so it is an index scan (code__iexact
    compiles to UPPER(...) and could not use it)."""
    cleaned = code.strip()
    if not cleaned or len(cleaned) > MAX_CODE_LENGTH:
        return None
    matches = Coupon.objects.alias(code_ci=Lower("code")).filter(code_ci=Lower(Value(cleaned)))
    return with_rules(matches).first()


def with_rules(queryset: QuerySet[Coupon]) -> QuerySet[Coupon]:
    """Coupons with their product/category rules prefetched (4 queries for any number)."""
    return queryset.prefetch_related(
        "applicable_products",
        "excluded_products",
        "applicable_categories",
        "excluded_categories",
    )


def discount_input(coupon: Coupon) -> DiscountCoupon:
    """The engine's view of a coupon. Reads prefetched relations when present."""
    return DiscountCoupon(
        coupon_id=coupon.pk,
        code=coupon.code,
        type=coupon.type,
        value=coupon.value,
        maximum_discount=coupon.maximum_discount,
        buy_quantity=coupon.buy_quantity,
        get_quantity=coupon.get_quantity,
        applicable_product_ids=frozenset(p.pk for p in coupon.applicable_products.all()),
        excluded_product_ids=frozenset(p.pk for p in coupon.excluded_products.all()),
        applicable_category_ids=frozenset(c.pk for c in coupon.applicable_categories.all()),
        excluded_category_ids=frozenset(c.pk for c in coupon.excluded_categories.all()),
    )


def _customer_filter(user: AbstractBaseUser | AnonymousUser | None, email: str) -> Q | None:
    condition: Q | None = None
    if user is not None and user.is_authenticated:
        condition = Q(user_id=user.pk)
    if email:
        by_email = Q(email__iexact=email)
        condition = by_email if condition is None else condition | by_email
    return condition


def customer_usage(
    coupon_ids: Sequence[int], *, user: AbstractBaseUser | AnonymousUser | None, email: str = ""
) -> dict[int, int]:
    """How many times this customer (by user, or by email for guests) has used each coupon."""
    condition = _customer_filter(user, email)
    if condition is None or not coupon_ids:
        return {}
    counts: dict[int, int] = {}
    rows = CouponRedemption.objects.filter(
        condition, coupon_id__in=coupon_ids, status__in=ACTIVE_USAGE
    ).values_list("coupon_id", flat=True)
    for coupon_id in rows:
        counts[coupon_id] = counts.get(coupon_id, 0) + 1
    return counts


def redeemed_by_customer(coupon_ids: Sequence[int], *, user_id: int) -> dict[int, int]:
    """Placed orders' uses of these coupons by this account (by user, or by the account's
    email as on apply), in one query. Reserved uses are left out: for a cart that is a
    checkout in progress, most likely the cart's own, and it must not block itself."""
    if not coupon_ids:
        return {}
    account_email = Subquery(
        get_user_model().objects.filter(pk=user_id).exclude(email="").values("email")[:1]
    )
    rows = (
        CouponRedemption.objects.alias(email_ci=Lower("email"))
        .filter(
            Q(user_id=user_id) | Q(email_ci=Lower(account_email)),
            coupon_id__in=coupon_ids,
            status=CouponRedemption.Status.REDEEMED,
        )
        .order_by()
        .values("coupon_id")
        .annotate(n=Count("pk"))
        .values_list("coupon_id", "n")
    )
    return dict(rows)


def usage_of(coupon: Coupon, *, customer_usage_count: int = 0) -> CouponUsage:
    return CouponUsage(
        usage_limit=coupon.usage_limit,
        usage_count=coupon.usage_count,
        per_customer_limit=coupon.per_customer_limit,
        customer_usage_count=customer_usage_count,
    )


def usage_problems_for(
    coupons: Sequence[Coupon], *, user: AbstractBaseUser | AnonymousUser | None, email: str = ""
) -> dict[int, list[Problem]]:
    """The usage checks applying a code makes (overall and per customer, by account or
    email), for codes that reached a cart before the customer was known. One query."""
    used = customer_usage([c.pk for c in coupons], user=user, email=email)
    return {
        c.pk: usage_problems(usage_of(c, customer_usage_count=used.get(c.pk, 0))) for c in coupons
    }


def facts_for(coupon: Coupon, *, customer_usage_count: int = 0) -> CouponFacts:
    return CouponFacts(
        discount=discount_input(coupon),
        name=coupon.name,
        is_active=coupon.is_active,
        starts_at=coupon.starts_at,
        ends_at=coupon.ends_at,
        combinable=coupon.combinable,
        minimum_order_amount=coupon.minimum_order_amount,
        usage_limit=coupon.usage_limit,
        usage_count=coupon.usage_count,
        per_customer_limit=coupon.per_customer_limit,
        customer_usage_count=customer_usage_count,
    )


@dataclass(frozen=True, slots=True)
class CouponCheck:
    coupon: Coupon | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return self.coupon is not None and not self.problems


def check_code(
    code: str,
    *,
    lines: Sequence[DiscountLine],
    applied: Sequence[CouponFacts],
    user: AbstractBaseUser | AnonymousUser | None,
    currency: str,
    email: str = "",
    policy: CombinabilityPolicy | None = None,
    now: datetime | None = None,
) -> CouponCheck:
    """Can the shopper add this code to a cart holding these lines and coupons (`applied`,
    as their facts)?"""
    coupon = find_by_code(code)
    if coupon is None:
        return CouponCheck(None, (not_found_problem(),))
    policy = policy or CombinabilityPolicy.from_settings()
    usage = customer_usage([coupon.pk], user=user, email=email)
    facts = facts_for(coupon, customer_usage_count=usage.get(coupon.pk, 0))
    problems = validate_coupon(facts, lines=lines, now=now or timezone.now(), currency=currency)
    problems += check_combination(facts, applied, policy)
    return CouponCheck(coupon, tuple(problems))
