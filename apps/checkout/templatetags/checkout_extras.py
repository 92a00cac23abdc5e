"""Template filters for the checkout pages."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter(name="percent")
def percent(rate: Decimal | None) -> str:
    """A rate stored as a fraction, as people read it: 0.0725 -> 7.25%, 0.2 -> 20%."""
    if rate is None:
        return ""
    text = format((Decimal(rate) * 100).quantize(Decimal("0.001")).normalize(), "f")
    return f"{text}%"
