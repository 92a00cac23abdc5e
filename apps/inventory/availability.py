"""Pure stock arithmetic: what a shopper is told about a variant's stock."""

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

    def allows(self, quantity: int) -> bool:
        """Can this many units be sold now?"""
        if self.state is StockState.BACKORDER or self.available is None:
            return True
        return quantity <= self.available


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
        return StockStatus(state, 0)
    if available <= low_stock_threshold:
        return StockStatus(StockState.LOW_STOCK, available)
    return StockStatus(StockState.IN_STOCK, available)
