"""Every answer under /api/ is the JSON envelope, never an HTML or YAML page.

That covers unknown paths and non-integer ids (no route matches them), the schema
endpoint's errors, and server errors raised outside DRF. Pages outside /api/ keep their
HTML 404 and 500 pages."""

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client

pytestmark = pytest.mark.django_db


def _assert_envelope(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.content[:200])
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert set(body["metadata"]) == {"timestamp", "requestId", "version"}
    assert body["metadata"]["requestId"] == response["X-Request-ID"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/cart/abc",
        "/api/cart/-1",
        "/api/cart/1/items/x",
        "/api/cart/1/coupons/1.5",
        "/api/cart/",
        "/api/",
        "/api/nope",
        "/api/schema",
        "/api/cart/1%0A2",  # "." in a URL pattern stops at a newline; the fuzzer sent one
        "/api/cart/%C2%AC%C3%9A",
    ],
)
def test_unmatched_api_paths_are_the_envelope_404(path: str) -> None:
    client = Client(enforce_csrf_checks=True)
    _assert_envelope(client.get(path), 404, "NOT_FOUND")
    # An unsafe method gets the same 404, not the HTML CSRF failure page.
    _assert_envelope(client.post(path, {}, content_type="application/json"), 404, "NOT_FOUND")
    _assert_envelope(client.delete(path), 404, "NOT_FOUND")


def test_methods_a_view_does_not_allow_are_the_envelope_405(client: Client) -> None:
    cid = client.post("/api/cart").json()["data"]["id"]
    for method, path in [
        ("patch", f"/api/cart/{cid}"),
        ("put", "/api/cart"),
        ("get", f"/api/cart/{cid}/items"),
        ("trace", f"/api/cart/{cid}"),
        ("post", "/api/schema/"),
        ("delete", "/api/schema/"),
    ]:
        response = client.generic(method.upper(), path)
        _assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
        assert method.upper() not in response["Allow"]


def test_schema_errors_are_json_and_the_schema_itself_is_unchanged(client: Client) -> None:
    _assert_envelope(client.get("/api/schema/?format=nope"), 404, "NOT_FOUND")
    _assert_envelope(client.get("/api/schema/", HTTP_ACCEPT="text/html"), 406, "NOT_ACCEPTABLE")
    yaml = client.get("/api/schema/")
    assert yaml.status_code == 200
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert client.get("/api/schema/?format=json").json()["openapi"].startswith("3.")


def test_options_answers_in_the_envelope(client: Client) -> None:
    response = client.options("/api/cart")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["data"]["parses"] == ["application/json"]
    assert set(body["metadata"]) == {"timestamp", "requestId", "version"}


def test_pages_outside_the_api_keep_their_html_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


class ExplodeMiddleware:
    """Raises when asked to (the X-Explode header): a server error outside DRF."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("X-Explode"):
            raise RuntimeError("secret internal detail")
        return self.get_response(request)  # type: ignore[no-any-return]


@pytest.fixture
def exploding_client(settings: Any) -> Client:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.ExplodeMiddleware"]
    client = Client(HTTP_X_EXPLODE="1")
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize("path", ["/api/cart", "/api/cart/1", "/api/schema/", "/api/nope"])
def test_a_server_error_outside_drf_is_the_envelope_500(
    exploding_client: Client, path: str
) -> None:
    response = exploding_client.get(path)
    _assert_envelope(response, 500, "INTERNAL_ERROR")
    assert response.json()["error"]["details"] == []
    assert b"secret internal detail" not in response.content


def test_a_server_error_on_a_page_is_the_shops_html_500(exploding_client: Client) -> None:
    response = exploding_client.get("/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert "Something went wrong on our side" in response.content.decode()
    assert b"secret internal detail" not in response.content
