"""Cart rules on real PostgreSQL: quantities, stock, versions, coupons, merge, expiry."""

import hashlib
import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import ProtectedError
from django.utils import timezone

from apps.cart import errors, merge, selectors, services
from apps.cart.models import Cart, CartCoupon, CartLine
from apps.inventory.models import StockItem
from apps.promotions import rules
from tests.factories import (
    guest_cart,
    make_category,
    make_coupon,
    make_product,
    make_user,
    new_session,
    variant_of,
)

pytestmark = pytest.mark.django_db


def test_guest_cart_lives_in_the_session_and_customer_cart_by_user() -> None:
    session = new_session()
    cart = services.get_or_create_cart(user=None, session=session)
    assert session[selectors.CART_SESSION_KEY] == cart.pk
    assert services.get_or_create_cart(user=None, session=session) == cart
    user = make_user()
    mine = services.get_or_create_cart(user=user, session=new_session())
    assert mine.user_id == user.pk
    assert services.get_or_create_cart(user=user, session=new_session()) == mine


def test_add_line_sums_into_the_existing_line_and_bumps_version() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(price="12.50", stock=10))
    services.add_line(cart, variant.pk, 2)
    line = services.add_line(cart, variant.pk, 3)
    assert CartLine.objects.filter(cart=cart).count() == 1
    assert line.quantity == 5
    assert line.unit_price == Decimal("12.50")
    assert cart.version == 3


@pytest.mark.parametrize("quantity", [0, -1, 100, "2", 1.5, None, True])
def test_quantity_must_be_an_integer_from_1_to_99(quantity: object) -> None:
    cart = guest_cart()
    variant = variant_of(make_product(stock=500, allow_backorder=True))
    with pytest.raises(errors.InvalidQuantity):
        services.add_line(cart, variant.pk, quantity)


def test_line_cannot_exceed_99_in_total() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(stock=500))
    services.add_line(cart, variant.pk, 60)
    with pytest.raises(errors.InvalidQuantity, match="at most 99"):
        services.add_line(cart, variant.pk, 40)


def test_stock_caps_quantity_unless_backorder() -> None:
    cart = guest_cart()
    short = variant_of(make_product(stock=3))
    with pytest.raises(errors.InsufficientStock, match="Only 3"):
        services.add_line(cart, short.pk, 4)
    services.add_line(cart, short.pk, 3)
    out = variant_of(make_product(stock=0))
    with pytest.raises(errors.InsufficientStock, match="out of stock"):
        services.add_line(cart, out.pk, 1)
    backorder = variant_of(make_product(stock=0, allow_backorder=True))
    assert services.add_line(cart, backorder.pk, 20).quantity == 20


def test_backorder_and_untracked_variants_are_not_capped_at_on_hand() -> None:
    """Add, set quantity, merge and the cart recheck never cap a backorderable variant at
    the units still on hand, nor an untracked one at all."""
    cart = guest_cart()
    backorder = variant_of(make_product(stock=3, allow_backorder=True))
    untracked = variant_of(make_product(stock=0, track_quantity=False))
    line = services.add_line(cart, backorder.pk, 10)
    assert line.quantity == 10
    assert services.set_quantity(cart, line.pk, 40) is not None
    assert services.add_line(cart, untracked.pk, 50).quantity == 50
    with pytest.raises(errors.InvalidQuantity, match="at most 99"):
        services.add_line(cart, backorder.pk, 60)  # 40 + 60 > 99: the line cap still holds
    view = selectors.priced_cart(cart)
    assert not view.issues
    assert not view.checkout_blocked
    assert [row.max_quantity for row in view.lines] == [99, 99]
    user = make_user()
    mine = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(mine, backorder.pk, 70)
    result = merge.merge_guest_cart(cart.pk, user)
    quantities = dict(CartLine.objects.filter(cart=mine).values_list("variant_id", "quantity"))
    assert quantities == {backorder.pk: 99, untracked.pk: 50}  # 70 + 40 capped at 99, not 3
    assert any("could only keep 99" in m for m in result.messages)


