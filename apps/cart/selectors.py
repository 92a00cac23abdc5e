"""Reads of carts: whose cart this is, the header count, and the cart as a page shows it.

`cart_view` issues a fixed number of queries whatever the number of lines.
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import F, Prefetch, Sum
from django.utils import timezone

from apps.cart.models import MAX_LINE_QUANTITY, Cart, CartLine
from apps.cart.pricing import (
    CartTotals,
    CustomizationsNow,
    compute_totals,
    reprice_customizations,
)
from apps.catalog.models import ProductImage
from apps.catalog.selectors import CategoryTree, category_tree
from apps.inventory.availability import StockStatus
from apps.inventory.selectors import status_of
from apps.promotions.discounts import DiscountLine
from apps.promotions.models import Coupon
from apps.promotions.rules import (
    CombinabilityPolicy,
    CouponFacts,
    Problem,
    check_combination,
    usage_problems,
    validate_coupon,
)
from apps.promotions.selectors import (
    discount_input,
    facts_for,
    redeemed_by_customer,
    with_rules,
)

CART_SESSION_KEY = "cart_id"
User = AbstractBaseUser | AnonymousUser


def session_hash(session_key: str) -> str:
    """What a guest cart stores instead of the session key (a DB read must not leak keys)."""
    return hashlib.sha256(session_key.encode()).hexdigest()


def _session_cart_id(session: SessionBase) -> tuple[int, str] | None:
    """The guest cart id kept in the session, with the hash its cart must carry."""
    raw = session.get(CART_SESSION_KEY)
    key = session.session_key
    if not isinstance(raw, int) or isinstance(raw, bool) or not key:
        return None
    return raw, session_hash(key)


def active_cart(*, user: User | None, session: SessionBase) -> Cart | None:
    """The shopper's active cart: by user when signed in, else the guest cart in the session."""
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user_id=user.pk, status=Cart.Status.ACTIVE).first()
    found = _session_cart_id(session)
    if found is None:
        return None
    cart_id, digest = found
    return Cart.objects.filter(
        pk=cart_id, user__isnull=True, session_hash=digest, status=Cart.Status.ACTIVE
    ).first()


def owned_cart(cart_id: int, *, user: User | None, session: SessionBase) -> Cart | None:
    """This cart if it belongs to the shopper, else None (the API answers 404)."""
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(pk=cart_id, user_id=user.pk).first()
    found = _session_cart_id(session)
    if found is None or found[0] != cart_id:
        return None
    return Cart.objects.filter(pk=cart_id, user__isnull=True, session_hash=found[1]).first()


def item_count(*, user: User | None, session: SessionBase) -> int:
    """Units in the shopper's active cart: one aggregate query, no writes."""
    lines = CartLine.objects.filter(cart__status=Cart.Status.ACTIVE)
    if user is not None and user.is_authenticated:
        lines = lines.filter(cart__user_id=user.pk)
    else:
        found = _session_cart_id(session)
        if found is None:
            return 0
        cart_id, digest = found
        lines = lines.filter(cart_id=cart_id, cart__user__isnull=True, cart__session_hash=digest)
    total = lines.aggregate(n=Sum("quantity"))["n"]
    return int(total or 0)


@dataclass(frozen=True, slots=True)
class LineView:
    line: CartLine
    unit_price: Decimal  # current catalog price plus customizations
    added_unit_price: Decimal
    line_total: Decimal
    discount: Decimal
    stock: StockStatus
    image: ProductImage | None
    issue: str = ""  # why checkout is blocked by this line, if it is
    # The line's customizations at current prices (CART_CUSTOMIZATIONS).
    customizations: tuple[dict[str, str], ...] = ()
    # Units of the same variant in the cart's other lines (other customizations): they
    # draw on the same stock.
    in_other_lines: int = 0

    @property
    def price_changed(self) -> bool:
        return self.unit_price != self.added_unit_price

    @property
    def price_went_up(self) -> bool:
        return self.unit_price > self.added_unit_price

    @property
    def variant(self):  # type: ignore[no-untyped-def]
        return self.line.variant

    @property
    def product(self):  # type: ignore[no-untyped-def]
        return self.line.variant.product

    @property
    def max_quantity(self) -> int:
        """The quantity field's max: the same stock rule as the services (backorder and
        untracked variants up to 99), never below what the line already holds."""
        limit = self.stock.limit(MAX_LINE_QUANTITY)
        if self.stock.cap is not None:
            limit = min(limit, max(self.stock.cap - self.in_other_lines, 0))
        return max(limit, self.line.quantity)


