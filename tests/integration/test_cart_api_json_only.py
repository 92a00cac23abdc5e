"""The cart API takes JSON bodies only: any other body is a 415 in the envelope.

A form-encoded body cannot express a nested field such as `customizations`, so accepting
one would silently drop it."""

import json

import pytest
from django.test import Client

from apps.cart.models import CartLine
from apps.catalog.models import ProductVariant
from tests.factories import make_coupon, make_product

pytestmark = pytest.mark.django_db


def cart_id(client: Client) -> int:
    return int(client.post("/api/cart").json()["data"]["id"])


def assert_415(response: object) -> None:
    assert response.status_code == 415  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["success"] is False
    assert body["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert set(body["metadata"]) == {"timestamp", "requestId", "version"}


def test_form_encoded_add_item_is_415_not_a_silent_drop(client: Client) -> None:
    cid = cart_id(client)
    variant = ProductVariant.objects.get(product=make_product(stock=5))
    response = client.post(
        f"/api/cart/{cid}/items",
        f"variantId={variant.pk}&quantity=1&customizations=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert_415(response)
    multipart = client.post(  # the test client's default: multipart/form-data
        f"/api/cart/{cid}/items", {"variantId": variant.pk, "quantity": 1}
    )
    assert_415(multipart)
    assert not CartLine.objects.exists()
    ok = client.post(
        f"/api/cart/{cid}/items",
        {"variantId": variant.pk, "quantity": 1},
        content_type="application/json",
    )
    assert ok.status_code == 201


def test_every_body_taking_endpoint_is_json_only(client: Client) -> None:
    cid = cart_id(client)
    variant = ProductVariant.objects.get(product=make_product(stock=5))
    item = client.post(
        f"/api/cart/{cid}/items",
        {"variantId": variant.pk, "quantity": 1},
        content_type="application/json",
    ).json()["data"]["addedItem"]["id"]
    make_coupon("FORM10")
    form = "application/x-www-form-urlencoded"
    assert_415(client.put(f"/api/cart/{cid}/items/{item}", "quantity=3", content_type=form))
    assert_415(client.post(f"/api/cart/{cid}/coupons", "code=FORM10", content_type=form))
    assert_415(client.delete(f"/api/cart/{cid}/items/{item}", "version=2", content_type=form))
    assert CartLine.objects.get().quantity == 1
    # Bodiless requests are unaffected.
    assert client.post("/api/cart").status_code == 200
    assert client.delete(f"/api/cart/{cid}/items/{item}?version=2").status_code == 200


def test_schema_documents_json_bodies_only_and_the_415(client: Client) -> None:
    schema = json.loads(client.get("/api/schema/?format=json").content)
    for path, method in [
        ("/api/cart/{cart_id}/items", "post"),
        ("/api/cart/{cart_id}/items/{item_id}", "put"),
        ("/api/cart/{cart_id}/coupons", "post"),
    ]:
        operation = schema["paths"][path][method]
        assert set(operation["requestBody"]["content"]) == {"application/json"}
        assert "415" in operation["responses"]
