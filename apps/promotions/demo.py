"""Demo coupons for `seed_demo` (idempotent: codes are matched case-insensitively)."""

from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.promotions.models import Coupon, CouponType


def seed_demo_coupons() -> str:
    now = timezone.now()
    year = now + timedelta(days=365)
    specs: list[dict[str, object]] = [
        {
            "code": "WELCOME10",
            "name": "10% off your order",
            "type": CouponType.PERCENTAGE,
            "value": Decimal("10"),
            "combinable": True,
            "per_customer_limit": 1,
        },
        {
            "code": "SAVE5",
            "name": "$5 off orders over $30",
            "type": CouponType.FIXED_AMOUNT,
            "value": Decimal("5.00"),
            "minimum_order_amount": Decimal("30.00"),
            "combinable": True,
        },
        {
            "code": "FREESHIP",
            "name": "Free shipping",
            "type": CouponType.FREE_SHIPPING,
            "combinable": True,
        },
        {
            "code": "BUNDLE",
            "name": "Buy 2, get 1 half price",
            "type": CouponType.BUY_X_GET_Y,
            "value": Decimal("50"),
            "buy_quantity": 2,
            "get_quantity": 1,
        },
        {
            "code": "EXPIRED10",
            "name": "An expired 10% code",
            "type": CouponType.PERCENTAGE,
            "value": Decimal("10"),
            "starts_at": now - timedelta(days=60),
            "ends_at": now - timedelta(days=30),
        },
    ]
    for spec in specs:
        fields = {"starts_at": now - timedelta(days=1), "ends_at": year, **spec}
        code = str(fields.pop("code"))
        if Coupon.objects.filter(code__iexact=code).exists():
            continue
        try:
            with transaction.atomic():
                Coupon.objects.create(code=code, **fields)
        except IntegrityError:
            continue  # created concurrently: the winner stays
    return f"{len(specs)} demo coupons ({', '.join(str(s['code']) for s in specs)})"
