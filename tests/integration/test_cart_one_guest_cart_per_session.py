"""A guest session has at most one active cart, even when its first requests race.

A partial unique constraint allows one active guest cart per session hash, and
get_or_create_cart returns the winner on conflict, so no line lands in a lost cart."""

import threading

import pytest
from django.db import IntegrityError, connection

from apps.cart import merge, services
from apps.cart.models import Cart, CartLine
from apps.cart.selectors import CART_SESSION_KEY, session_hash
from tests.factories import guest_cart, make_product, make_user, new_session, variant_of


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_first_requests_of_one_session_share_one_cart(round_: int) -> None:
    session = new_session()
    session.create()  # the session exists (cookie set), it has no cart yet
    key = session.session_key
    assert key is not None
    variants = [variant_of(make_product(stock=10)).pk for _ in range(2)]
    barrier = threading.Barrier(2)
    carts: list[int] = [0, 0]
    failures: list[BaseException] = []

    def request(i: int) -> None:
        try:
            mine = new_session(session_key=key)  # each request loads the session
            barrier.wait()
            cart = services.get_or_create_cart(user=None, session=mine)
            services.add_line(cart, variants[i], 1)
            carts[i] = cart.pk
            assert mine[CART_SESSION_KEY] == cart.pk
        except BaseException as exc:  # asserted below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=request, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert not failures, failures
    assert carts[0] == carts[1]
    assert Cart.objects.count() == 1
    assert sorted(CartLine.objects.values_list("variant_id", flat=True)) == sorted(variants)


@pytest.mark.django_db
def test_a_session_that_lost_its_cart_id_gets_its_active_cart_back() -> None:
    """The loser's view: its session does not name the cart the other request created."""
    first = new_session()
    cart = services.get_or_create_cart(user=None, session=first)
    same = new_session(session_key=first.session_key)  # without the cart id
    assert same.get(CART_SESSION_KEY) is None
    assert services.get_or_create_cart(user=None, session=same) == cart
    assert same[CART_SESSION_KEY] == cart.pk
    assert Cart.objects.count() == 1


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_guest_cart_for_a_session() -> None:
    cart = guest_cart()
    with pytest.raises(IntegrityError):
        Cart.objects.create(session_hash=cart.session_hash, expires_at=cart.expires_at)


@pytest.mark.django_db
def test_finished_or_adopted_carts_do_not_block_a_new_guest_cart() -> None:
    session = new_session()
    old = services.get_or_create_cart(user=None, session=session)
    services.mark_converted(old.pk)
    new = services.get_or_create_cart(user=None, session=session)
    assert new.pk != old.pk
    assert new.session_hash == session_hash(session.session_key or "")
    merge.merge_guest_cart(new.pk, make_user())  # adopted: no longer a guest cart
    again = services.get_or_create_cart(user=None, session=session)
    assert again.pk not in (old.pk, new.pk)
    assert again.session_hash == new.session_hash
