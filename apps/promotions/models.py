"""Coupons and their usage.

A Coupon's usage_count counts reserved + redeemed CouponRedemption rows; it is only
changed by promotions.services under a row lock on the coupon, so it never exceeds
usage_limit.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from apps.catalog.models import Category, Product
from apps.core.models import TimeStampedModel


class CouponType(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage off"
    FIXED_AMOUNT = "fixed_amount", "Fixed amount off"
    FREE_SHIPPING = "free_shipping", "Free shipping"
    BUY_X_GET_Y = "buy_x_get_y", "Buy X get Y"


class Coupon(TimeStampedModel):
    code = models.CharField(
        max_length=40, help_text="What shoppers type; matched case-insensitively."
    )
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    type = models.CharField(max_length=20, choices=CouponType.choices)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text=(
            "Percentage: percent off (10 = 10%). Fixed amount: money off the order. "
            "Buy X get Y: percent off the 'get' items (100 = free). Free shipping: unused."
        ),
    )
    buy_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Buy X get Y only: units to buy."
    )
    get_quantity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Buy X get Y only: units discounted per X bought."
    )
    minimum_order_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    maximum_discount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_count = models.PositiveIntegerField(default=0, editable=False)
    per_customer_limit = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    combinable = models.BooleanField(default=False)
    applicable_products = models.ManyToManyField(
        Product, blank=True, related_name="+", help_text="Empty means every product."
    )
    excluded_products = models.ManyToManyField(Product, blank=True, related_name="+")
    applicable_categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="+",
        help_text="Empty means every category; subcategories are included.",
    )
    excluded_categories = models.ManyToManyField(Category, blank=True, related_name="+")
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="promotions_coupon_code_ci_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="promotions_coupon_value_gte_0"),
            models.CheckConstraint(
                condition=~Q(type="percentage") | Q(value__lte=100),
                name="promotions_coupon_percentage_lte_100",
            ),
            models.CheckConstraint(
                condition=~Q(type="buy_x_get_y")
                | (Q(buy_quantity__gte=1) & Q(get_quantity__gte=1) & Q(value__lte=100)),
                name="promotions_coupon_bxgy_fields",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="promotions_coupon_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(usage_count__lte=F("usage_limit")),
                name="promotions_coupon_usage_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class CouponRedemption(TimeStampedModel):
    """One use of a coupon by one checkout: reserved when payment starts, then redeemed
    (order placed) or released (payment failed or expired)."""

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        REDEEMED = "redeemed", "Redeemed"
        RELEASED = "released", "Released"

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="coupon_redemptions",
    )
    email = models.EmailField(max_length=320, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    reference = models.CharField(max_length=120, help_text="Checkout or payment id.")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["coupon", "reference"], name="promotions_redemption_coupon_reference"
            ),
        ]
        indexes = [
            models.Index(fields=["reference"]),
            models.Index(fields=["coupon", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.coupon_id}:{self.reference} ({self.status})"
