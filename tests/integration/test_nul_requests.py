"""A NUL character anywhere in the path, query string or form is a 400, never a 500.

PostgreSQL refuses NUL in text, so a filter value such as `?kind=%00` is stopped before it
reaches the database (admin changelists, autocomplete, storefront lookups).
"""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_product

pytestmark = pytest.mark.django_db

ADMIN_URLS = [
    "/admin/inventory/stockmovement/?kind=%00",
    "/admin/inventory/stockmovement/?q=%00",
    "/admin/catalog/product/?name=%00",
    "/admin/catalog/product/?q=a%00b",
    "/admin/catalog/product/?%00=1",
    "/admin/inventory/stockitem/?variant__sku=%00",
    "/admin/autocomplete/?term=%00&app_label=catalog&model_name=product&field_name=category",
    "/admin/catalog/product/1%00/change/",
]
STOREFRONT_URLS = [
    "/search/?q=%00",
    "/search/?q=tent&brand=%00",
    "/p/tent%00/",
    "/c/gear%00/",
    "/?x=%00",
]


@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_urls_with_nul_are_400(admin_client: Client, url: str) -> None:
    make_product("Tent")
    response = admin_client.get(url)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


@pytest.mark.parametrize("url", STOREFRONT_URLS)
def test_storefront_urls_with_nul_are_400(client: Client, url: str) -> None:
    make_product("Tent")
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/")


URLENCODED = "application/x-www-form-urlencoded"


def test_urlencoded_form_posts_with_nul_are_400(client: Client) -> None:
    url = reverse("accounts:sign_in")
    response = client.post(url, urlencode({"email": "a\x00b", "password": "x"}), URLENCODED)
    assert response.status_code == 400
    response = client.post(url, urlencode({"em\x00ail": "a", "password": "x"}), URLENCODED)
    assert response.status_code == 400


def test_multipart_bodies_are_left_to_the_form(client: Client) -> None:
    """Parsing multipart in the middleware would spool uploads before CSRF looked at the
    request and leave request.body unreadable; Django's form fields refuse NUL themselves."""
    response = client.post(reverse("accounts:sign_in"), {"email": "a\x00b", "password": "x"})
    assert response.status_code == 200
    assert "Null characters are not allowed." in response.content.decode()


def test_an_undecodable_form_body_is_400_even_with_debug(client: Client, settings) -> None:
    """With DEBUG on the answer is still a 400: no technical 500 page re-reads the broken body."""
    settings.DEBUG = True
    response = client.generic(
        "POST", reverse("accounts:sign_in"), b"a=b", f"{URLENCODED}; charset=utf-16"
    )
    assert response.status_code == 400
    assert "could not be decoded" in response.content.decode()


@pytest.mark.parametrize(
    "url", ["/api/cart?x=%00", "/api/cart/lines%00", "/api/cart/coupons?code=%00"]
)
def test_api_urls_with_nul_answer_the_json_envelope(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["success"] is False
    assert body["error"]["code"] == "INVALID_REQUEST"
    assert body["error"]["details"] == []
    assert body["metadata"]["requestId"] == response["X-Request-ID"]


def test_ordinary_requests_pass(admin_client: Client) -> None:
    product = make_product("Tent")
    assert admin_client.get("/admin/catalog/product/?q=tent").status_code == 200
    assert admin_client.get(product.get_absolute_url()).status_code == 200


def test_api_bodies_are_left_to_drf(client: Client) -> None:
    """Reading a multipart body in the middleware would leave DRF an empty one (a 400 for
    missing fields instead of its 415 for a non-JSON body)."""
    cart = client.post("/api/cart").json()["data"]["id"]
    response = client.post(f"/api/cart/{cart}/items", {"variantId": 1, "quantity": 1})
    assert response.status_code == 415
