"""The sign-in merge: a guest cart folds into the customer's cart (or becomes it).

Both carts are locked in primary-key order and re-checked before anything moves, so
concurrent sign-ins merge a guest cart once. The usage limits of the guest's codes are
checked now that the customer is known (a guest cannot be matched to past uses).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from apps.cart.models import MAX_LINE_QUANTITY, Cart, CartCoupon, CartLine
from apps.cart.selectors import applied_coupons
from apps.cart.services import bump_version
from apps.catalog.variants import is_sellable
from apps.inventory.selectors import statuses_for_variants
from apps.promotions.models import Coupon
from apps.promotions.rules import CombinabilityPolicy, Problem, check_combination
from apps.promotions.selectors import facts_for, usage_problems_for

logger = logging.getLogger(__name__)


def _email_of(user: AbstractBaseUser) -> str:
    return str(getattr(user, "email", "") or "")


@dataclass
class MergeResult:
    cart: Cart | None
    moved: int = 0
    capped: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    dropped_coupons: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        notes = []
        if self.moved:
            notes.append("We added the items from your guest cart to your cart.")
        notes += self.capped + self.dropped + self.dropped_coupons
        return notes


def merge_guest_cart(guest_cart_id: int | None, user: AbstractBaseUser) -> MergeResult:
    """On sign-in: fold the guest cart into the customer's cart. Quantities of the same
    item are summed and capped by available stock (and 99); the guest cart is deleted.
    With no customer cart yet, the guest cart simply becomes the customer's.

    Safe against concurrent sign-ins: both carts are locked and re-checked before anything
    moves (a guest cart merges once), and when another request created or adopted the
    customer's cart meanwhile (IntegrityError on the one-active-cart constraint) the merge
    runs once more, into that cart."""
    if guest_cart_id is None:
        return MergeResult(None)
    try:
        return _merge_once(guest_cart_id, user)
    except IntegrityError:
        logger.info(
            "guest cart merge raced another write; retrying",
            extra={"guest_cart_id": guest_cart_id, "user_id": user.pk},
        )
        return _merge_once(guest_cart_id, user)


def _merge_once(guest_cart_id: int, user: AbstractBaseUser) -> MergeResult:
    with transaction.atomic():
        target_id = (
            Cart.objects.filter(user_id=user.pk, status=Cart.Status.ACTIVE)
            .values_list("pk", flat=True)
            .first()
        )
        # Lock both carts in primary-key order, then re-check what was read unlocked.
        ids = [guest_cart_id] if target_id is None else [guest_cart_id, target_id]
        locked = {
            c.pk: c for c in Cart.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        guest = locked.get(guest_cart_id)
        if guest is None or guest.user_id is not None or guest.status != Cart.Status.ACTIVE:
            return MergeResult(None)  # already merged, adopted, converted or expired
        target = locked.get(target_id) if target_id is not None else None
        if target is not None and (
            target.status != Cart.Status.ACTIVE or target.user_id != user.pk
        ):
            target = None  # checked out meanwhile: the guest cart becomes the active one
        if target is None:
            adopted = MergeResult(guest)
            _drop_used_up_coupons(guest, user, adopted)
            guest.user_id = user.pk
            guest.session_hash = ""
            # One bump covers the new owner and any dropped codes: a tab still showing
            # a dropped code is based on the old version and is refused.
            bump_version(guest, "user", "session_hash")
            logger.info("guest cart adopted", extra={"cart_id": guest.pk, "user_id": user.pk})
            return adopted
        result = _merge_lines(guest, target)
        _merge_coupons(guest, target, result, user)
        guest.delete()
        bump_version(target)
    logger.info(
        "guest cart merged",
        extra={"cart_id": target.pk, "guest_cart_id": guest_cart_id, "lines": result.moved},
    )
    return result


def _merge_lines(guest: Cart, target: Cart) -> MergeResult:
    """Move the guest's lines over. The stock cap is per variant: what the customer's cart
    already holds of a variant (in any line) is counted first, and guest units are added
    only up to what is available (and 99 per line). The customer's own lines are never
    lowered; if they alone exceed stock, the cart page flags them."""
    result = MergeResult(target)
    guest_lines = list(
        CartLine.objects.filter(cart=guest).select_related("variant__product").order_by("pk")
    )
    target_lines = list(CartLine.objects.select_for_update().filter(cart=target).order_by("pk"))
    existing = {(line.variant_id, line.customizations_key): line for line in target_lines}
    held: dict[int, int] = {}
    for line in target_lines:
        held[line.variant_id] = held.get(line.variant_id, 0) + line.quantity
    statuses = statuses_for_variants(sorted({line.variant_id for line in guest_lines}))
    for line in guest_lines:
        name = line.variant.product.name
        if not is_sellable(line.variant):
            result.dropped.append(f"{name} is no longer available and was not added.")
            continue
        stock = statuses[line.variant_id]
        mine = existing.get((line.variant_id, line.customizations_key))
        base = mine.quantity if mine else 0
        wanted = base + line.quantity
        room = max(MAX_LINE_QUANTITY - base, 0)
        if not stock.purchasable:
            room = 0
        elif stock.cap is not None:
            room = min(room, max(stock.cap - held.get(line.variant_id, 0), 0))
        added = min(line.quantity, room)
        quantity = base + added
        if quantity < 1:
            result.dropped.append(
                f"{name} is out of stock and was not added."
                if not stock.purchasable
                else f"{name} was not added: your cart already holds all we have of it."
            )
            continue
        if added < line.quantity:
            elsewhere = held.get(line.variant_id, 0) - base
            more = f"; {elsewhere} more are in other lines of your cart" if elsewhere else ""
            result.capped.append(
                f"We could only keep {quantity} of {name} in your cart (you had {wanted}{more})."
            )
        if added == 0:
            continue
        held[line.variant_id] = held.get(line.variant_id, 0) + added
        if mine is not None:
            mine.quantity = quantity
            mine.save(update_fields=["quantity", "updated_at"])
        else:
            CartLine.objects.create(
                cart=target,
                variant_id=line.variant_id,
                quantity=quantity,
                unit_price=line.unit_price,
                customizations=line.customizations,
                customizations_key=line.customizations_key,
                customizations_price=line.customizations_price,
            )
        result.moved += 1
    return result


def _guest_code_dropped(coupon: Coupon, problems: Sequence[Problem]) -> str:
    reasons = " ".join(p.message for p in problems)
    return f"The code {coupon.code} from your guest cart was not kept: {reasons}"


def _drop_used_up_coupons(cart: Cart, user: AbstractBaseUser, result: MergeResult) -> None:
    """An adopted guest cart keeps only the codes its new owner may still use."""
    coupons = applied_coupons(cart)
    problems = usage_problems_for(coupons, user=user, email=_email_of(user))
    for coupon in coupons:
        if problems[coupon.pk]:
            CartCoupon.objects.filter(cart=cart, coupon=coupon).delete()
            result.dropped_coupons.append(_guest_code_dropped(coupon, problems[coupon.pk]))


def _merge_coupons(guest: Cart, target: Cart, result: MergeResult, user: AbstractBaseUser) -> None:
    """Move the guest's codes over only where the customer may still use them (usage
    limits, now that we know who they are) and they combine with the codes already kept
    (the same `check_combination` as applying a code), so merging cannot stack codes
    that could never be applied together. The customer's own codes win."""
    policy = CombinabilityPolicy.from_settings()
    kept = [facts_for(c) for c in applied_coupons(target)]
    kept_ids = {f.coupon_id for f in kept}
    guest_coupons = [c for c in applied_coupons(guest) if c.pk not in kept_ids]
    usage = usage_problems_for(guest_coupons, user=user, email=_email_of(user))
    moving: list[int] = []
    for coupon in guest_coupons:
        if coupon.pk in kept_ids:
            continue
        facts = facts_for(coupon)
        problems = usage[coupon.pk] or check_combination(facts, kept, policy)
        if problems:
            result.dropped_coupons.append(_guest_code_dropped(coupon, problems))
            continue
        moving.append(coupon.pk)
        kept.append(facts)
        kept_ids.add(coupon.pk)
    # Decided in applied order, inserted in coupon pk order: each insert takes FOR KEY
    # SHARE on its coupon, and checkouts lock coupons in pk order too.
    for coupon_id in sorted(moving):
        CartCoupon.objects.create(cart=target, coupon_id=coupon_id)
