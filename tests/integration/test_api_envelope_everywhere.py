"""Every answer under /api/ is the JSON envelope: unknown paths and non-integer ids (which
no route matches) were Django's HTML 404 page, and the schema endpoint rendered its errors
as YAML. Pages outside /api/ keep their HTML 404."""

from typing import Any

import pytest
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
