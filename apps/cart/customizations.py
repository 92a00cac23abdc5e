"""Shopper-chosen customizations (engraving, gift wrap): normalised and priced from the
server's catalogue (CART_CUSTOMIZATIONS), rounded in the cart's currency. Pure."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from apps.core.money import ZERO, quantize


def price_customizations(
    requested: Sequence[Mapping[str, object]],
    catalogue: Mapping[str, Mapping[str, object]],
    currency: str,
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
        price = quantize(str(spec.get("price", "0")), currency)
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
    stored: Sequence[Mapping[str, object]],
    catalogue: Mapping[str, Mapping[str, object]],
    currency: str,
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
            price = quantize(str(item.get("price", "0")), currency)
            withdrawn.append(name)
        else:
            price = quantize(str(spec.get("price", "0")), currency)
            name = str(spec.get("name", kind))
        items.append(
            {"type": kind, "name": name, "value": str(item.get("value", "")), "price": str(price)}
        )
        total += price
    return CustomizationsNow(tuple(items), total, tuple(withdrawn))