@dataclass(frozen=True, slots=True)
class CouponView:
    coupon: Coupon
    amount: Decimal
    problems: tuple[Problem, ...] = ()
    free_shipping: bool = False

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class CartView:
    cart: Cart
    lines: list[LineView]
    coupons: list[CouponView]
    totals: CartTotals
    issues: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def checkout_blocked(self) -> bool:
        return bool(self.issues) or self.is_empty

    @property
    def version(self) -> int:
        return self.cart.version

    @property
    def valid_coupons(self) -> list[Coupon]:
        return [c.coupon for c in self.coupons if c.valid]


def _lines_queryset(cart: Cart) -> list[CartLine]:
    return list(
        CartLine.objects.filter(cart=cart)
        .select_related("variant__product__category", "variant__stock")
        .prefetch_related(
            Prefetch(
                "variant__product__images",
                queryset=ProductImage.objects.filter(is_primary=True),
                to_attr="primary_images",
            )
        )
        .order_by("created_at", "id")
    )


def category_ids_for(category_id: int, tree: CategoryTree) -> frozenset[int]:
    """The category and its ancestors, so a coupon for a parent covers subcategories."""
    found = tree.by_id.get(category_id)
    if found is None:
        return frozenset({category_id})
    return frozenset(c.pk for c in tree.ancestors(found))


def customizations_now(line: CartLine) -> CustomizationsNow:
    """The line's customizations priced from CART_CUSTOMIZATIONS as it is now."""
    catalogue: Mapping[str, Mapping[str, object]] = getattr(settings, "CART_CUSTOMIZATIONS", {})
    stored = line.customizations if isinstance(line.customizations, list) else []
    return reprice_customizations([c for c in stored if isinstance(c, Mapping)], catalogue)


def discount_lines(
    lines: Sequence[CartLine], tree: CategoryTree | None = None
) -> list[DiscountLine]:
    """The engine's view of cart lines at *current* prices: the catalog's for the variant,
    CART_CUSTOMIZATIONS' for its customizations."""
    tree = tree or category_tree()
    return [
        DiscountLine(
            line_id=line.pk,
            product_id=line.variant.product_id,
            unit_price=line.variant.price + customizations_now(line).price,
            quantity=line.quantity,
            category_ids=category_ids_for(line.variant.product.category_id, tree),
        )
        for line in lines
    ]


def applied_coupons(cart: Cart) -> list[Coupon]:
    """The cart's coupons in the order they were applied, rules prefetched. Each carries
    `application_id` and `applied_at` from its CartCoupon row (the API's AppliedCoupon)."""
    return list(
        with_rules(Coupon.objects.filter(cart_applications__cart=cart))
        .annotate(
            application_id=F("cart_applications__id"),
            applied_at=F("cart_applications__applied_at"),
        )
        .order_by("cart_applications__applied_at", "cart_applications__id")
    )


def line_issues(
    line: CartLine,
    stock: StockStatus,
    variant_total: int | None = None,
    variant_lines: int = 1,
    withdrawn: Sequence[str] = (),
) -> tuple[str, ...]:
    """Every reason this line blocks checkout. The stock cap is per variant:
    `variant_total` is what all the cart's lines of the variant hold together
    (`variant_lines` of them). `withdrawn`: customizations on the line that are no longer
    offered. An unavailable product is the only reason given (nothing else matters)."""
    variant = line.variant
    total = line.quantity if variant_total is None else variant_total
    if not variant.product.is_active or not variant.is_active:
        return (f"{variant.product.name} is no longer available; remove it to continue.",)
    found: list[str] = []
    if withdrawn:
        found.append(
            f"{', '.join(withdrawn)} {'is' if len(withdrawn) == 1 else 'are'} no longer "
            f"offered for {variant.product.name}; "
            "remove the item and add it again to continue."
        )
    if not stock.purchasable:
        found.append(f"{variant.product.name} is out of stock; remove it to continue.")
    elif not stock.allows(total):
        if variant_lines > 1:
            found.append(
                f"Only {stock.available} of {variant.product.name} available, and your cart "
                f"has {total} of it across {variant_lines} lines; "
                "lower the quantities to continue."
            )
        else:
            found.append(
                f"Only {stock.available} of {variant.product.name} available; "
                "lower the quantity to continue."
            )
    return tuple(found)


