"""Writes to stock. Each change locks the row, checks, updates and records a movement."""

from django.db import transaction

from apps.catalog.models import ProductVariant
from apps.inventory.errors import InvalidStockChange
from apps.inventory.models import StockItem, StockMovement


def check_stock_levels(
    *, on_hand: int, reserved: int, track_quantity: bool, allow_backorder: bool
) -> None:
    """Raise InvalidStockChange, saying why, for levels the database constraints refuse."""
    if on_hand < 0:
        raise InvalidStockChange(f"on hand cannot be negative ({on_hand})")
    if track_quantity and not allow_backorder and reserved > on_hand:
        raise InvalidStockChange(
            f"{reserved} units are reserved by open checkouts but only {on_hand} would be on"
            " hand; allow backorders or receive stock first (reservations are released when"
            " those checkouts finish or expire)"
        )


def ensure_stock_item(variant: ProductVariant) -> StockItem:
    """The variant's stock row, created empty if missing (insert, then read the winner)."""
    item, _ = StockItem.objects.get_or_create(variant=variant)
    return item


@transaction.atomic
def open_stock_item(
    variant: ProductVariant,
    *,
    units: int,
    allow_backorder: bool,
    track_quantity: bool,
    low_stock_threshold: int,
    reference: str = "",
) -> tuple[StockItem, bool]:
    """A new variant's stock row with these settings and `units` received (a ledger row).

    An existing row is returned unchanged (created is False): stocking is done once, so
    running it again, as a re-seed does, receives nothing twice.
    """
    item, created = StockItem.objects.get_or_create(
        variant=variant,
        defaults={
            "allow_backorder": allow_backorder,
            "track_quantity": track_quantity,
            "low_stock_threshold": low_stock_threshold,
        },
    )
    if created and units:
        item = change_on_hand(
            item.pk, delta=units, kind=StockMovement.Kind.RECEIPT, reference=reference
        )
    return item, created


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
    check_stock_levels(
        on_hand=new_on_hand,
        reserved=item.reserved,
        track_quantity=item.track_quantity,
        allow_backorder=item.allow_backorder,
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


SETTINGS_FIELDS = ["allow_backorder", "track_quantity", "low_stock_threshold"]


@transaction.atomic
def update_stock_settings(
    stock_item_id: int,
    *,
    allow_backorder: bool,
    track_quantity: bool,
    low_stock_threshold: int,
    counted: int | None = None,
    note: str = "stock count",
) -> StockItem:
    """Staff edits: the flags and, optionally, a stock count, checked together under lock.

    `reserved` is never written here: checkouts change it concurrently, so this saves only
    the fields staff edit (update_fields), and a count goes to the ledger as an adjustment.
    """
    item = StockItem.objects.select_for_update().get(pk=stock_item_id)
    on_hand = item.on_hand if counted is None else counted
    check_stock_levels(
        on_hand=on_hand,
        reserved=item.reserved,
        track_quantity=track_quantity,
        allow_backorder=allow_backorder,
    )
    delta = on_hand - item.on_hand
    item.allow_backorder = allow_backorder
    item.track_quantity = track_quantity
    item.low_stock_threshold = low_stock_threshold
    item.on_hand = on_hand
    item.save(update_fields=[*SETTINGS_FIELDS, *(["on_hand"] if delta else []), "updated_at"])
    if delta:
        StockMovement.objects.create(
            stock_item=item,
            kind=StockMovement.Kind.ADJUSTMENT,
            on_hand_delta=delta,
            on_hand_after=item.on_hand,
            reserved_after=item.reserved,
            note=note,
        )
    return item
