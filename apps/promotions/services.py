"""Writes to coupons: usage reservations, activation, code generation.

Usage is counted under a row lock on each coupon, taken in primary-key order, so
concurrent checkouts can never push usage_count past usage_limit or a customer past
per_customer_limit. Reserve, confirm and release are idempotent per reference.

Reservation TTL: a reserved use is released by `release_stale_reservations` once it is
older than `reservation_ttl()` (settings.COUPON_RESERVATION_TTL_MINUTES). The TTL must be
at least as long as the payment can still complete, i.e. tied to the checkout session's
expiry: the payment code must create the Stripe Checkout Session with an `expires_at`
no later than reservation time + TTL (Stripe's own default is 24 hours, longer than our
60-minute default). If a payment completes after its reservation was released anyway,
`confirm_usage` re-reserves under the lock when the limits still allow it, and otherwise
raises `CouponReservationLost` -- it never confirms silently past a limit.
"""

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet

from apps.promotions.models import Coupon, CouponRedemption
from apps.promotions.rules import Problem, usage_problems
from apps.promotions.selectors import ACTIVE_USAGE, customer_usage, usage_of

logger = logging.getLogger(__name__)

Status = CouponRedemption.Status


class CouponUsageError(Exception):
    """A coupon cannot be reserved: reason is usage_limit_reached or
    per_customer_limit_reached; message is for the shopper."""

    def __init__(self, coupon_id: int, code: str, reason: str, message: str) -> None:
        super().__init__(f"coupon {coupon_id}: {reason}")
        self.coupon_id = coupon_id
        self.code = code
        self.reason = reason
        self.message = message


class CouponReservationLost(CouponUsageError):
    """A payment completed after its coupon reservation had been released (it outlived
    the reservation TTL), and the coupon cannot be re-reserved because its limit is now
    reached. The caller decides: e.g. honour the paid order and flag it for staff, then
    call confirm_usage(reference, skip_unavailable=True) to confirm the other coupons."""

    def __init__(self, coupon_id: int, code: str, reason: str, *, reference: str) -> None:
        super().__init__(
            coupon_id,
            code,
            reason,
            "This code was used up while your payment was in progress.",
        )
        self.reference = reference


def reservation_ttl() -> timedelta:
    """How long a reserved use is held before the safety net releases it. Must not be
    shorter than the checkout session (Stripe Checkout Session) a reservation belongs to."""
    return timedelta(minutes=int(getattr(settings, "COUPON_RESERVATION_TTL_MINUTES", 60)))


def _locked_coupons(coupon_ids: Sequence[int]) -> list[Coupon]:
    """Lock the coupons in pk order, FOR NO KEY UPDATE: we only change non-key columns
    (usage_count), and a plain FOR UPDATE conflicts with the FOR KEY SHARE lock every
    insert referencing a coupon (CartCoupon, CouponRedemption) takes on it for the
    foreign-key check, which let a checkout deadlock with a sign-in merge attaching codes
    in another order, and made applying a code wait for a checkout or a staff edit."""
    return list(
        Coupon.objects.select_for_update(no_key=True).filter(pk__in=coupon_ids).order_by("pk")
    )


@transaction.atomic
def reserve_usage(
    coupon_ids: Sequence[int],
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    email: str = "",
    reference: str,
) -> list[CouponRedemption]:
    """Reserve one use of each coupon for this reference (a checkout or payment id).

    Idempotent: a second call with the same reference returns the same reservations.
    Raises CouponUsageError (and reserves nothing) if any coupon is used up."""
    if not reference:
        raise ValueError("a reservation needs a reference")
    coupons = _locked_coupons(sorted(set(coupon_ids)))
    existing = {
        r.coupon_id: r
        for r in CouponRedemption.objects.filter(
            reference=reference, coupon_id__in=[c.pk for c in coupons]
        )
    }
    usage = customer_usage([c.pk for c in coupons], user=user, email=email)
    user_id = user.pk if user is not None and user.is_authenticated else None
    result: list[CouponRedemption] = []
    for coupon in coupons:
        row = existing.get(coupon.pk)
        if row is not None and row.status in ACTIVE_USAGE:
            result.append(row)
            continue
        problems = usage_problems(usage_of(coupon, customer_usage_count=usage.get(coupon.pk, 0)))
        if problems:
            raise CouponUsageError(coupon.pk, coupon.code, problems[0].code, problems[0].message)
        if row is None:
            row = CouponRedemption.objects.create(
                coupon=coupon, user_id=user_id, email=email, reference=reference
            )
        else:  # released earlier, reserved again by the same checkout
            row.status = Status.RESERVED
            row.user_id = user_id
            row.email = email
            row.save(update_fields=["status", "user", "email", "updated_at"])
        Coupon.objects.filter(pk=coupon.pk).update(usage_count=F("usage_count") + 1)
        result.append(row)
    logger.info(
        "coupon usage reserved",
        extra={"reference": reference, "coupon_ids": [c.pk for c in coupons]},
    )
    return result


def _transition(reference: str, *, from_status: str, to_status: str, count_delta: int) -> int:
    with transaction.atomic():
        coupon_ids = list(
            CouponRedemption.objects.filter(reference=reference, status=from_status).values_list(
                "coupon_id", flat=True
            )
        )
        if not coupon_ids:
            return 0
        _locked_coupons(coupon_ids)
        rows = list(
            CouponRedemption.objects.select_for_update()
            .filter(reference=reference, status=from_status)
            .order_by("coupon_id")
        )
        for row in rows:
            row.status = to_status
            row.save(update_fields=["status", "updated_at"])
            if count_delta:
                Coupon.objects.filter(pk=row.coupon_id).update(
                    usage_count=F("usage_count") + count_delta
                )
        return len(rows)


