"""Each checkout step's GET and POST issue a fixed number of queries: a cart of 2 lines and one of
20 take the same number, under a bound (session, header and cart count included)."""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.checkout_support import CA_ADDRESS, address_post, fill_cart, make_zones, walk_guest

pytestmark = pytest.mark.django_db

AssertMax = Callable[[int], AbstractContextManager[object]]

STEP_MAX_QUERIES = 13

PAGES = [
    "/checkout/",
    "/checkout/identify/",
    "/checkout/guest/",
    "/checkout/shipping-address/",
    "/checkout/shipping-method/",
    "/checkout/payment/",
    "/checkout/review/",
]


def _counts(lines: int, assert_max: AssertMax) -> dict[str, int]:
    client = Client()
    fill_cart(client, lines=lines, price="5.00")
    walk_guest(client, until="review")
    client.get("/checkout/review/")  # settle: the first GET may write (version sync)
    counts = {}
    for url in PAGES:
        with assert_max(STEP_MAX_QUERIES) as ctx:
            response = client.get(url)
        assert response.status_code == 200, url
        assert isinstance(ctx, CaptureQueriesContext)
        counts[url] = len(ctx.captured_queries)
    return counts


def test_step_queries_do_not_grow_with_the_cart(django_assert_max_num_queries: AssertMax) -> None:
    make_zones()
    small = _counts(2, django_assert_max_num_queries)
    large = _counts(20, django_assert_max_num_queries)
    assert small == large


# A submitted step reuses the pricing its page loaded unless it changes the shipping
# address, so only that step prices the cart twice.
POST_MAX_QUERIES = {"guest": 10, "shipping-address": 19, "shipping-method": 13, "payment": 13}


def _post_counts(lines: int, assert_max: AssertMax) -> dict[str, int]:
    client = Client()
    fill_cart(client, lines=lines, price="5.00")
    walk_guest(client, until="guest")
    steps = {
        "guest": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
        "shipping-address": address_post(CA_ADDRESS, billing_same_as_shipping="on"),
        "shipping-method": None,
        "payment": {"payment_method": "card"},
    }
    counts = {}
    for step, data in steps.items():
        url = f"/checkout/{step}/"
        if data is None:
            data = {"shipping_method": str(client.get(url).context["quotes"][0].method_id)}
        with assert_max(POST_MAX_QUERIES[step]) as ctx:
            response = client.post(url, data)
        assert response.status_code == 302, step
        assert isinstance(ctx, CaptureQueriesContext)
        counts[step] = len(ctx.captured_queries)
    return counts


def test_step_submissions_do_not_grow_with_the_cart(
    django_assert_max_num_queries: AssertMax,
) -> None:
    make_zones()
    assert _post_counts(2, django_assert_max_num_queries) == _post_counts(
        20, django_assert_max_num_queries
    )
