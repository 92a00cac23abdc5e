"""Carts: one active cart per customer (by user) or guest (by session), its lines and
the coupons applied to it. A guest cart is found by the id kept in the session *and* the
hash of that session's key.

`version` is bumped by every write (cart.services) and checked by writes that say
which version they were based on, so two tabs cannot silently overwrite each other.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.cart.snapshot import MAX_LINE_QUANTITY
from apps.catalog.models import ProductVariant
from apps.core.models import TimeStampedModel
from apps.promotions.models import Coupon

__all__ = ["MAX_LINE_QUANTITY", "Cart", "CartCoupon", "CartLine"]


class Cart(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ABANDONED = "abandoned", "Abandoned"
        CONVERTED = "converted", "Converted"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="carts",
    )
    # SHA-256 (hex) of the guest's Django session key, never the key itself: a database
    # read must not hand out live session cookies. Empty once a customer owns the cart.
    session_hash = models.CharField(max_length=64, blank=True, db_index=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    currency = models.CharField(max_length=3, default="USD")
    version = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField(db_index=True)
    coupons = models.ManyToManyField(Coupon, through="CartCoupon", related_name="+", blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="active", user__isnull=False),
                name="cart_one_active_per_user",
            ),
            # One active guest cart per session, so when two first requests of the same
            # session race, neither cart is orphaned by the other's session save.
            models.UniqueConstraint(
                fields=["session_hash"],
                condition=Q(status="active", user__isnull=True),
                name="cart_one_active_per_guest_session",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(session_hash=""),
                name="cart_has_owner",
            ),
        ]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"cart {self.pk} ({self.status})"


class CartLine(TimeStampedModel):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(ProductVariant, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField()
    # The variant's price when the line was added; the cart shows current prices and
    # tells the shopper when they differ.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    # [{"type": "gift_wrap", "name": "Gift wrap", "value": "Birthday", "price": "5.00"}],
    # priced by the server from settings.CART_CUSTOMIZATIONS, never by the browser.
    # customizations_price is their total when added (like unit_price): the cart reprices
    # them from CART_CUSTOMIZATIONS at view time and flags a change.
    customizations = models.JSONField(default=list, blank=True)
    customizations_key = models.CharField(max_length=64, default="", blank=True)
    customizations_price = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0.00")
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "variant", "customizations_key"], name="cart_line_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="cart_line_quantity_1_99",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & Q(customizations_price__gte=0),
                name="cart_line_prices_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x variant {self.variant_id}"


class CartCoupon(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="applied_coupons")
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="cart_applications")
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["applied_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "coupon"], name="cart_coupon_unique"),
        ]

    def __str__(self) -> str:
        return f"coupon {self.coupon_id} on cart {self.cart_id}"
