"""Stock per variant and the ledger of every change to it.

PostgreSQL is the source of truth: available = on_hand - reserved, both kept >= 0 by
check constraints, and reserved may exceed on_hand only for backorderable or untracked
variants. Every change goes through inventory.services and writes a StockMovement. Stock rows
and the ledger are never deleted by a cascade (PROTECT): variants and products are deactivated.
"""

from django.db import models
from django.db.models import F, Q

from apps.catalog.models import ProductVariant
from apps.core.models import TimeStampedModel


class StockItem(TimeStampedModel):
    # PROTECT: deleting a variant must never take its stock, reservations and ledger with it
    # (staff deactivate variants instead).
    variant = models.OneToOneField(ProductVariant, on_delete=models.PROTECT, related_name="stock")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    allow_backorder = models.BooleanField(default=False)
    track_quantity = models.BooleanField(default=True)
    low_stock_threshold = models.PositiveIntegerField(default=5)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inventory_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(allow_backorder=True)
                | Q(track_quantity=False)
                | Q(reserved__lte=F("on_hand")),
                name="inventory_reserved_lte_on_hand_unless_backorder",
            ),
        ]

    def __str__(self) -> str:
        return f"stock of {self.variant.sku}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """One change to a stock item: how on_hand and reserved moved, and why."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        ADJUSTMENT = "adjustment", "Adjustment"
        RESERVATION = "reservation", "Reservation"
        RELEASE = "release", "Release"
        SALE = "sale", "Sale"
        RETURN = "return", "Return"

    # The ledger is history: nothing may cascade it away.
    stock_item = models.ForeignKey(StockItem, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    reference = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.on_hand_delta:+d}/{self.reserved_delta:+d}"