def test_inactive_or_unknown_products_cannot_be_added() -> None:
    cart = guest_cart()
    with pytest.raises(errors.ProductUnavailable):
        services.add_line(cart, variant_of(make_product(is_active=False)).pk, 1)
    with pytest.raises(errors.ProductUnavailable):
        services.add_line(cart, 999_999_999, 1)


def test_set_quantity_zero_removes_and_stock_is_checked_on_increase() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(stock=5))
    line = services.add_line(cart, variant.pk, 2)
    with pytest.raises(errors.InsufficientStock):
        services.set_quantity(cart, line.pk, 6)
    assert services.set_quantity(cart, line.pk, 5) is not None
    assert services.set_quantity(cart, line.pk, 0) is None
    assert not CartLine.objects.filter(cart=cart).exists()
    with pytest.raises(errors.LineNotFound):
        services.remove_line(cart, line.pk)


def test_a_write_based_on_a_stale_version_is_refused_and_changes_nothing() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(stock=10))
    line = services.add_line(cart, variant.pk, 1)
    seen = cart.version
    services.set_quantity(cart, line.pk, 2, expected_version=seen)  # tab A
    with pytest.raises(errors.StaleCart) as caught:  # tab B, based on the old version
        services.set_quantity(cart, line.pk, 7, expected_version=seen)
    assert caught.value.current_version == seen + 1
    line.refresh_from_db()
    assert line.quantity == 2
    cart.refresh_from_db()
    assert cart.version == seen + 1


def test_clear_and_other_lines_in_other_carts_are_untouched() -> None:
    cart, other = guest_cart(), guest_cart()
    variant = variant_of(make_product(stock=10))
    services.add_line(cart, variant.pk, 1)
    services.add_line(other, variant.pk, 1)
    line_in_other = CartLine.objects.get(cart=other)
    with pytest.raises(errors.LineNotFound):
        services.set_quantity(cart, line_in_other.pk, 3)
    services.clear_cart(cart)
    assert not CartLine.objects.filter(cart=cart).exists()
    assert CartLine.objects.filter(cart=other).exists()


def test_converted_cart_refuses_writes() -> None:
    cart = guest_cart()
    assert services.mark_converted(cart.pk)
    assert not services.mark_converted(cart.pk)
    with pytest.raises(errors.CartNotActive):
        services.add_line(cart, variant_of(make_product()).pk, 1)


def test_customizations_are_priced_by_the_server() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(price="20.00"))
    line = services.add_line(
        cart, variant.pk, 1, customizations=[{"type": "gift_wrap", "value": "Hi", "price": "0.01"}]
    )
    assert line.customizations_price == Decimal("5.00")
    plain = services.add_line(cart, variant.pk, 1)
    assert plain.pk != line.pk  # a different line: different customizations
    with pytest.raises(errors.InvalidCustomization):
        services.add_line(cart, variant.pk, 1, customizations=[{"type": "gold_plating"}])
    view = selectors.priced_cart(cart)
    assert view.subtotal == Decimal("45.00")


def test_priced_cart_shows_current_prices_and_flags_changes_and_stock() -> None:
    cart = guest_cart()
    product = make_product(price="10.00", stock=5)
    variant = variant_of(product)
    services.add_line(cart, variant.pk, 4)
    product.base_price = Decimal("12.00")
    product.save()
    view = selectors.priced_cart(cart)
    (row,) = view.lines
    assert row.price_changed
    assert row.added_unit_price == Decimal("10.00")
    assert row.unit_price == Decimal("12.00")
    assert view.subtotal == Decimal("48.00")
    assert not view.checkout_blocked
    stock = variant.stock
    stock.on_hand = 2
    stock.save()
    view = selectors.priced_cart(cart)
    assert view.checkout_blocked
    assert "Only 2" in view.issues[0]
    product.is_active = False
    product.save()
    assert "no longer available" in selectors.priced_cart(cart).issues[0]


