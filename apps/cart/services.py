"""Writes to carts. Each write locks the cart row, checks the version it was based on
(when given), changes lines or coupons, and bumps the version, in one transaction.

Prices are always read from the catalog here; nothing the browser says about money is
trusted.
"""

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.cart.calculations import discount_lines
from apps.cart.customizations import price_customizations
from apps.cart.errors import (
    CartGone,
    CartNotActive,
    CouponRejected,
    Detail,
    InsufficientStock,
    InvalidCustomization,
    InvalidQuantity,
    LineNotFound,
    ProductUnavailable,
    StaleCart,
)
from apps.cart.models import MAX_LINE_QUANTITY, Cart, CartCoupon, CartLine
from apps.cart.selectors import (
    CART_SESSION_KEY,
    active_cart,
    load_cart_snapshot,
    session_hash,
)
from apps.catalog.models import ProductVariant
from apps.catalog.variants import is_sellable
from apps.inventory.availability import StockStatus
from apps.inventory.selectors import status_of
from apps.promotions.rules import ALREADY_APPLIED
from apps.promotions.selectors import check_code

logger = logging.getLogger(__name__)

User = AbstractBaseUser | AnonymousUser


def abandon_after() -> timedelta:
    return timedelta(days=int(getattr(settings, "CART_ABANDON_AFTER_DAYS", 30)))


def retention() -> timedelta:
    return timedelta(days=int(getattr(settings, "CART_RETENTION_DAYS", 90)))


def _new_cart(**owner: object) -> Cart:
    now = timezone.now()
    return Cart.objects.create(
        currency=settings.DEFAULT_CURRENCY, expires_at=now + abandon_after(), **owner
    )


def get_or_create_cart(*, user: User | None, session: SessionBase) -> Cart:
    """The shopper's active cart, created on first need.

    Customers: one active cart per user, guarded by a partial unique constraint (insert,
    and on conflict read the winner). Guests: the cart id lives in the Django session,
    and one active guest cart per session is guarded the same way, so two first
    requests of one session at once end with the same cart (otherwise the cart whose
    session save lost would be orphaned with its line)."""
    found = active_cart(user=user, session=session)
    if found is not None:
        return found
    if user is not None and user.is_authenticated:
        for _attempt in range(2):  # the winner may be checked out before we read it
            try:
                with transaction.atomic():
                    return _new_cart(user_id=user.pk)
            except IntegrityError:
                winner = Cart.objects.filter(user_id=user.pk, status=Cart.Status.ACTIVE).first()
                if winner is not None:
                    return winner
        raise CartNotActive("Your cart is being updated in another window; please try again.")
    if session.session_key is None:
        session.save()
    assert session.session_key is not None
    digest = session_hash(session.session_key)
    guest_carts = Cart.objects.filter(
        user__isnull=True, session_hash=digest, status=Cart.Status.ACTIVE
    )
    cart: Cart | None = None
    for _attempt in range(2):  # the winner may be merged or checked out before we read it
        try:
            with transaction.atomic():
                cart = _new_cart(session_hash=digest)
            logger.info("guest cart created", extra={"cart_id": cart.pk})
            break
        except IntegrityError:
            cart = guest_carts.first()
            if cart is not None:
                break
    if cart is None:
        raise CartNotActive("Your cart is being updated in another window; please try again.")
    session[CART_SESSION_KEY] = cart.pk
    return cart


def bump_version(cart: Cart, *also: str) -> None:
    """Every write bumps the version (and pushes the expiry back): a tab based on the
    cart as it was is refused with StaleCart. The caller holds the cart's row lock."""
    now = timezone.now()
    cart.version += 1
    cart.updated_at = now
    cart.expires_at = now + abandon_after()
    cart.save(update_fields=["version", "updated_at", "expires_at", *also])


@contextmanager
def _write(cart: Cart, expected_version: int | None) -> Iterator[Cart]:
    """Lock the cart, refuse stale, finished or vanished carts, and bump the version on
    success; the caller's `cart` then carries the new version.

    The caller found the cart with an unlocked read, so a sign-in merge may have deleted
    it meanwhile (it moved into the customer's cart): that is CartGone, not a crash."""
    with transaction.atomic():
        locked = Cart.objects.select_for_update().filter(pk=cart.pk).first()
        if locked is None:
            raise CartGone(
                "This cart no longer exists; it may have been merged into your account's "
                "cart. Reload to see your current cart."
            )
        if locked.status != Cart.Status.ACTIVE:
            raise CartNotActive("This cart has already been checked out or has expired.")
        if expected_version is not None and expected_version != locked.version:
            raise StaleCart(locked.version)
        yield locked
        bump_version(locked)
    for name in ("version", "updated_at", "expires_at"):
        setattr(cart, name, getattr(locked, name))


