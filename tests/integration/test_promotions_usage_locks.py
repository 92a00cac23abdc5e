"""Coupon usage locks never deadlock with, or block, carts attaching the same coupons.

Every CartCoupon insert takes FOR KEY SHARE on its coupon row. The usage locks are FOR NO
KEY UPDATE (only usage_count changes), which does not conflict with it, and a merge inserts
codes in pk order, the order checkout locks them in; so applying a code never waits for a
staff edit or a checkout holding the coupon's usage lock."""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from apps.cart import merge, services
from apps.cart.models import Cart, CartCoupon
from apps.promotions.services import lock_usage_count, reserve_usage
from tests.factories import (
    guest_cart,
    make_coupon,
    make_product,
    make_user,
    new_session,
    variant_of,
)
from tests.support import transaction_in_another_thread


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        row = cursor.fetchone()
    return bool(row and row[0])


def _cart_with_a_line() -> Cart:
    cart = guest_cart()
    variant = variant_of(make_product(price="50.00", stock=10))
    services.add_line(cart, variant.pk, 1)
    return cart


@pytest.mark.django_db(transaction=True)
def test_checkout_reserving_codes_does_not_deadlock_with_codes_being_attached() -> None:
    """The merge side is its inserts, B before A, with the checkout's pk-order locking
    arriving in between (before: `deadlock detected` in one of them)."""
    first = make_coupon("LOWPK")
    second = make_coupon("HIGHPK", type="free_shipping", value="0")
    assert first.pk < second.pk
    cart = _cart_with_a_line()
    inserted = threading.Event()
    reserved = threading.Event()
    failures: list[BaseException] = []

    def attach() -> None:
        try:
            with transaction.atomic():
                # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: the FOR KEY SHARE
                # locks are taken at commit, B then A, a window too short to hit on
                # purpose. Checking them at each insert widens it into a controllable one.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                CartCoupon.objects.create(cart=cart, coupon=second)
                inserted.set()
                deadline = time.monotonic() + 10
                while not reserved.is_set() and not _someone_waits_for_a_lock():
                    assert time.monotonic() < deadline, "checkout neither waited nor finished"
                    time.sleep(0.02)
                CartCoupon.objects.create(cart=cart, coupon=first)
        except BaseException as exc:  # asserted below
            failures.append(exc)
        finally:
            inserted.set()
            connection.close()

    def checkout() -> None:
        try:
            assert inserted.wait(10)
            reserve_usage(
                [second.pk, first.pk], user=None, email="buyer@example.com", reference="pay-1"
            )
        except BaseException as exc:  # asserted below
            failures.append(exc)
        finally:
            reserved.set()
            connection.close()

    threads = [threading.Thread(target=attach), threading.Thread(target=checkout)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures
    assert CartCoupon.objects.filter(cart=cart).count() == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.usage_count, second.usage_count) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_staff_holding_the_usage_lock_does_not_block_applying_the_code() -> None:
    coupon = make_coupon("STAFFEDIT")
    cart = _cart_with_a_line()
    applied = threading.Event()
    seen: dict[str, bool] = {}

    def staff(locked: Callable[[], None]) -> None:
        lock_usage_count(coupon.pk)
        locked()
        seen["applied_while_locked"] = applied.wait(5)

    with transaction_in_another_thread(staff):
        services.apply_coupon(cart, "STAFFEDIT", user=None)
        applied.set()
    assert seen["applied_while_locked"]


@pytest.mark.django_db
def test_merge_inserts_guest_codes_in_coupon_pk_order() -> None:
    user = make_user()
    mine = services.get_or_create_cart(user=user, session=new_session())
    services.add_line(mine, variant_of(make_product(stock=10)).pk, 1)
    low = make_coupon("PCTLOW", combinable=True)
    high = make_coupon("SHIPHIGH", type="free_shipping", value="0", combinable=True)
    guest = _cart_with_a_line()
    services.apply_coupon(guest, "SHIPHIGH", user=None)  # applied first
    services.apply_coupon(guest, "PCTLOW", user=None)
    result = merge.merge_guest_cart(guest.pk, user)
    assert result.dropped_coupons == []
    rows = list(CartCoupon.objects.filter(cart=mine).order_by("id"))
    assert [r.coupon_id for r in rows] == [low.pk, high.pk]