def test_apply_each_coupon_type_and_totals() -> None:
    cart = guest_cart()
    cheap = variant_of(make_product(price="10.00", stock=20))
    dear = variant_of(make_product(price="30.00", stock=20))
    services.add_line(cart, dear.pk, 2)
    services.add_line(cart, cheap.pk, 1)
    make_coupon("PCT", type="percentage", value="10", combinable=True)
    make_coupon("SHIP", type="free_shipping", combinable=True)
    services.apply_coupon(cart, "pct", user=None)
    services.apply_coupon(cart, "Ship", user=None)
    view = selectors.priced_cart(cart)
    assert view.subtotal == Decimal("70.00")
    assert view.discount_total == Decimal("7.00")
    assert view.estimated_total == Decimal("63.00")
    assert view.free_shipping
    services.clear_cart(cart)
    services.add_line(cart, dear.pk, 2)
    services.add_line(cart, cheap.pk, 1)
    make_coupon("FIVE", type="fixed_amount", value="5.00", minimum_order_amount="30.00")
    services.apply_coupon(cart, "FIVE", user=None)
    assert selectors.priced_cart(cart).discount_total == Decimal("5.00")
    services.clear_cart(cart)
    services.add_line(cart, dear.pk, 2)
    services.add_line(cart, cheap.pk, 1)
    make_coupon("B2G1", type="buy_x_get_y", value="50", buy_quantity=2, get_quantity=1)
    services.apply_coupon(cart, "B2G1", user=None)
    view = selectors.priced_cart(cart)
    assert view.discount_total == Decimal("5.00")  # half of the cheapest unit


def reasons(cart: Cart, code: str, **kwargs: object) -> list[str]:
    with pytest.raises(errors.CouponRejected) as caught:
        services.apply_coupon(cart, code, user=kwargs.pop("user", None), **kwargs)  # type: ignore[arg-type]
    return [d.code for d in caught.value.details]


def test_each_validation_code() -> None:
    cart = guest_cart()
    category = make_category()
    product = make_product(price="20.00", stock=10, category=category)
    services.add_line(cart, variant_of(product).pk, 1)
    now = timezone.now()
    assert reasons(cart, "NOPE") == [rules.NOT_FOUND]
    assert reasons(cart, "X" * 500) == [rules.NOT_FOUND]
    make_coupon("OFF", is_active=False)
    assert reasons(cart, "OFF") == [rules.INACTIVE]
    make_coupon("SOON", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=2))
    assert reasons(cart, "SOON") == [rules.NOT_STARTED]
    make_coupon("OLD", starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=1))
    assert reasons(cart, "OLD") == [rules.EXPIRED]
    make_coupon("GONE", usage_limit=1, usage_count=1)
    assert reasons(cart, "GONE") == [rules.USAGE_LIMIT_REACHED]
    once = make_coupon("ONCE", per_customer_limit=1)
    user = make_user()
    from apps.promotions.services import reserve_usage

    reserve_usage([once.pk], user=user, email="", reference="checkout-1")
    assert reasons(cart, "ONCE", user=user) == [rules.PER_CUSTOMER_LIMIT_REACHED]
    reserve_usage([once.pk], user=None, email="guest@example.com", reference="checkout-2")
    assert reasons(cart, "ONCE", email="GUEST@example.com") == [rules.PER_CUSTOMER_LIMIT_REACHED]
    make_coupon("BIG", minimum_order_amount="50.00")
    with pytest.raises(errors.CouponRejected, match=r"Spend \$30.00 more"):
        services.apply_coupon(cart, "BIG", user=None)
    make_coupon("OTHER", categories=[make_category()])
    assert reasons(cart, "OTHER") == [rules.NOT_APPLICABLE]
    make_coupon("NOTTHIS", excluded_products=[product])
    assert reasons(cart, "NOTTHIS") == [rules.NOT_APPLICABLE]
    make_coupon("PARENT", categories=[category])  # applies
    services.apply_coupon(cart, "PARENT", user=None)
    assert reasons(cart, "parent") == ["already_applied"]
    make_coupon("SOLO", type="fixed_amount", value="1.00", combinable=False)
    assert reasons(cart, "SOLO") == [rules.NOT_COMBINABLE]
    make_coupon("PCT2", combinable=True)
    assert rules.NOT_COMBINABLE in reasons(cart, "PCT2")  # PARENT is not combinable


