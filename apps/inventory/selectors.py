"""Reads of stock, as shoppers see it."""

from django.db.models import F, Q, QuerySet

from apps.inventory.availability import StockState, StockStatus, stock_status
from apps.inventory.models import StockItem


def sellable_stock() -> QuerySet[StockItem]:
    """Stock rows a shopper can buy from now: untracked, backorderable or with units free.

    The SQL form of StockStatus.purchasable, for listings that filter and flag in one query.
    """
    return StockItem.objects.filter(
        Q(track_quantity=False) | Q(allow_backorder=True) | Q(on_hand__gt=F("reserved"))
    )


def status_of(item: StockItem | None) -> StockStatus:
    """A variant with no stock row has never been stocked: out of stock."""
    if item is None:
        return StockStatus(StockState.OUT_OF_STOCK, 0)
    return stock_status(
        on_hand=item.on_hand,
        reserved=item.reserved,
        track_quantity=item.track_quantity,
        allow_backorder=item.allow_backorder,
        low_stock_threshold=item.low_stock_threshold,
    )


def statuses_for_variants(variant_ids: list[int]) -> dict[int, StockStatus]:
    """One query for many variants; variants without a stock row are out of stock."""
    items = {i.variant_id: i for i in StockItem.objects.filter(variant_id__in=variant_ids)}
    return {vid: status_of(items.get(vid)) for vid in variant_ids}
