"""Reads of carts: whose cart this is, the header count, and the cart's snapshot.

`load_cart_snapshot` issues a fixed number of queries whatever the number of lines;
`calculations.price_cart` prices what it returns.
"""

import hashlib
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import F, Prefetch, Sum
from django.utils import timezone

from apps.cart.calculations import PricedCart, price_cart
from apps.cart.errors import Detail, ProductUnavailable
from apps.cart.models import Cart, CartLine
from apps.cart.snapshot import AppliedCouponSnapshot, CartSnapshot, LineSnapshot
from apps.catalog.models import ProductImage, ProductVariant
from apps.catalog.selectors import CategoryTree, category_tree
from apps.catalog.variants import is_sellable
from apps.inventory.selectors import status_of
from apps.promotions.models import Coupon
from apps.promotions.rules import CombinabilityPolicy
from apps.promotions.selectors import facts_for, redeemed_by_customer, with_rules

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


def _lines_queryset(cart: Cart) -> list[CartLine]:
    return list(
        CartLine.objects.filter(cart=cart)
        .select_related("variant__product", "variant__stock")
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


def _line_snapshot(line: CartLine, tree: CategoryTree) -> LineSnapshot:
    variant = line.variant
    product = variant.product
    images = getattr(product, "primary_images", [])
    stored = line.customizations if isinstance(line.customizations, list) else []
    return LineSnapshot(
        line_id=line.pk,
        variant_id=variant.pk,
        product_id=product.pk,
        quantity=line.quantity,
        added_unit_price=line.unit_price,
        added_customizations_price=line.customizations_price,
        current_price=variant.price,
        stock=status_of(getattr(variant, "stock", None)),
        sellable=is_sellable(variant),
        category_ids=category_ids_for(product.category_id, tree),
        customizations=tuple(c for c in stored if isinstance(c, Mapping)),
        product_name=product.name,
        product_url=product.get_absolute_url(),
        sku=variant.sku,
        options=tuple(o for o in variant.options if isinstance(o, Mapping))
        if isinstance(variant.options, list)
        else (),
        image_url=images[0].image.url if images else "",
        weight_kg=product.weight_kg,
        taxable=product.taxable,
        requires_shipping=product.requires_shipping,
    )


def load_cart_snapshot(cart: Cart) -> CartSnapshot:
    """Everything pricing needs, read in a fixed number of queries whatever the number of
    lines: lines with variant, product and stock (1), primary images (1), categories (1),
    applied coupons (1) with their rules (4), and a customer's redeemed uses (1)."""
    lines = _lines_queryset(cart)
    tree = category_tree() if lines else CategoryTree(by_id={}, children={})
    coupons = applied_coupons(cart)
    usage = (
        redeemed_by_customer([c.pk for c in coupons], user_id=cart.user_id)
        if cart.user_id is not None
        else None
    )
    catalogue: Mapping[str, Mapping[str, object]] = getattr(settings, "CART_CUSTOMIZATIONS", {})
    return CartSnapshot(
        cart_id=cart.pk,
        version=cart.version,
        currency=cart.currency,
        user_id=cart.user_id,
        lines=tuple(_line_snapshot(line, tree) for line in lines),
        coupons=tuple(
            AppliedCouponSnapshot(
                application_id=getattr(c, "application_id", c.pk),
                applied_at=getattr(c, "applied_at", cart.updated_at),
                facts=facts_for(c),
            )
            for c in coupons
        ),
        customer_usage=usage,
        customizations=catalogue,
    )


def priced_cart(
    cart: Cart, *, policy: CombinabilityPolicy | None = None, now: datetime | None = None
) -> PricedCart:
    """The cart priced now, under the configured combinability policy: what the cart page
    and the API present."""
    return price_cart(
        load_cart_snapshot(cart),
        policy or CombinabilityPolicy.from_settings(),
        now or timezone.now(),
    )


def resolve_variant_id(*, variant_id: int | None, product_id: int | None) -> int:
    """The variant to add: the given one (which must belong to product_id when both are
    given), or a product's only active variant."""
    if variant_id is not None:
        if (
            product_id is not None
            and not ProductVariant.objects.filter(pk=variant_id, product_id=product_id).exists()
        ):
            message = "That option does not belong to that product."
            raise ProductUnavailable(message, details=[Detail("variantId", "mismatch", message)])
        return variant_id
    if product_id is None:
        raise ProductUnavailable("Give a variantId.")
    ids = list(
        ProductVariant.objects.filter(product_id=product_id, is_active=True).values_list(
            "pk", flat=True
        )[:2]
    )
    if len(ids) != 1:
        message = (
            "That product could not be found."
            if not ids
            else "Choose an option: give the variantId."
        )
        raise ProductUnavailable(message, details=[Detail("variantId", "required", message)])
    return ids[0]
