"""Inventory errors a service raises and a view turns into a message."""


class InsufficientStock(Exception):
    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: requested {requested}, available {available}")
        self.sku = sku
        self.requested = requested
        self.available = available


class InvalidStockChange(ValueError):
    """A change that would make on_hand or reserved negative."""
