"""The cart priced: a pure function of a CartSnapshot, the combinability policy and the time.

No ORM, settings or clock in here: the loader (`selectors.load_cart_snapshot`) reads, this
computes, and the cart page, the API and checkout present the result. Checkout adds
shipping and tax on top of `PricedCart` in its own module. Every reason a line or a coupon
blocks checkout comes from here, so page, API and checkout cannot disagree.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from apps.cart.customizations import CustomizationsNow, reprice_customizations
from apps.cart.snapshot import (
    MAX_LINE_QUANTITY,
    AppliedCouponSnapshot,
    CartSnapshot,
    LineSnapshot,
)
from apps.core.money import ZERO, quantize
from apps.inventory.availability import StockStatus
from apps.promotions.discounts import CouponDiscount, DiscountLine, compute_discounts
from apps.promotions.rules import (
    CombinabilityPolicy,
    CouponFacts,
    Problem,
    check_combination,
    usage_problems,
    validate_coupon,
)


@dataclass(frozen=True, slots=True)
class PricedLine:
    line: LineSnapshot
    unit_price: Decimal  # today's catalog price plus today's customization prices
    added_unit_price: Decimal  # the same when the line was added
    line_total: Decimal
    discount: Decimal
    # Every reason this line blocks checkout (one sentence each).
    problems: tuple[str, ...] = ()
    # The line's customizations at today's prices.
    customizations: tuple[dict[str, str], ...] = ()
    max_quantity: int = MAX_LINE_QUANTITY  # the quantity field's max

    @property
    def line_id(self) -> int:
        return self.line.line_id

    @property
    def quantity(self) -> int:
        return self.line.quantity

    @property
    def stock(self) -> StockStatus:
        return self.line.stock

    @property
    def issue(self) -> str:
        """The problems as one text, what the line shows; empty when checkout may proceed."""
        return " ".join(self.problems)

    @property
    def price_changed(self) -> bool:
        return self.unit_price != self.added_unit_price

    @property
    def price_went_up(self) -> bool:
        return self.unit_price > self.added_unit_price


@dataclass(frozen=True, slots=True)
class PricedCoupon:
    coupon: AppliedCouponSnapshot
    amount: Decimal
    per_line: Mapping[int, Decimal]
    problems: tuple[Problem, ...] = ()
    free_shipping: bool = False

    @property
    def coupon_id(self) -> int:
        return self.coupon.coupon_id

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class PricedCart:
    cart_id: int
    version: int
    currency: str
    lines: tuple[PricedLine, ...]
    coupons: tuple[PricedCoupon, ...]
    subtotal: Decimal
    discount_total: Decimal
    estimated_total: Decimal  # before shipping and tax, which checkout adds
    item_count: int
    free_shipping: bool
    # Every distinct reason checkout is blocked, each once, in line order.
    issues: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def checkout_blocked(self) -> bool:
        return bool(self.issues) or self.is_empty

    @property
    def valid_coupon_ids(self) -> list[int]:
        return [c.coupon_id for c in self.coupons if c.valid]

    def coupon(self, coupon_id: int) -> PricedCoupon | None:
        return next((c for c in self.coupons if c.coupon_id == coupon_id), None)


def discount_lines(
    snapshot: CartSnapshot, extras: Mapping[int, CustomizationsNow] | None = None
) -> list[DiscountLine]:
    """The discount engine's view of the lines at today's prices: the catalog's for the
    variant, the catalogue's for its customizations."""
    extras = extras or _customizations_now(snapshot)
    return [
        DiscountLine(
            line_id=line.line_id,
            product_id=line.product_id,
            unit_price=line.current_price + extras[line.line_id].price,
            quantity=line.quantity,
            category_ids=line.category_ids,
        )
        for line in snapshot.lines
    ]


def _customizations_now(snapshot: CartSnapshot) -> dict[int, CustomizationsNow]:
    return {
        line.line_id: reprice_customizations(
            line.customizations, snapshot.customizations, snapshot.currency
        )
        for line in snapshot.lines
    }


def line_problems(
    line: LineSnapshot,
    *,
    variant_total: int | None = None,
    variant_lines: int = 1,
    withdrawn: Sequence[str] = (),
) -> tuple[str, ...]:
    """Every reason this line blocks checkout. The stock cap is per variant:
    `variant_total` is what all the cart's lines of the variant hold together
    (`variant_lines` of them). `withdrawn`: customizations on the line no longer offered.
    An unavailable product is the only reason given (nothing else matters)."""
    name = line.product_name
    total = line.quantity if variant_total is None else variant_total
    if not line.sellable:
        return (f"{name} is no longer available; remove it to continue.",)
    found: list[str] = []
    if withdrawn:
        found.append(
            f"{', '.join(withdrawn)} {'is' if len(withdrawn) == 1 else 'are'} no longer "
            f"offered for {name}; remove the item and add it again to continue."
        )
    stock = line.stock
    if not stock.purchasable:
        found.append(f"{name} is out of stock; remove it to continue.")
    elif not stock.allows(total):
        if variant_lines > 1:
            found.append(
                f"Only {stock.available} of {name} available, and your cart has {total} of it "
                f"across {variant_lines} lines; lower the quantities to continue."
            )
        else:
            found.append(
                f"Only {stock.available} of {name} available; lower the quantity to continue."
            )
    return tuple(found)


