"""Cart totals: a pure function of current prices, quantities and coupons.

Shipping and tax are added by checkout; the cart shows an estimated total before them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.core.money import quantize
from apps.promotions.discounts import (
    DEFAULT_PRIORITY,
    CouponDiscount,
    DiscountCoupon,
    DiscountLine,
    compute_discounts,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class CartTotals:
    subtotal: Decimal
    discount_total: Decimal
    estimated_total: Decimal
    line_totals: Mapping[int, Decimal]
    line_discounts: Mapping[int, Decimal]
    coupon_discounts: tuple[CouponDiscount, ...]
    free_shipping: bool
    item_count: int

    def coupon_amount(self, coupon_id: int) -> Decimal:
        found = next((c for c in self.coupon_discounts if c.coupon_id == coupon_id), None)
        return found.amount if found else ZERO


def compute_totals(
    lines: Sequence[DiscountLine],
    coupons: Sequence[DiscountCoupon],
    *,
    priority: Sequence[str] = DEFAULT_PRIORITY,
    currency: str = "USD",
) -> CartTotals:
    result = compute_discounts(lines, coupons, priority=priority, currency=currency)
    estimated = max(quantize(result.subtotal - result.total_discount, currency), ZERO)
    return CartTotals(
        subtotal=quantize(result.subtotal, currency),
        discount_total=quantize(result.total_discount, currency),
        estimated_total=estimated,
        line_totals=result.line_totals,
        line_discounts=result.per_line,
        coupon_discounts=result.coupons,
        free_shipping=result.free_shipping,
        item_count=sum(line.quantity for line in lines),
    )


def price_customizations(
    requested: Sequence[Mapping[str, object]], catalogue: Mapping[str, Mapping[str, object]]
) -> tuple[list[dict[str, str]], Decimal]:
    """Normalise shopper-chosen customizations and price them from the server's list.

    Each item is {"type", "value"} (any "price" sent is ignored); unknown types raise
    ValueError. Returns the canonical list (sorted by type) and the total extra price."""
    normalised: dict[str, dict[str, str]] = {}
    total = ZERO
    for item in requested:
        kind = str(item.get("type", "")).strip()
        value = str(item.get("value", "")).strip()
        spec = catalogue.get(kind)
        if spec is None:
            raise ValueError(f"unknown customization {kind[:40]!r}")
        max_length = int(str(spec.get("max_length", 100)))
        if len(value) > max_length:
            raise ValueError(f"{spec.get('name', kind)} must be at most {max_length} characters")
        if kind in normalised:
            raise ValueError(f"{spec.get('name', kind)} given twice")
        price = quantize(str(spec.get("price", "0")))
        normalised[kind] = {
            "type": kind,
            "name": str(spec.get("name", kind)),
            "value": value,
            "price": str(price),
        }
        total += price
    return [normalised[k] for k in sorted(normalised)], total


@dataclass(frozen=True, slots=True)
class CustomizationsNow:
    """A line's stored customizations at today's prices."""

    items: tuple[dict[str, str], ...]
    price: Decimal
    withdrawn: tuple[str, ...]  # names of types no longer offered (kept at their old price)


def reprice_customizations(
    stored: Sequence[Mapping[str, object]], catalogue: Mapping[str, Mapping[str, object]]
) -> CustomizationsNow:
    """Price a line's customizations from the server's current list, as catalog prices
    are: the price captured when the line was added is only for the "old -> new" note.
    A type no longer offered keeps its stored price and is reported as withdrawn."""
    items: list[dict[str, str]] = []
    withdrawn: list[str] = []
    total = ZERO
    for item in stored:
        kind = str(item.get("type", ""))
        spec = catalogue.get(kind)
        name = str(item.get("name", kind))
        if spec is None:
            price = quantize(str(item.get("price", "0")))
            withdrawn.append(name)
        else:
            price = quantize(str(spec.get("price", "0")))
            name = str(spec.get("name", kind))
        items.append(
            {"type": kind, "name": name, "value": str(item.get("value", "")), "price": str(price)}
        )
        total += price
    return CustomizationsNow(tuple(items), total, tuple(withdrawn))