def test_too_many_coupons(settings: object) -> None:
    settings.COUPON_COMBINABILITY = {"max_coupons_per_order": 1}  # type: ignore[attr-defined]
    cart = guest_cart()
    services.add_line(cart, variant_of(make_product(stock=10)).pk, 1)
    make_coupon("A", combinable=True)
    make_coupon("B", type="free_shipping", combinable=True)
    services.apply_coupon(cart, "A", user=None)
    assert reasons(cart, "B") == [rules.TOO_MANY_COUPONS]


def test_applied_coupon_that_no_longer_applies_is_shown_but_not_counted() -> None:
    cart = guest_cart()
    variant = variant_of(make_product(price="40.00", stock=10))
    line = services.add_line(cart, variant.pk, 1)
    make_coupon("MIN", type="fixed_amount", value="5.00", minimum_order_amount="30.00")
    services.apply_coupon(cart, "MIN", user=None)
    services.remove_line(cart, line.pk)
    services.add_line(cart, variant_of(make_product(price="10.00")).pk, 1)
    view = selectors.priced_cart(cart)
    assert view.discount_total == 0
    assert view.coupons[0].problems[0].code == rules.MINIMUM_NOT_MET
    services.remove_coupon(cart, view.coupons[0].coupon_id)
    assert selectors.priced_cart(cart).coupons == ()


def test_merge_sums_quantities_caps_by_stock_and_moves_coupons() -> None:
    user = make_user()
    mine = services.get_or_create_cart(user=user, session=new_session())
    shared = variant_of(make_product(stock=5))
    only_guest = variant_of(make_product(stock=10))
    gone = variant_of(make_product(stock=0, allow_backorder=False))
    services.add_line(mine, shared.pk, 3)
    guest = guest_cart()
    services.add_line(guest, shared.pk, 4)
    services.add_line(guest, only_guest.pk, 2)
    CartLine.objects.create(cart=guest, variant=gone, quantity=1, unit_price=Decimal("1.00"))
    make_coupon("G10", combinable=True)
    services.apply_coupon(guest, "G10", user=None)
    result = merge.merge_guest_cart(guest.pk, user)
    assert result.cart == mine
    quantities = dict(CartLine.objects.filter(cart=mine).values_list("variant_id", "quantity"))
    assert quantities == {shared.pk: 5, only_guest.pk: 2}
    assert any("could only keep 5" in m for m in result.messages)
    assert any("out of stock" in m for m in result.messages)
    assert not Cart.objects.filter(pk=guest.pk).exists()
    assert [c.code for c in selectors.applied_coupons(mine)] == ["G10"]


def test_merge_drops_guest_coupons_that_do_not_combine_with_the_customers(
    settings: object,
) -> None:
    """Merging keeps the combinability rules: a non-combinable guest code is not stacked onto
    the customer's code, and no more than max_coupons_per_order are kept."""
    settings.COUPON_COMBINABILITY = {"max_coupons_per_order": 2}  # type: ignore[attr-defined]
    user = make_user()
    mine = services.get_or_create_cart(user=user, session=new_session())
    variant = variant_of(make_product(price="50.00", stock=10))
    services.add_line(mine, variant.pk, 1)
    make_coupon("MINE10", value="10", combinable=True)
    services.apply_coupon(mine, "MINE10", user=user)
    guest = guest_cart()
    services.add_line(guest, variant.pk, 1)
    make_coupon("SOLO5", type="fixed_amount", value="5.00", combinable=False)
    services.apply_coupon(guest, "SOLO5", user=None)
    result = merge.merge_guest_cart(guest.pk, user)
    assert [c.code for c in selectors.applied_coupons(mine)] == ["MINE10"]
    assert result.dropped_coupons == [
        "The code SOLO5 from your guest cart was not kept: "
        "This code can't be combined with other codes."
    ]
    assert result.dropped_coupons[0] in result.messages

    guest = guest_cart()
    services.add_line(guest, variant.pk, 1)
    make_coupon("SHIP1", type="free_shipping", combinable=True)
    make_coupon("SHIP2", type="free_shipping", combinable=True)
    services.apply_coupon(guest, "SHIP1", user=None)
    services.apply_coupon(guest, "SHIP2", user=None)
    result = merge.merge_guest_cart(guest.pk, user)
    assert [c.code for c in selectors.applied_coupons(mine)] == ["MINE10", "SHIP1"]
    assert len(result.dropped_coupons) == 1
    assert "SHIP2" in result.dropped_coupons[0]
    assert "Only 2 codes can be used per order." in result.dropped_coupons[0]
    view = selectors.priced_cart(mine)
    assert all(c.valid for c in view.coupons)


