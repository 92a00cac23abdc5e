"""Pure stock arithmetic: what a shopper is told about a variant's stock, and how many
units may be sold now. Every cap (add to cart, set quantity, merge, cart recheck, the
product page's quantity field) uses `StockStatus.allows` / `limit`, so they agree."""

from dataclasses import dataclass
from enum import StrEnum


class StockState(StrEnum):
    IN_STOCK = "in_stock"
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    BACKORDER = "backorder"


@dataclass(frozen=True, slots=True)
class StockStatus:
    state: StockState
    available: int | None  # None when quantities are not tracked
    # The variant may be sold past what is on hand (allow_backorder): no stock cap.
    backorder: bool = False

    @property
    def purchasable(self) -> bool:
        return self.state is not StockState.OUT_OF_STOCK

    @property
    def label(self) -> str:
        if self.state is StockState.LOW_STOCK:
            return f"Only {self.available} left"
        return {
            StockState.IN_STOCK: "In stock",
            StockState.OUT_OF_STOCK: "Out of stock",
            StockState.BACKORDER: "Available on backorder",
        }.get(self.state, "In stock")

    @property
    def cap(self) -> int | None:
        """Most units sellable now; None when stock sets no limit (backorder or untracked)."""
        if self.backorder or self.state is StockState.BACKORDER or self.available is None:
            return None
        return max(self.available, 0)

    def allows(self, quantity: int) -> bool:
        """Can this many units be sold now? Backorder and untracked variants: any number
        (the cart's per-line maximum is checked by the cart)."""
        if not self.purchasable:
            return False
        cap = self.cap
        return cap is None or quantity <= cap

    def limit(self, ceiling: int) -> int:
        """Most units a line may hold: the stock cap, never above `ceiling`."""
        if not self.purchasable:
            return 0
        cap = self.cap
        return ceiling if cap is None else min(cap, ceiling)


def stock_status(
    *,
    on_hand: int,
    reserved: int,
    track_quantity: bool,
    allow_backorder: bool,
    low_stock_threshold: int,
) -> StockStatus:
    if not track_quantity:
        return StockStatus(StockState.IN_STOCK, None)
    available = max(on_hand - reserved, 0)
    if available <= 0:
        state = StockState.BACKORDER if allow_backorder else StockState.OUT_OF_STOCK
        return StockStatus(state, 0, backorder=allow_backorder)
    if available <= low_stock_threshold:
        return StockStatus(StockState.LOW_STOCK, available, backorder=allow_backorder)
    return StockStatus(StockState.IN_STOCK, available, backorder=allow_backorder)