def release_usage(reference: str) -> int:
    """Give back the reserved uses of this reference (payment failed or expired).
    Idempotent; redeemed uses are never released. Returns how many were released."""
    released = _transition(
        reference, from_status=Status.RESERVED, to_status=Status.RELEASED, count_delta=-1
    )
    if released:
        logger.info("coupon usage released", extra={"reference": reference, "count": released})
    return released


def _limit_problem(coupon: Coupon, row: CouponRedemption) -> Problem | None:
    """Would one more use of `coupon` by `row`'s customer break a limit? (coupon locked)"""
    used = (
        customer_usage([coupon.pk], user=row.user, email=row.email).get(coupon.pk, 0)
        if coupon.per_customer_limit is not None
        else 0
    )
    problems = usage_problems(usage_of(coupon, customer_usage_count=used))
    return problems[0] if problems else None


@transaction.atomic
def confirm_usage(reference: str, *, skip_unavailable: bool = False) -> int:
    """The order was placed: this reference's uses become redeemed. Idempotent.

    A use that was released meanwhile (stale reservation) is re-reserved under the coupon
    lock if the limits still allow it. Otherwise CouponReservationLost is raised and
    nothing changes -- unless skip_unavailable, when the lost uses are logged and the rest
    confirmed. Returns how many uses were newly confirmed."""
    pending = CouponRedemption.objects.filter(reference=reference).exclude(status=Status.REDEEMED)
    coupon_ids = list(pending.values_list("coupon_id", flat=True))
    if not coupon_ids:
        return 0
    coupons = {c.pk: c for c in _locked_coupons(coupon_ids)}
    # Re-read under the coupon locks: a concurrent release/confirm may have won.
    rows = list(
        CouponRedemption.objects.select_for_update()
        .filter(reference=reference, coupon_id__in=coupon_ids)
        .exclude(status=Status.REDEEMED)
        .order_by("coupon_id")
    )
    confirmed = 0
    for row in rows:
        if row.status == Status.RELEASED:
            coupon = coupons[row.coupon_id]
            problem = _limit_problem(coupon, row)
            if problem is not None:
                logger.warning(
                    "coupon reservation lost before payment completed",
                    extra={
                        "reference": reference,
                        "coupon_id": coupon.pk,
                        "reason": problem.code,
                    },
                )
                if skip_unavailable:
                    continue
                raise CouponReservationLost(
                    coupon.pk, coupon.code, problem.code, reference=reference
                )
            Coupon.objects.filter(pk=coupon.pk).update(usage_count=F("usage_count") + 1)
            coupon.usage_count += 1
            logger.warning(
                "released coupon reservation re-reserved at confirmation",
                extra={"reference": reference, "coupon_id": coupon.pk},
            )
        row.status = Status.REDEEMED
        row.save(update_fields=["status", "updated_at"])
        confirmed += 1
    return confirmed


def release_stale_reservations(older_than: datetime) -> int:
    """Release reservations whose payment never finished (safety net for lost webhooks)."""
    references = set(
        CouponRedemption.objects.filter(
            status=Status.RESERVED, updated_at__lt=older_than
        ).values_list("reference", flat=True)
    )
    return sum(release_usage(ref) for ref in sorted(references))


def lock_usage_count(coupon_id: int) -> int | None:
    """Lock the coupon row for the rest of the caller's transaction and return its current
    usage_count (None if the coupon is gone). Staff edits call this before saving, so no
    reservation can count a use between their limit check and their write."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_usage_count must run inside a transaction")
    return (
        Coupon.objects.select_for_update(no_key=True)  # see _locked_coupons
        .filter(pk=coupon_id)
        .values_list("usage_count", flat=True)
        .first()
    )


def set_active(coupons: QuerySet[Coupon], active: bool) -> int:
    return coupons.update(is_active=active)


CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def _random_suffix(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


@transaction.atomic
def generate_single_use_codes(
    template: Coupon, count: int, *, prefix: str | None = None, suffix_length: int = 8
) -> list[Coupon]:
    """Copy `template` into `count` coupons with unique random codes, each usable once.

    Uniqueness is the database's job: a clashing code is retried, never pre-checked."""
    if not 1 <= count <= 1000:
        raise ValueError("count must be between 1 and 1000")
    stem = (prefix if prefix is not None else template.code)[: 40 - suffix_length - 1].upper()
    rules = {
        "applicable_products": list(template.applicable_products.all()),
        "excluded_products": list(template.excluded_products.all()),
        "applicable_categories": list(template.applicable_categories.all()),
        "excluded_categories": list(template.excluded_categories.all()),
    }
    created: list[Coupon] = []
    for _ in range(count):
        for _attempt in range(10):
            code = f"{stem}-{_random_suffix(suffix_length)}"
            try:
                with transaction.atomic():
                    coupon = Coupon.objects.create(
                        code=code,
                        name=template.name,
                        description=template.description,
                        type=template.type,
                        value=template.value,
                        buy_quantity=template.buy_quantity,
                        get_quantity=template.get_quantity,
                        minimum_order_amount=template.minimum_order_amount,
                        maximum_discount=template.maximum_discount,
                        starts_at=template.starts_at,
                        ends_at=template.ends_at,
                        usage_limit=1,
                        per_customer_limit=1,
                        is_active=template.is_active,
                        combinable=template.combinable,
                        metadata={**template.metadata, "generated_from": template.pk},
                    )
            except IntegrityError:
                continue
            for name, related in rules.items():
                if related:
                    getattr(coupon, name).set(related)
            created.append(coupon)
            break
        else:
            raise RuntimeError("could not find a free coupon code; use a longer suffix")
    return created