def test_priced_cart_does_not_stack_applied_coupons_that_do_not_combine() -> None:
    """Coupons that reached a cart together without the apply check (older merges, a
    stricter policy) are re-checked in applied order: the later one is flagged, not counted."""
    cart = guest_cart()
    services.add_line(cart, variant_of(make_product(price="50.00", stock=10)).pk, 1)
    first = make_coupon("FIRST10", value="10", combinable=True)
    solo = make_coupon("SOLO20", value="20", combinable=False)
    CartCoupon.objects.create(cart=cart, coupon=first)
    CartCoupon.objects.create(cart=cart, coupon=solo)
    view = selectors.priced_cart(cart)
    assert [c.coupon.code for c in view.coupons] == ["FIRST10", "SOLO20"]
    assert view.coupons[0].valid
    assert [p.code for p in view.coupons[1].problems] == [rules.NOT_COMBINABLE]
    assert view.valid_coupon_ids == [first.pk]
    assert view.discount_total == Decimal("5.00")


def test_merge_without_a_customer_cart_adopts_the_guest_cart() -> None:
    user = make_user()
    guest = guest_cart()
    services.add_line(guest, variant_of(make_product()).pk, 1)
    result = merge.merge_guest_cart(guest.pk, user)
    assert result.cart is not None
    assert result.cart.pk == guest.pk
    guest.refresh_from_db()
    assert guest.user_id == user.pk
    assert merge.merge_guest_cart(None, user).cart is None


def test_expire_stale_carts() -> None:
    fresh, stale, old = guest_cart(), guest_cart(), guest_cart()
    now = timezone.now()
    Cart.objects.filter(pk=stale.pk).update(updated_at=now - timedelta(days=31))
    Cart.objects.filter(pk=old.pk).update(
        status=Cart.Status.ABANDONED, updated_at=now - timedelta(days=91)
    )
    result = services.expire_stale_carts(now)
    assert (result.abandoned, result.deleted) == (1, 1)
    assert Cart.objects.get(pk=stale.pk).status == Cart.Status.ABANDONED
    assert Cart.objects.get(pk=fresh.pk).status == Cart.Status.ACTIVE
    assert not Cart.objects.filter(pk=old.pk).exists()


def test_guest_cart_stores_a_hash_of_the_session_key_not_the_key() -> None:
    """Only a hash of the session key is stored, so a DB read gives no session-hijack material."""
    session = new_session()
    cart = services.get_or_create_cart(user=None, session=session)
    assert session.session_key
    stored = Cart.objects.filter(pk=cart.pk).values()[0]
    assert session.session_key not in {str(v) for v in stored.values()}
    assert stored["session_hash"] == hashlib.sha256(session.session_key.encode()).hexdigest()
    assert selectors.active_cart(user=None, session=session) == cart
    assert selectors.owned_cart(cart.pk, user=None, session=session) == cart
    # The cart id alone is not enough: it must come with the session it belongs to.
    other = new_session()
    other.save()
    other[selectors.CART_SESSION_KEY] = cart.pk
    assert selectors.active_cart(user=None, session=other) is None
    assert selectors.owned_cart(cart.pk, user=None, session=other) is None
    assert selectors.item_count(user=None, session=other) == 0