def validate_quantity(quantity: object, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(
            "Quantity must be a whole number.",
            details=[Detail("quantity", "invalid", "Quantity must be a whole number.")],
        )
    if not low <= quantity <= MAX_LINE_QUANTITY:
        message = f"Quantity must be between {low} and {MAX_LINE_QUANTITY}."
        raise InvalidQuantity(message, details=[Detail("quantity", "out_of_range", message)])
    return quantity


def _sellable_variant(variant_id: int) -> ProductVariant:
    variant = (
        ProductVariant.objects.select_related("product", "stock").filter(pk=variant_id).first()
    )
    if variant is None:
        raise ProductUnavailable(
            "That product could not be found.",
            details=[Detail("variantId", "not_found", "That product could not be found.")],
        )
    if not is_sellable(variant):
        message = f"{variant.product.name} is no longer available."
        raise ProductUnavailable(message, details=[Detail("variantId", "inactive", message)])
    return variant


def _check_stock(
    variant: ProductVariant,
    stock: StockStatus,
    quantity: int,
    in_cart: int,
    *,
    where: str = "in your cart",
) -> None:
    """`quantity` is what the cart would hold of the variant across all its lines (lines
    differing only in customizations share the same stock); `in_cart` is what the rest of
    the cart already holds of it, for the message."""
    if not stock.purchasable:
        raise InsufficientStock(f"{variant.product.name} is out of stock.", available=0)
    if not stock.allows(quantity):
        available = stock.available or 0
        already = f" (you already have {in_cart} {where})" if in_cart else ""
        raise InsufficientStock(
            f"Only {available} of {variant.product.name} available{already}.",
            available=available,
        )


def _variant_lines(cart: Cart, variant_id: int) -> list[CartLine]:
    """Every line of this variant in the (locked) cart, locked too."""
    return list(
        CartLine.objects.select_for_update().filter(cart=cart, variant_id=variant_id).order_by("pk")
    )


def _customizations(
    requested: Sequence[Mapping[str, object]], currency: str
) -> tuple[list[dict[str, str]], str, Decimal]:
    catalogue: Mapping[str, Mapping[str, object]] = getattr(settings, "CART_CUSTOMIZATIONS", {})
    try:
        items, price = price_customizations(requested, catalogue, currency)
    except ValueError as exc:
        raise InvalidCustomization(
            str(exc), details=[Detail("customizations", "invalid", str(exc))]
        ) from exc
    if not items:
        return [], "", price
    canonical = json.dumps([[i["type"], i["value"]] for i in items], separators=(",", ":"))
    return items, hashlib.sha256(canonical.encode()).hexdigest(), price


def add_line(
    cart: Cart,
    variant_id: int,
    quantity: object,
    *,
    customizations: Sequence[Mapping[str, object]] = (),
    expected_version: int | None = None,
) -> CartLine:
    """Add units of a variant, to its existing line if there is one (stock checked)."""
    qty = validate_quantity(quantity)
    variant = _sellable_variant(variant_id)
    if variant.product.currency != cart.currency:
        raise ProductUnavailable(f"{variant.product.name} cannot be bought in {cart.currency}.")
    items, key, extra_price = _customizations(customizations, cart.currency)
    with _write(cart, expected_version) as locked:
        same_variant = _variant_lines(locked, variant.pk)
        line = next((x for x in same_variant if x.customizations_key == key), None)
        in_cart = line.quantity if line else 0
        variant_total = sum(x.quantity for x in same_variant)
        new_quantity = in_cart + qty
        if new_quantity > MAX_LINE_QUANTITY:
            message = f"You can buy at most {MAX_LINE_QUANTITY} of an item" + (
                f"; you already have {in_cart} in your cart." if in_cart else "."
            )
            raise InvalidQuantity(message, details=[Detail("quantity", "out_of_range", message)])
        stock = status_of(getattr(variant, "stock", None))
        _check_stock(variant, stock, variant_total + qty, variant_total)
        if line is None:
            line = CartLine.objects.create(
                cart=locked,
                variant=variant,
                quantity=new_quantity,
                unit_price=variant.price,
                customizations=items,
                customizations_key=key,
                customizations_price=extra_price,
            )
        else:
            # The shopper has just seen today's price on the product page.
            line.quantity = new_quantity
            line.unit_price = variant.price
            line.customizations_price = extra_price
            line.save(
                update_fields=["quantity", "unit_price", "customizations_price", "updated_at"]
            )
    logger.info(
        "cart line added",
        extra={"cart_id": cart.pk, "line_id": line.pk, "variant_id": variant.pk, "quantity": qty},
    )
    return line


def _line(cart: Cart, line_id: int) -> CartLine:
    line = (
        CartLine.objects.select_for_update(of=("self",))
        .select_related("variant__product", "variant__stock")
        .filter(pk=line_id, cart=cart)
        .first()
    )
    if line is None:
        raise LineNotFound("That item is not in your cart.")
    return line


def set_quantity(
    cart: Cart, line_id: int, quantity: object, *, expected_version: int | None = None
) -> CartLine | None:
    """Set a line's quantity; 0 removes the line (returns None)."""
    qty = validate_quantity(quantity, allow_zero=True)
    with _write(cart, expected_version) as locked:
        line = _line(locked, line_id)
        if qty == 0:
            line.delete()
            result = None
        else:
            if qty > line.quantity:
                variant = line.variant
                if not is_sellable(variant):
                    raise ProductUnavailable(f"{variant.product.name} is no longer available.")
                others = sum(
                    x.quantity for x in _variant_lines(locked, variant.pk) if x.pk != line.pk
                )
                _check_stock(
                    variant,
                    status_of(getattr(variant, "stock", None)),
                    others + qty,
                    others,
                    where="in other lines of your cart",
                )
            line.quantity = qty
            line.save(update_fields=["quantity", "updated_at"])
            result = line
    return result


def remove_line(cart: Cart, line_id: int, *, expected_version: int | None = None) -> None:
    with _write(cart, expected_version) as locked:
        _line(locked, line_id).delete()


def clear_cart(cart: Cart, *, expected_version: int | None = None) -> None:
    with _write(cart, expected_version) as locked:
        CartLine.objects.filter(cart=locked).delete()
        CartCoupon.objects.filter(cart=locked).delete()


def _normalise_code(code: object) -> str:
    text = code.strip() if isinstance(code, str) else ""
    if not text:
        message = "Enter a discount code."
        raise CouponRejected(message, details=[Detail("code", "required", message)])
    if len(text) > 40:
        message = "We don't recognise that code. Check it and try again."
        raise CouponRejected(message, details=[Detail("code", "not_found", message)])
    return text


def apply_coupon(
    cart: Cart,
    code: object,
    *,
    user: User | None,
    email: str = "",
    expected_version: int | None = None,
) -> CartCoupon:
    """Validate a code against this cart and attach it. Raises CouponRejected with
    every reason as details (codes: not_found, inactive, expired, ...)."""
    text = _normalise_code(code)
    with _write(cart, expected_version) as locked:
        snapshot = load_cart_snapshot(locked)
        applied = [c.facts for c in snapshot.coupons]
        if any(c.code.lower() == text.lower() for c in applied):
            message = "That code is already applied to your cart."
            raise CouponRejected(message, details=[Detail("code", ALREADY_APPLIED, message)])
        check = check_code(
            text,
            lines=discount_lines(snapshot),
            applied=applied,
            user=user,
            email=email,
            currency=locked.currency,
        )
        if not check.ok or check.coupon is None:
            details = [Detail(p.field, p.code, p.message) for p in check.problems]
            raise CouponRejected(" ".join(p.message for p in check.problems), details=details)
        row = CartCoupon.objects.create(cart=locked, coupon=check.coupon)
    logger.info("coupon applied", extra={"cart_id": cart.pk, "coupon_id": row.coupon_id})
    return row


def remove_coupon(cart: Cart, coupon_id: int, *, expected_version: int | None = None) -> None:
    with _write(cart, expected_version) as locked:
        deleted, _ = CartCoupon.objects.filter(cart=locked, coupon_id=coupon_id).delete()
        if not deleted:
            raise LineNotFound("That code is not applied to your cart.")


def mark_converted(cart_id: int) -> bool:
    """Checkout finished: the cart is an order now. Idempotent; True if it changed."""
    changed = Cart.objects.filter(pk=cart_id, status=Cart.Status.ACTIVE).update(
        status=Cart.Status.CONVERTED, updated_at=timezone.now()
    )
    return bool(changed)


@dataclass(frozen=True)
class ExpiryResult:
    abandoned: int
    deleted: int


def expire_stale_carts(now: datetime | None = None) -> ExpiryResult:
    """Active carts untouched for CART_ABANDON_AFTER_DAYS become abandoned; abandoned
    carts older than CART_RETENTION_DAYS are deleted."""
    now = now or timezone.now()
    abandoned = Cart.objects.filter(
        status=Cart.Status.ACTIVE, updated_at__lt=now - abandon_after()
    ).update(status=Cart.Status.ABANDONED, updated_at=now)
    _, per_model = Cart.objects.filter(
        status=Cart.Status.ABANDONED, updated_at__lt=now - retention()
    ).delete()
    deleted = per_model.get(Cart._meta.label, 0)
    logger.info("stale carts expired", extra={"abandoned": abandoned, "deleted": deleted})
    return ExpiryResult(abandoned=abandoned, deleted=deleted)
