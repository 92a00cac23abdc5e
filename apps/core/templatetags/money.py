"""{{ amount|money:currency }} renders a Decimal as $1,234.50 (the currency is required)."""

from decimal import Decimal

from django import template

from apps.core.money import MoneyError, format_money

register = template.Library()


@register.filter(name="money")
def money(value: Decimal | int | str | None, currency: str) -> str:
    if value is None or value == "":
        return ""
    try:
        return format_money(Decimal(value), currency)
    except (MoneyError, ArithmeticError, ValueError):
        return ""


@register.filter(name="get_item")
def get_item(mapping: dict[str, str] | None, key: str) -> str:
    """Look a key up in a dict from a template (for option names with spaces)."""
    if not mapping:
        return ""
    return mapping.get(key, "")