def _race(targets: list[Callable[[], object]]) -> list[object]:
    """Run the callables at once, each on its own thread and database connection; return
    each one's result or the exception it raised, in order (every outcome is recorded)."""
    barrier = threading.Barrier(len(targets))
    outcomes: list[object] = [None] * len(targets)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = targets[i]()
        except Exception as exc:  # recorded and asserted on by the test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return outcomes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_concurrent_sign_ins_with_two_guest_carts_end_in_one_summed_cart(round_: int) -> None:
    """Two sign-ins at once (two devices, no customer cart yet) end in one cart holding both
    guest carts' items: the one-active-cart constraint never drops the second."""
    user = make_user()
    mug = variant_of(make_product(stock=50))
    tent = variant_of(make_product(stock=50))
    first, second = guest_cart(), guest_cart()
    services.add_line(first, mug.pk, 2)
    services.add_line(first, tent.pk, 1)
    services.add_line(second, mug.pk, 3)
    outcomes = _race(
        [
            lambda: merge.merge_guest_cart(first.pk, user),
            lambda: merge.merge_guest_cart(second.pk, user),
        ]
    )
    assert all(isinstance(o, merge.MergeResult) for o in outcomes), outcomes
    results = [o for o in outcomes if isinstance(o, merge.MergeResult)]
    (cart,) = Cart.objects.filter(user=user)
    assert cart.status == Cart.Status.ACTIVE
    assert cart.pk in (first.pk, second.pk)
    assert Cart.objects.count() == 1  # the other guest cart was merged and deleted
    assert all(r.cart is not None and r.cart.pk == cart.pk for r in results)
    quantities = dict(CartLine.objects.filter(cart=cart).values_list("variant_id", "quantity"))
    assert quantities == {mug.pk: 5, tent.pk: 1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_the_same_guest_cart_merged_twice_at_once_is_counted_once(round_: int) -> None:
    """Two tabs signing in with the same guest session: quantities are summed once."""
    user = make_user()
    mug = variant_of(make_product(stock=50))
    mine = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(mine, mug.pk, 1)
    version_before = Cart.objects.get(pk=mine.pk).version
    guest = guest_cart()
    services.add_line(guest, mug.pk, 2)
    outcomes = _race(
        [
            lambda: merge.merge_guest_cart(guest.pk, user),
            lambda: merge.merge_guest_cart(guest.pk, user),
        ]
    )
    assert all(isinstance(o, merge.MergeResult) for o in outcomes), outcomes
    results = [o for o in outcomes if isinstance(o, merge.MergeResult)]
    merged = [r for r in results if r.cart is not None]
    skipped = [r for r in results if r.cart is None]
    assert len(merged) == 1
    assert len(skipped) == 1
    assert merged[0].cart is not None
    assert merged[0].cart.pk == mine.pk
    assert merged[0].moved == 1
    assert skipped[0].messages == []
    assert list(CartLine.objects.filter(cart=mine).values_list("variant_id", "quantity")) == [
        (mug.pk, 3)
    ]
    assert not Cart.objects.filter(pk=guest.pk).exists()
    assert Cart.objects.get(pk=mine.pk).version == version_before + 1


def test_a_variant_in_a_cart_cannot_be_deleted_out_from_under_it() -> None:
    """Cart lines are what a shopper chose: deleting their variant (even one without a stock
    row, from a shell or a migration) must be refused, not silently empty the cart."""
    cart = guest_cart()
    variant = variant_of(make_product())
    services.add_line(cart, variant.pk, 2)
    StockItem.objects.filter(variant=variant).delete()  # no ledger yet: deletable
    with pytest.raises(ProtectedError):
        variant.delete()
    assert CartLine.objects.filter(cart=cart, variant=variant, quantity=2).exists()