def line_issue(
    line: CartLine,
    stock: StockStatus,
    variant_total: int | None = None,
    variant_lines: int = 1,
    withdrawn: Sequence[str] = (),
) -> str:
    """`line_issues` as one text (what the line shows), empty when checkout may proceed."""
    return " ".join(line_issues(line, stock, variant_total, variant_lines, withdrawn))


def coupon_problems_for(
    coupons: Sequence[Coupon],
    lines: Sequence[DiscountLine],
    currency: str,
    policy: CombinabilityPolicy,
    customer_usage: Mapping[int, int] | None = None,
) -> dict[int, tuple[Problem, ...]]:
    """Why each applied coupon does not count now. Besides its own rules, each coupon
    must combine with the ones before it (in applied order) that do count: codes that
    reached the cart together another way (a merge, a changed policy) are not stacked.

    The overall usage limit is left to payment start (reserve_usage, under the coupon
    lock); with `customer_usage` (a signed-in customer's redeemed uses per coupon) the
    per-customer limit is checked too, as applying the code would."""
    now = timezone.now()
    counted: list[CouponFacts] = []
    result: dict[int, tuple[Problem, ...]] = {}
    for coupon in coupons:
        used = (customer_usage or {}).get(coupon.pk, 0)
        facts = facts_for(coupon, customer_usage_count=used)
        problems = validate_coupon(
            facts, lines=lines, now=now, currency=currency, check_usage=False
        )
        if customer_usage is not None:
            problems += usage_problems(facts, overall=False)
        if not problems:
            problems = check_combination(facts, counted, policy)
        if not problems:
            counted.append(facts)
        result[coupon.pk] = tuple(problems)
    return result


def cart_view(cart: Cart, *, policy: CombinabilityPolicy | None = None) -> CartView:
    """The cart with current prices, stock rechecked, coupons revalidated and totals."""
    policy = policy or CombinabilityPolicy.from_settings()
    lines = _lines_queryset(cart)
    tree = category_tree()
    engine_lines = discount_lines(lines, tree)
    coupons = applied_coupons(cart)
    usage = (
        redeemed_by_customer([c.pk for c in coupons], user_id=cart.user_id)
        if cart.user_id is not None
        else None
    )
    coupon_problems = coupon_problems_for(coupons, engine_lines, cart.currency, policy, usage)
    valid = [c for c in coupons if not coupon_problems[c.pk]]
    totals = compute_totals(
        engine_lines,
        [discount_input(c) for c in valid],
        priority=policy.priority_order,
        currency=cart.currency,
    )
    per_variant: dict[int, list[int]] = {}
    for line in lines:
        per_variant.setdefault(line.variant_id, []).append(line.quantity)
    views: list[LineView] = []
    # Every distinct problem once: the lines of an oversold variant share one message,
    # and a withdrawn customization on one line no longer hides it.
    issues: list[str] = []
    for line, engine_line in zip(lines, engine_lines, strict=True):
        stock = status_of(getattr(line.variant, "stock", None))
        quantities = per_variant[line.variant_id]
        extras = customizations_now(line)
        problems = line_issues(line, stock, sum(quantities), len(quantities), extras.withdrawn)
        issues.extend(p for p in problems if p not in issues)
        issue = " ".join(problems)
        images = getattr(line.variant.product, "primary_images", [])
        views.append(
            LineView(
                line=line,
                unit_price=engine_line.unit_price,
                added_unit_price=line.unit_price + line.customizations_price,
                line_total=totals.line_totals[line.pk],
                discount=totals.line_discounts.get(line.pk, Decimal("0.00")),
                stock=stock,
                image=images[0] if images else None,
                issue=issue,
                in_other_lines=sum(quantities) - line.quantity,
                customizations=extras.items,
            )
        )
    coupon_views = [
        CouponView(
            coupon=c,
            amount=totals.coupon_amount(c.pk),
            problems=coupon_problems[c.pk],
            free_shipping=any(
                d.free_shipping for d in totals.coupon_discounts if d.coupon_id == c.pk
            ),
        )
        for c in coupons
    ]
    return CartView(cart=cart, lines=views, coupons=coupon_views, totals=totals, issues=issues)
