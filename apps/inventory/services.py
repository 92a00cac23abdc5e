"""Writes to stock. Each change locks the row, checks, updates and records a movement."""

from django.db import transaction

from apps.catalog.models import ProductVariant
from apps.inventory.errors import InvalidStockChange
from apps.inventory.models import StockItem, StockMovement


def ensure_stock_item(variant: ProductVariant) -> StockItem:
    """The variant's stock row, created empty if missing (insert, then read the winner)."""
    item, _ = StockItem.objects.get_or_create(variant=variant)
    return item


@transaction.atomic
def change_on_hand(
    stock_item_id: int,
    *,
    delta: int,
    kind: StockMovement.Kind = StockMovement.Kind.ADJUSTMENT,
    reference: str = "",
    note: str = "",
) -> StockItem:
    """Add (receipt, return) or remove (adjustment) units on hand, never below zero."""
    item = StockItem.objects.select_for_update().get(pk=stock_item_id)
    new_on_hand = item.on_hand + delta
    if new_on_hand < 0:
        raise InvalidStockChange(f"on hand would become {new_on_hand}")
    if item.track_quantity and not item.allow_backorder and item.reserved > new_on_hand:
        raise InvalidStockChange(
            f"{item.reserved} units are reserved; on hand cannot drop to {new_on_hand}"
        )
    item.on_hand = new_on_hand
    item.save(update_fields=["on_hand", "updated_at"])
    StockMovement.objects.create(
        stock_item=item,
        kind=kind,
        on_hand_delta=delta,
        on_hand_after=item.on_hand,
        reserved_after=item.reserved,
        reference=reference,
        note=note,
    )
    return item


def set_on_hand(stock_item_id: int, on_hand: int, *, note: str = "stock count") -> StockItem:
    """A stock count: set on_hand to what was counted, recording the difference."""
    if on_hand < 0:
        raise InvalidStockChange("on hand cannot be negative")
    with transaction.atomic():
        current = StockItem.objects.select_for_update().get(pk=stock_item_id)
        delta = on_hand - current.on_hand
        if delta == 0:
            return current
        return change_on_hand(
            stock_item_id, delta=delta, kind=StockMovement.Kind.ADJUSTMENT, note=note
        )
