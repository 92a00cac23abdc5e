"""Tax: which rates apply to an address, and the tax on a cart's lines and shipping.

Pure: no ORM or settings. Tax is charged per line on the discounted line amount and
rounded half-up per line and rate, so the breakdown by jurisdiction adds up to the total
exactly; shipping is taxed only by rates that say so (spec decision 18).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from apps.checkout.shipping import normalize_postcode, normalize_subdivision
from apps.core.money import ZERO, quantize

# Effective rates are shown as fractions with this many places (0.0725 is 7.25%).
RATE_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class RateSnapshot:
    rate_id: int
    name: str
    country: str
    subdivision: str
    postcode_prefix: str
    rate: Decimal  # a fraction: 0.0725 is 7.25%
    kind: str
    applies_to_shipping: bool


@dataclass(frozen=True, slots=True)
class TaxableLine:
    line_id: int
    amount: Decimal  # the line total after its discount
    taxable: bool = True


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One jurisdiction's tax: its rate, what it taxed and how much."""

    rate_id: int
    name: str
    kind: str
    rate: Decimal
    taxable_amount: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TaxResult:
    lines: tuple[TaxLine, ...]
    total: Decimal
    effective_rate: Decimal  # total / taxable base; 0 when nothing is taxable
    per_line: Mapping[int, Decimal]  # cart line id -> its tax (all rates)
    shipping: Decimal = ZERO  # the tax on shipping (all rates)
    taxable_base: Decimal = ZERO


def _specificity(rate: RateSnapshot, subdivision: str, postcode: str) -> tuple[int, int] | None:
    """(prefix length, has subdivision) when the rate covers the address, else None."""
    prefix = normalize_postcode(rate.postcode_prefix)
    own_subdivision = normalize_subdivision(rate.country, rate.subdivision)
    if own_subdivision and own_subdivision != subdivision:
        return None
    if prefix and not postcode.startswith(prefix):
        return None
    return len(prefix), 1 if own_subdivision else 0


def rates_for(
    country: str, subdivision: str, postcode: str, rates: Iterable[RateSnapshot]
) -> tuple[RateSnapshot, ...]:
    """The most specific rates covering the address: a postcode-prefix rate beats a
    subdivision rate, which beats a country-wide one. Rates equally specific all apply
    (a state and a county rate on the same level)."""
    country = country.strip().upper()
    subdivision = normalize_subdivision(country, subdivision)
    postcode = normalize_postcode(postcode)
    scored = [
        (found, rate)
        for rate in rates
        if rate.country.strip().upper() == country
        and (found := _specificity(rate, subdivision, postcode)) is not None
    ]
    if not scored:
        return ()
    best = max(found for found, _ in scored)
    return tuple(
        rate for found, rate in sorted(scored, key=lambda s: s[1].rate_id) if found == best
    )


def compute_tax(
    lines: Sequence[TaxableLine],
    shipping: Decimal,
    rates: Sequence[RateSnapshot],
    currency: str,
) -> TaxResult:
    """Tax on each taxable line (and on shipping for rates that apply to it), rounded half-up
    per line and rate in the currency; non-taxable lines pay nothing."""
    shipping = max(shipping, ZERO)
    per_line: dict[int, Decimal] = {line.line_id: quantize(ZERO, currency) for line in lines}
    taxed = [line for line in lines if line.taxable]
    tax_lines: list[TaxLine] = []
    shipping_tax = quantize(ZERO, currency)
    for rate in rates:
        amount = quantize(ZERO, currency)
        base = ZERO
        for line in taxed:
            line_amount = max(line.amount, ZERO)
            tax = quantize(line_amount * rate.rate, currency)
            per_line[line.line_id] += tax
            amount += tax
            base += line_amount
        if rate.applies_to_shipping and shipping > 0:
            tax = quantize(shipping * rate.rate, currency)
            shipping_tax += tax
            amount += tax
            base += shipping
        tax_lines.append(
            TaxLine(
                rate_id=rate.rate_id,
                name=rate.name,
                kind=rate.kind,
                rate=rate.rate,
                taxable_amount=quantize(base, currency),
                amount=amount,
            )
        )
    total = quantize(sum((t.amount for t in tax_lines), ZERO), currency)
    taxable_base = sum((max(line.amount, ZERO) for line in taxed), ZERO)
    if any(r.applies_to_shipping for r in rates):
        taxable_base += shipping
    taxable_base = quantize(taxable_base, currency)
    effective = (
        (total / taxable_base).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)
        if taxable_base > 0
        else Decimal("0")
    )
    return TaxResult(
        lines=tuple(tax_lines),
        total=total,
        effective_rate=effective,
        per_line=per_line,
        shipping=shipping_tax,
        taxable_base=taxable_base,
    )
