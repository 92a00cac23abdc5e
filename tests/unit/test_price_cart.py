"""`price_cart` without a database: snapshots built by hand, every line and coupon problem,
price changes, and the totals' invariants (Hypothesis)."""

from decimal import Decimal

from apps.cart.customizations import price_customizations, reprice_customizations

ENGRAVING = {"engraving": {"name": "Engraving", "price": "2.50", "max_length": 20}}


def test_customizations_are_rounded_in_the_carts_currency() -> None:
    """A yen cart's customization costs whole yen, not yen and cents."""
    items, total = price_customizations([{"type": "engraving", "value": "A"}], ENGRAVING, "JPY")
    assert total == Decimal("3")
    assert items[0]["price"] == "3"
    assert reprice_customizations(items, ENGRAVING, "JPY").price == Decimal("3")
    assert price_customizations([{"type": "engraving"}], ENGRAVING, "USD")[1] == Decimal("2.50")
