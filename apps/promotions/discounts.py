"""The discount engine: pure, Decimal only, no ORM.

Given cart lines and the coupons to apply (already validated), it returns the discount
of each coupon and of each line. Guarantees (proved by property tests):

- each discount is rounded half-up to the currency's minor unit;
- a coupon's discount is split over its eligible lines in proportion to what is left of
  each line, rounded per line, the rounding remainder on the largest line;
- a line is never discounted below zero, so the discounted total is never negative;
- free shipping is a flag for the shipping step, never an amount here.

Coupons apply one after another in the configured priority order, each on what the
earlier ones left.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from apps.core.money import ZERO, quantize

HUNDRED = Decimal("100")

PERCENTAGE = "percentage"
FIXED_AMOUNT = "fixed_amount"
FREE_SHIPPING = "free_shipping"
BUY_X_GET_Y = "buy_x_get_y"
COUPON_TYPES = (PERCENTAGE, FIXED_AMOUNT, FREE_SHIPPING, BUY_X_GET_Y)
DEFAULT_PRIORITY: tuple[str, ...] = (BUY_X_GET_Y, PERCENTAGE, FIXED_AMOUNT, FREE_SHIPPING)


@dataclass(frozen=True, slots=True)
class DiscountLine:
    line_id: int
    product_id: int
    unit_price: Decimal
    quantity: int
    # The product's category and all its ancestors, for category rules.
    category_ids: frozenset[int] = frozenset()

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class DiscountCoupon:
    coupon_id: int
    code: str
    type: str
    value: Decimal = ZERO
    maximum_discount: Decimal | None = None
    buy_quantity: int | None = None
    get_quantity: int | None = None
    applicable_product_ids: frozenset[int] = frozenset()
    excluded_product_ids: frozenset[int] = frozenset()
    applicable_category_ids: frozenset[int] = frozenset()
    excluded_category_ids: frozenset[int] = frozenset()

    def covers(self, line: DiscountLine) -> bool:
        """Is this line eligible? Exclusions win; empty inclusion lists mean everything."""
        if line.product_id in self.excluded_product_ids:
            return False
        if line.category_ids & self.excluded_category_ids:
            return False
        if not self.applicable_product_ids and not self.applicable_category_ids:
            return True
        return line.product_id in self.applicable_product_ids or bool(
            line.category_ids & self.applicable_category_ids
        )


@dataclass(frozen=True, slots=True)
class CouponDiscount:
    coupon_id: int
    code: str
    amount: Decimal
    per_line: Mapping[int, Decimal]
    free_shipping: bool = False


@dataclass(frozen=True, slots=True)
class DiscountResult:
    subtotal: Decimal
    coupons: tuple[CouponDiscount, ...]
    per_line: Mapping[int, Decimal]
    total_discount: Decimal
    free_shipping: bool
    line_totals: Mapping[int, Decimal] = field(default_factory=dict)

    @property
    def discounted_subtotal(self) -> Decimal:
        return self.subtotal - self.total_discount


def eligible_lines(coupon: DiscountCoupon, lines: Iterable[DiscountLine]) -> list[DiscountLine]:
    return [line for line in lines if line.quantity > 0 and coupon.covers(line)]


def allocate(
    amount: Decimal,
    weights: Mapping[int, Decimal],
    caps: Mapping[int, Decimal],
    currency: str,
) -> dict[int, Decimal]:
    """Split `amount` over lines in proportion to `weights`, rounded per line, never more
    than a line's cap. The rounding remainder goes to the largest line (then the next
    largest if that one is full). `amount` is clamped to the sum of the caps."""
    keys = [k for k in weights if weights[k] > 0 and caps.get(k, ZERO) > 0]
    shares = dict.fromkeys(weights, ZERO)
    amount = min(quantize(amount, currency), sum((caps[k] for k in keys), ZERO))
    total_weight = sum((weights[k] for k in keys), ZERO)
    if amount <= 0 or total_weight <= 0:
        return dict.fromkeys(weights, ZERO)
    for k in keys:
        shares[k] = min(quantize(amount * weights[k] / total_weight, currency), caps[k])
    largest_first = sorted(keys, key=lambda k: (-weights[k], -caps[k], k))
    remainder = amount - sum(shares.values(), ZERO)
    for k in largest_first:
        if remainder == 0:
            break
        step = min(remainder, caps[k] - shares[k]) if remainder > 0 else -min(-remainder, shares[k])
        shares[k] += step
        remainder -= step
    return shares


def _bxgy_weights(
    coupon: DiscountCoupon, lines: Sequence[DiscountLine], currency: str
) -> dict[int, Decimal]:
    """Raw discount per line: among all eligible units, dearest first, every group of
    buy+get units discounts its `get` cheapest units by `value` percent."""
    buy, get = coupon.buy_quantity or 0, coupon.get_quantity or 0
    if buy < 1 or get < 1:
        return {}
    units: list[tuple[Decimal, int]] = []
    for line in lines:
        units.extend([(line.unit_price, line.line_id)] * line.quantity)
    units.sort(key=lambda u: (-u[0], u[1]))
    group = buy + get
    raw: dict[int, Decimal] = {}
    percent = min(max(coupon.value, ZERO), HUNDRED) / HUNDRED
    for start in range(0, len(units) - group + 1, group):
        for price, line_id in units[start + buy : start + group]:
            raw[line_id] = raw.get(line_id, ZERO) + price * percent
    return raw


def _coupon_amount_and_weights(
    coupon: DiscountCoupon,
    lines: Sequence[DiscountLine],
    remaining: Mapping[int, Decimal],
    currency: str,
) -> tuple[Decimal, dict[int, Decimal]]:
    base = {line.line_id: remaining[line.line_id] for line in lines}
    base_total = sum(base.values(), ZERO)
    if coupon.type == PERCENTAGE:
        percent = min(max(coupon.value, ZERO), HUNDRED)
        return quantize(base_total * percent / HUNDRED, currency), base
    if coupon.type == FIXED_AMOUNT:
        return quantize(max(coupon.value, ZERO), currency), base
    if coupon.type == BUY_X_GET_Y:
        raw = _bxgy_weights(coupon, lines, currency)
        return quantize(sum(raw.values(), ZERO), currency), raw
    return ZERO, {}


def compute_discounts(
    lines: Sequence[DiscountLine],
    coupons: Sequence[DiscountCoupon],
    *,
    currency: str,
    priority: Sequence[str] = DEFAULT_PRIORITY,
) -> DiscountResult:
    line_totals = {line.line_id: quantize(line.total, currency) for line in lines}
    subtotal = sum(line_totals.values(), ZERO)
    remaining = dict(line_totals)
    rank = {t: i for i, t in enumerate(priority)}
    ordered = sorted(enumerate(coupons), key=lambda ic: (rank.get(ic[1].type, len(rank)), ic[0]))
    results: list[CouponDiscount] = []
    per_line = dict.fromkeys(line_totals, ZERO)
    free_shipping = False
    for _, coupon in ordered:
        eligible = eligible_lines(coupon, lines)
        if coupon.type == FREE_SHIPPING:
            granted = bool(eligible)
            free_shipping = free_shipping or granted
            results.append(CouponDiscount(coupon.coupon_id, coupon.code, ZERO, {}, granted))
            continue
        amount, weights = _coupon_amount_and_weights(coupon, eligible, remaining, currency)
        if coupon.maximum_discount is not None:
            amount = min(amount, max(quantize(coupon.maximum_discount, currency), ZERO))
        caps = {line.line_id: remaining[line.line_id] for line in eligible}
        shares = allocate(amount, weights, caps, currency) if weights else {}
        shares = {k: v for k, v in shares.items() if v > 0}
        for line_id, share in shares.items():
            remaining[line_id] -= share
            per_line[line_id] += share
        results.append(
            CouponDiscount(coupon.coupon_id, coupon.code, sum(shares.values(), ZERO), shares)
        )
    # Report coupons in the order they were given, whatever order they applied in.
    by_id = {c.coupon_id: c for c in results}
    in_given_order = tuple(by_id[c.coupon_id] for c in coupons if c.coupon_id in by_id)
    total = sum((c.amount for c in results), ZERO)
    return DiscountResult(
        subtotal=subtotal,
        coupons=in_given_order,
        per_line=per_line,
        total_discount=total,
        free_shipping=free_shipping,
        line_totals=line_totals,
    )
