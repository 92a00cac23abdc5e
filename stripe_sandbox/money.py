"""Checkout amount math, as a pure function.

Rules (documented in docs/stripe_sandbox.md):

* line ``amount_subtotal`` = ``unit_amount * quantity``; session subtotal is their sum.
* one coupon per session: ``percent_off`` gives ``round_half_up(subtotal * pct / 100)``;
  ``amount_off`` is capped at the subtotal. Coupons never discount shipping.
* the discount is allocated to lines in proportion to their subtotals (largest remainder, so
  the parts add up exactly).
* exclusive tax rates on a line apply to the line's discounted amount, each rate rounded half
  up per line. As on Stripe, line-item tax rates do not tax shipping.
* ``amount_total`` = subtotal - discount + shipping + tax.

Charge limits (Stripe's "minimum and maximum charge amounts", docs.stripe.com/currencies):
a total above zero must be at least the currency's minimum and at most ``MAX_AMOUNT`` minor
units. ``MIN_CHARGE`` also is the sandbox's currency whitelist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

MAX_AMOUNT = 99_999_999  # minor units: Stripe's eight-digit limit on amounts
# Minimum charge per currency in minor units (Stripe's published table).
MIN_CHARGE: dict[str, int] = {
    "usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "nzd": 50, "chf": 50, "sgd": 50,
    "jpy": 50, "hkd": 400, "sek": 300, "nok": 300, "dkk": 250, "pln": 200, "mxn": 1000,
}  # fmt: skip
SUPPORTED_CURRENCIES = frozenset(MIN_CHARGE)
ZERO_DECIMAL = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
        "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip


def format_amount(amount: int, currency: str) -> str:
    """``$0.50 usd`` / ``¥50 jpy``, the way Stripe's amount errors spell amounts."""
    symbols = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "$", "aud": "$",
               "nzd": "$", "sgd": "$", "hkd": "$", "mxn": "$"}  # fmt: skip
    value = f"{amount:,}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    return f"{symbols.get(currency, '')}{value} {currency}"


def charge_limit_error(amount_total: int, currency: str) -> str | None:
    """Why Stripe would refuse to charge ``amount_total`` (None when it may be charged).

    Zero is not a charge (the session needs no payment), so only totals above zero are held
    to the minimum."""
    if amount_total <= 0:
        return None
    minimum = MIN_CHARGE.get(currency, 50)
    if amount_total < minimum:
        return (
            "The Checkout Session's total amount due must add up to at least "
            f"{format_amount(minimum, currency)}"
        )
    if amount_total > MAX_AMOUNT:
        return (
            "The Checkout Session's total amount due must be no more than "
            f"{format_amount(MAX_AMOUNT, currency)}"
        )
    return None


@dataclass(frozen=True)
class TaxRateIn:
    id: str
    percentage: Decimal


@dataclass(frozen=True)
class LineIn:
    unit_amount: int
    quantity: int
    tax_rates: tuple[TaxRateIn, ...] = ()


@dataclass(frozen=True)
class CouponIn:
    percent_off: Decimal | None = None
    amount_off: int | None = None


@dataclass(frozen=True)
class LineTax:
    rate_id: str
    amount: int
    taxable_amount: int


@dataclass(frozen=True)
class LineOut:
    amount_subtotal: int
    amount_discount: int
    amount_tax: int
    amount_total: int
    taxes: tuple[LineTax, ...] = ()


@dataclass(frozen=True)
class SessionAmounts:
    lines: tuple[LineOut, ...]
    amount_subtotal: int
    amount_discount: int
    amount_shipping: int
    amount_tax: int
    amount_total: int
    tax_by_rate: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (tax, taxable)


def round_half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by the largest-remainder method."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0 for _ in weights]
    shares = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def coupon_discount(subtotal: int, coupon: CouponIn | None) -> int:
    if coupon is None or subtotal <= 0:
        return 0
    if coupon.percent_off is not None:
        amount = round_half_up(Decimal(subtotal) * coupon.percent_off / Decimal(100))
    else:
        amount = coupon.amount_off or 0
    return max(0, min(amount, subtotal))


def session_amounts(
    lines: list[LineIn], coupon: CouponIn | None, shipping_amount: int
) -> SessionAmounts:
    subtotals = [line.unit_amount * line.quantity for line in lines]
    subtotal = sum(subtotals)
    discount = coupon_discount(subtotal, coupon)
    line_discounts = allocate(discount, subtotals)
    outs: list[LineOut] = []
    tax_by_rate: dict[str, tuple[int, int]] = {}
    for line, sub, disc in zip(lines, subtotals, line_discounts, strict=True):
        taxable = sub - disc
        taxes: list[LineTax] = []
        for rate in line.tax_rates:
            amount = round_half_up(Decimal(taxable) * rate.percentage / Decimal(100))
            taxes.append(LineTax(rate.id, amount, taxable))
            prev_tax, prev_taxable = tax_by_rate.get(rate.id, (0, 0))
            tax_by_rate[rate.id] = (prev_tax + amount, prev_taxable + taxable)
        line_tax = sum(t.amount for t in taxes)
        outs.append(LineOut(sub, disc, line_tax, taxable + line_tax, tuple(taxes)))
    tax = sum(o.amount_tax for o in outs)
    return SessionAmounts(
        lines=tuple(outs),
        amount_subtotal=subtotal,
        amount_discount=discount,
        amount_shipping=shipping_amount,
        amount_tax=tax,
        amount_total=subtotal - discount + shipping_amount + tax,
        tax_by_rate=tax_by_rate,
    )
