"""Money helpers: Decimal everywhere, integer minor units only at the Stripe boundary.

Rounding is half-up to the currency's minor unit, once per line. The currency is always
given: a default would silently round yen to cents.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# ISO 4217 currencies the shop sells in, with their minor-unit exponent.
CURRENCY_EXPONENTS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "JPY": 0}
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "CAD": "CA$",
    "AUD": "A$",
    "JPY": "¥",
}
ZERO = Decimal("0.00")


class MoneyError(ValueError):
    """A value cannot be a monetary amount (not a number, NaN, infinite, or float)."""


def _exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency.upper()]
    except KeyError as exc:
        raise MoneyError(f"unsupported currency {currency!r}") from exc


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Parse a monetary amount; floats are refused because they cannot hold cents exactly."""
    if isinstance(value, float | bool):
        raise MoneyError("floats and booleans are not money; pass a Decimal, int or str")
    try:
        result = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not a monetary amount: {value!r}") from exc
    if not result.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return result


def quantize(value: Decimal | int | str, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit (cents for USD)."""
    places = Decimal(1).scaleb(-_exponent(currency))
    return to_decimal(value).quantize(places, rounding=ROUND_HALF_UP)


def to_minor_units(value: Decimal | int | str, currency: str) -> int:
    """Decimal amount -> integer minor units, as Stripe wants (12.34 USD -> 1234)."""
    return int(quantize(value, currency).scaleb(_exponent(currency)))


def from_minor_units(amount: int, currency: str) -> Decimal:
    """Integer minor units from Stripe -> Decimal amount (1234 -> 12.34 USD)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"minor units must be an int, got {type(amount).__name__}")
    return quantize(Decimal(amount).scaleb(-_exponent(currency)), currency)


def format_money(value: Decimal, currency: str) -> str:
    """Human display: $1,234.50."""
    amount = quantize(value, currency)
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), currency.upper() + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount):,}"
