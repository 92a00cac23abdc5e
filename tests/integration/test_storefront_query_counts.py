"""Listing and detail pages issue a fixed number of queries, whatever their size.

Each test renders the page small and large: the query count must be the same, and
under a bound (header nav and cart count included).
"""

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.catalog.models import Category
from tests.factories import make_brand, make_category, make_product

pytestmark = pytest.mark.django_db

AssertMax = Callable[[int], AbstractContextManager[object]]

LISTING_MAX_QUERIES = 8
DETAIL_MAX_QUERIES = 7


def add_products(category: Category, count: int) -> None:
    brand = make_brand()
    for i in range(count):
        make_product(f"P{i}", category=category, brand=brand, is_featured=True)


def count_queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("url_name", "params"),
    [
        ("category", {"in_stock": "on", "sort": "price_asc"}),
        ("search", {"q": "P"}),
        ("search", {}),
        ("home", {}),
    ],
)
def test_listing_queries_do_not_grow_with_products(
    client: Client,
    django_assert_max_num_queries: AssertMax,
    url_name: str,
    params: dict[str, str],
) -> None:
    cat = make_category(is_featured=True)
    url = {
        "category": cat.get_absolute_url(),
        "search": reverse("catalog:search"),
        "home": reverse("catalog:home"),
    }[url_name]
    add_products(cat, 1)
    small = count_queries(client, url, params)
    add_products(cat, 23)
    with django_assert_max_num_queries(LISTING_MAX_QUERIES):
        response = client.get(url, params)
    large = count_queries(client, url, params)
    assert small == large
    shown = response.context.get("products") or response.context["featured_products"]
    assert len(shown) >= 8


def test_product_detail_queries_do_not_grow_with_variants(
    client: Client, django_assert_max_num_queries: AssertMax
) -> None:
    def product_with(n: int) -> str:
        variants = [{"options": [{"name": "Size", "value": f"S{i}"}], "stock": i} for i in range(n)]
        return make_product(f"Many {n}", variants=variants).get_absolute_url()

    small = count_queries(client, product_with(1))
    big_url = product_with(12)
    large = count_queries(client, big_url, {"o_Size": "S11"})
    assert small == large
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        response = client.get(big_url, {"o_Size": "S11"})
    assert response.context["variant"].name == "S11"
