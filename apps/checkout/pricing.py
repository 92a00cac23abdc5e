"""Checkout totals: the priced cart plus the chosen shipping and the tax for the address.

Pure: `services.current_totals` gathers the inputs (priced cart, shipping quote, rates)
and every checkout page and API answer presents what this returns.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from apps.cart.calculations import PricedCart
from apps.checkout.shipping import ShippingQuote
from apps.checkout.tax import RateSnapshot, TaxableLine, TaxResult, compute_tax
from apps.core.money import ZERO, quantize


@dataclass(frozen=True, slots=True)
class CouponAmount:
    coupon_id: int
    code: str
    amount: Decimal
    free_shipping: bool = False


@dataclass(frozen=True, slots=True)
class CheckoutTotals:
    currency: str
    subtotal: Decimal
    discount_total: Decimal
    coupon_discounts: tuple[CouponAmount, ...]
    line_discounts: Mapping[int, Decimal]
    shipping: Decimal | None  # None until a method is chosen
    shipping_quote: ShippingQuote | None
    tax: TaxResult | None  # None until the destination is known
    tax_total: Decimal | None
    total: Decimal
    free_shipping: bool = False
    line_amounts: Mapping[int, Decimal] = field(default_factory=dict)  # after discount


def taxable_lines(
    priced: PricedCart, taxable: Mapping[int, bool], currency: str
) -> tuple[TaxableLine, ...]:
    """Each line's amount after its discount; `taxable` maps line id -> the product's flag
    (a line missing from it uses its snapshot's flag)."""
    return tuple(
        TaxableLine(
            line_id=line.line_id,
            amount=max(quantize(line.line_total - line.discount, currency), ZERO),
            taxable=taxable.get(line.line_id, line.line.taxable),
        )
        for line in priced.lines
    )


def checkout_totals(
    priced: PricedCart,
    *,
    shipping: ShippingQuote | None,
    rates: Sequence[RateSnapshot],
    taxable: Mapping[int, bool],
    currency: str,
) -> CheckoutTotals:
    """total = subtotal - discounts + shipping + tax, to the cent and never negative. Tax is
    computed once a destination is known (rates given or a shipping quote chosen); with
    neither, `tax` and `tax_total` are None and the total leaves them out."""
    subtotal = quantize(priced.subtotal, currency)
    # The discount never exceeds the subtotal, so the goods never cost less than nothing.
    discount = min(quantize(priced.discount_total, currency), subtotal)
    lines = taxable_lines(priced, taxable, currency)
    shipping_cost = quantize(shipping.cost, currency) if shipping is not None else None
    tax: TaxResult | None = None
    if rates or shipping is not None:
        tax = compute_tax(lines, shipping_cost or ZERO, rates, currency)
    total = subtotal - discount + (shipping_cost or ZERO) + (tax.total if tax else ZERO)
    return CheckoutTotals(
        currency=currency,
        subtotal=subtotal,
        discount_total=discount,
        coupon_discounts=tuple(
            CouponAmount(
                coupon_id=c.coupon_id,
                code=c.coupon.code,
                amount=quantize(c.amount, currency),
                free_shipping=c.free_shipping,
            )
            for c in priced.coupons
            if c.valid
        ),
        line_discounts={line.line_id: quantize(line.discount, currency) for line in priced.lines},
        shipping=shipping_cost,
        shipping_quote=shipping,
        tax=tax,
        tax_total=tax.total if tax else None,
        total=max(quantize(total, currency), ZERO),
        free_shipping=priced.free_shipping,
        line_amounts={line.line_id: line.amount for line in lines},
    )
