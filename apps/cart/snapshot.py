"""A cart as plain data: what `selectors.load_cart_snapshot` reads and `calculations.price_cart`
prices. No ORM objects inside, so pricing is a pure function that tests build by hand."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from apps.inventory.availability import StockStatus
from apps.promotions.rules import CouponFacts

# Most units one cart line may hold (a DB constraint too).
MAX_LINE_QUANTITY = 99

# CART_CUSTOMIZATIONS: type -> {"name", "price", "max_length"}.
CustomizationCatalogue = Mapping[str, Mapping[str, object]]


@dataclass(frozen=True, slots=True)
class LineSnapshot:
    line_id: int
    variant_id: int
    product_id: int
    quantity: int
    # The catalog unit price and the customizations' price captured when the line was added.
    added_unit_price: Decimal
    added_customizations_price: Decimal
    current_price: Decimal  # the variant's catalog price now
    stock: StockStatus
    # The variant and its product are both active (catalog.variants.is_sellable, applied by
    # the loader so the rule lives in one place).
    sellable: bool = True
    # The product's category and all its ancestors, for coupon category rules.
    category_ids: frozenset[int] = frozenset()
    # As stored on the line: [{"type", "name", "value", "price"}, ...].
    customizations: tuple[Mapping[str, object], ...] = ()
    # For display only.
    product_name: str = ""
    product_url: str = ""
    sku: str = ""
    options: tuple[Mapping[str, object], ...] = ()
    image_url: str = ""
    # The product's, for checkout: shipping weight (None counts 0), whether tax and
    # shipping apply to it.
    weight_kg: Decimal | None = None
    taxable: bool = True
    requires_shipping: bool = True


@dataclass(frozen=True, slots=True)
class AppliedCouponSnapshot:
    """A coupon applied to the cart: its application row and the facts its rules need."""

    application_id: int
    applied_at: datetime
    facts: CouponFacts

    @property
    def coupon_id(self) -> int:
        return self.facts.coupon_id

    @property
    def code(self) -> str:
        return self.facts.code

    @property
    def name(self) -> str:
        return self.facts.name

    @property
    def type(self) -> str:
        return self.facts.type


@dataclass(frozen=True, slots=True)
class CartSnapshot:
    cart_id: int
    version: int
    currency: str
    user_id: int | None = None
    lines: tuple[LineSnapshot, ...] = ()
    coupons: tuple[AppliedCouponSnapshot, ...] = ()  # in the order they were applied
    # A signed-in customer's redeemed uses per coupon id; None for a guest (unknown).
    customer_usage: Mapping[int, int] | None = None
    customizations: CustomizationCatalogue = field(default_factory=dict)
