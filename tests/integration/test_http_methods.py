"""Only the methods a view serves answer; TRACE, CONNECT and the like are a 405 with Allow.

Function views without a method decorator render for any method, and CSRF treats TRACE as
safe, so every page names what it serves; wherever GET is served, HEAD is too.
"""

import json

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories import make_product

pytestmark = pytest.mark.django_db

UNSERVED = ["TRACE", "TRACK", "CONNECT", "PROPFIND", "FOO"]


@pytest.fixture
def pages() -> dict[str, str]:
    product = make_product("Trail Mug")
    assert finders.find("css/shop.css")
    return {
        "home": "/",
        "search": "/search/?q=mug",
        "category": product.category.get_absolute_url(),
        "product": product.get_absolute_url(),
        "cart": "/cart/",
        "sign-in": "/accounts/sign-in/",
        "admin": "/admin/login/",
        "healthz": "/healthz",
        "static": "/static/css/shop.css",
        "media": product.images.get().image.url,
        "missing": "/no-such-page/",
    }


@pytest.mark.parametrize("method", UNSERVED)
def test_unserved_methods_are_405_on_every_page(
    client: Client, pages: dict[str, str], method: str
) -> None:
    for name, path in pages.items():
        response = client.generic(method, path, HTTP_COOKIE="sessionid=secret-cookie")
        assert response.status_code == 405, (name, method, response.status_code)
        assert response["Allow"], name
        assert method not in response["Allow"]
        assert b"secret-cookie" not in response.content


def test_allow_names_what_the_view_serves(client: Client, pages: dict[str, str]) -> None:
    assert client.generic("TRACE", pages["home"])["Allow"] == "GET, HEAD, POST"
    # A class-based view (the admin's login is one underneath, the API's are DRF's).
    api = client.generic("TRACE", "/api/cart")
    assert api["Allow"] == "POST, OPTIONS"
    detail = client.generic("TRACE", "/api/cart/1")
    assert set(detail["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_api_gets_the_json_envelope(client: Client) -> None:
    response = client.generic("TRACE", "/api/cart/1/items")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["success"] is False
    assert body["error"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/cart/", "POST"),
        ("/cart/", "OPTIONS"),
        ("/cart/", "DELETE"),
        ("/accounts/sign-in/", "PUT"),
        ("/accounts/sign-in/", "OPTIONS"),
        ("/accounts/sign-out/", "GET"),
        ("/cart/add/", "GET"),
        ("/healthz", "POST"),
        ("/healthz", "OPTIONS"),
        # Storefront pages are function views with no method decorator of their own.
        ("/", "OPTIONS"),
        ("/", "PUT"),
        ("/search/", "DELETE"),
        ("/p/anything/", "PATCH"),
        ("/admin/", "PUT"),
    ],
)
def test_html_views_refuse_methods_they_do_not_serve(path: str, method: str) -> None:
    # Without CSRF checks (a request that passed them) the view itself refuses. With them
    # (as in production), a method no page serves is refused before CSRF's 403; a POST is
    # CSRF's to refuse first.
    clients = [Client()] if method == "POST" else [Client(enforce_csrf_checks=True), Client()]
    for client in clients:
        response = client.generic(method, path)
        assert response.status_code == 405, (response.status_code, client)
        assert method not in response["Allow"]


def test_head_is_served_wherever_get_is(client: Client, pages: dict[str, str]) -> None:
    """HEAD is GET without the body (RFC 9110), so monitors and link checkers get the
    page's status, not a 405."""
    for name, path in pages.items():
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == get.status_code, (name, head.status_code, get.status_code)
        assert head.getvalue() == b"", name  # streamed files too (static, media)
    for path in ("/accounts/sign-up/",):
        assert client.head(path).status_code == client.get(path).status_code == 200, path


def test_unknown_api_addresses_stay_a_404_for_any_served_method(client: Client) -> None:
    for method in ("GET", "PUT", "DELETE", "OPTIONS"):
        response = client.generic(method, "/api/no-such-thing")
        assert response.status_code == 404, method
        assert json.loads(response.content)["error"]["code"] == "NOT_FOUND"


def test_served_methods_still_answer(client: Client, pages: dict[str, str]) -> None:
    for name in ("home", "search", "category", "product", "cart", "sign-in", "healthz"):
        assert client.get(pages[name]).status_code == 200, name
    for name in ("home", "product", "static"):
        assert client.head(pages[name]).status_code == 200, name
    assert client.options("/api/cart").status_code == 200
