"""Each checkout step's GET issues a fixed number of queries: a cart of 2 lines and one of
20 take the same number, under a bound (session, header and cart count included)."""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.checkout_support import fill_cart, make_zones, walk_guest

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