def coupon_problems(
    coupons: Sequence[AppliedCouponSnapshot],
    lines: Sequence[DiscountLine],
    *,
    currency: str,
    policy: CombinabilityPolicy,
    now: datetime,
    customer_usage: Mapping[int, int] | None = None,
) -> dict[int, tuple[Problem, ...]]:
    """Why each applied coupon does not count now. Besides its own rules, each coupon must
    combine with the ones before it (in applied order) that do count: codes that reached the
    cart together another way (a merge, a changed policy) are not stacked.

    The overall usage limit is left to payment start (reserve_usage, under the coupon lock);
    with `customer_usage` (a signed-in customer's redeemed uses per coupon) the per-customer
    limit is checked too, as applying the code would."""
    counted: list[CouponFacts] = []
    result: dict[int, tuple[Problem, ...]] = {}
    for applied in coupons:
        used = (customer_usage or {}).get(applied.coupon_id, 0)
        facts = replace(applied.facts, customer_usage_count=used)
        problems = validate_coupon(
            facts, lines=lines, now=now, currency=currency, check_usage=False
        )
        if customer_usage is not None:
            problems += usage_problems(facts, overall=False)
        if not problems:
            problems = check_combination(facts, counted, policy)
        if not problems:
            counted.append(facts)
        result[applied.coupon_id] = tuple(problems)
    return result


def _max_quantity(line: LineSnapshot, in_other_lines: int) -> int:
    """The quantity field's max: the same stock rule as the services (backorder and
    untracked variants up to 99), never below what the line already holds."""
    limit = line.stock.limit(MAX_LINE_QUANTITY)
    if line.stock.cap is not None:
        limit = min(limit, max(line.stock.cap - in_other_lines, 0))
    return max(limit, line.quantity)


def _priced_coupon(
    applied: AppliedCouponSnapshot, discount: CouponDiscount | None, problems: tuple[Problem, ...]
) -> PricedCoupon:
    """A coupon that does not count has no discount (the engine never saw it)."""
    if discount is None:
        return PricedCoupon(coupon=applied, amount=ZERO, per_line={}, problems=problems)
    return PricedCoupon(
        coupon=applied,
        amount=discount.amount,
        per_line=discount.per_line,
        problems=problems,
        free_shipping=discount.free_shipping,
    )


def price_cart(snapshot: CartSnapshot, policy: CombinabilityPolicy, now: datetime) -> PricedCart:
    """The cart at today's prices: line problems, coupon validity, discounts per coupon
    and per line, subtotal and estimated total (before shipping and tax)."""
    currency = snapshot.currency
    extras = _customizations_now(snapshot)
    engine_lines = discount_lines(snapshot, extras)
    problems = coupon_problems(
        snapshot.coupons,
        engine_lines,
        currency=currency,
        policy=policy,
        now=now,
        customer_usage=snapshot.customer_usage,
    )
    counted = [c.facts.discount for c in snapshot.coupons if not problems[c.coupon_id]]
    result = compute_discounts(
        engine_lines, counted, priority=policy.priority_order, currency=currency
    )
    per_variant: dict[int, list[int]] = {}
    for line in snapshot.lines:
        per_variant.setdefault(line.variant_id, []).append(line.quantity)
    lines: list[PricedLine] = []
    # Every distinct problem once: the lines of an oversold variant share one message, and
    # a withdrawn customization on one line does not hide it.
    issues: list[str] = []
    for line, engine_line in zip(snapshot.lines, engine_lines, strict=True):
        quantities = per_variant[line.variant_id]
        now_extras = extras[line.line_id]
        found = line_problems(
            line,
            variant_total=sum(quantities),
            variant_lines=len(quantities),
            withdrawn=now_extras.withdrawn,
        )
        issues.extend(p for p in found if p not in issues)
        lines.append(
            PricedLine(
                line=line,
                unit_price=engine_line.unit_price,
                added_unit_price=line.added_unit_price + line.added_customizations_price,
                line_total=result.line_totals[line.line_id],
                discount=result.per_line.get(line.line_id, ZERO),
                problems=found,
                customizations=now_extras.items,
                max_quantity=_max_quantity(line, sum(quantities) - line.quantity),
            )
        )
    discounts = {d.coupon_id: d for d in result.coupons}
    coupons = tuple(
        _priced_coupon(applied, discounts.get(applied.coupon_id), problems[applied.coupon_id])
        for applied in snapshot.coupons
    )
    subtotal = quantize(result.subtotal, currency)
    discount_total = quantize(result.total_discount, currency)
    return PricedCart(
        cart_id=snapshot.cart_id,
        version=snapshot.version,
        currency=currency,
        lines=tuple(lines),
        coupons=coupons,
        subtotal=subtotal,
        discount_total=discount_total,
        estimated_total=max(quantize(subtotal - discount_total, currency), ZERO),
        item_count=sum(line.quantity for line in snapshot.lines),
        free_shipping=result.free_shipping,
        issues=tuple(issues),
    )
