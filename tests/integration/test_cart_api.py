"""The cart REST API: envelope, ownership, versions, coupons, CSRF, schema."""

import pytest
from django.test import Client

from apps.catalog.models import Product, ProductVariant
from tests.factories import make_coupon, make_product

pytestmark = pytest.mark.django_db


def variant_of(product: Product) -> ProductVariant:
    return ProductVariant.objects.filter(product=product).order_by("position", "id")[0]


def create(client: Client) -> dict:
    response = client.post("/api/cart", content_type="application/json")
    assert response.status_code in (200, 201)
    body = response.json()
    assert body["success"] is True
    assert set(body["metadata"]) == {"timestamp", "requestId", "version"}
    return body["data"]  # type: ignore[no-any-return]


def test_create_add_update_remove_with_envelope(client: Client) -> None:
    cart = create(client)
    assert cart["items"] == []
    assert cart["version"] == 1
    assert client.post("/api/cart").status_code == 200  # same cart again
    variant = variant_of(make_product(price="9.99", stock=5))
    response = client.post(
        f"/api/cart/{cart['id']}/items",
        {"variantId": variant.pk, "quantity": 2, "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["addedItem"]["quantity"] == 2
    assert data["addedItem"]["price"] == "9.99"
    assert data["cart"]["subtotal"] == "19.98"
    assert data["cart"]["version"] == 2
    item_id = data["addedItem"]["id"]
    response = client.put(
        f"/api/cart/{cart['id']}/items/{item_id}", {"quantity": 3}, content_type="application/json"
    )
    assert response.json()["data"]["updatedItem"]["quantity"] == 3
    response = client.delete(f"/api/cart/{cart['id']}/items/{item_id}?version=3")
    assert response.status_code == 200
    assert response.json()["data"] == {**response.json()["data"], "removedItemId": item_id}
    assert client.get(f"/api/cart/{cart['id']}").json()["data"]["items"] == []


def test_stale_version_is_409_with_the_current_cart(client: Client) -> None:
    cart = create(client)
    variant = variant_of(make_product(stock=5))
    client.post(
        f"/api/cart/{cart['id']}/items",
        {"variantId": variant.pk, "quantity": 1},
        content_type="application/json",
    )
    response = client.post(
        f"/api/cart/{cart['id']}/items",
        {"variantId": variant.pk, "quantity": 1, "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "CART_VERSION_CONFLICT"
    assert body["data"]["version"] == 2
    assert body["data"]["items"][0]["quantity"] == 1


def test_someone_elses_cart_is_404(client: Client) -> None:
    cart = create(client)
    stranger = Client()
    for response in (
        stranger.get(f"/api/cart/{cart['id']}"),
        stranger.post(
            f"/api/cart/{cart['id']}/coupons", {"code": "X"}, content_type="application/json"
        ),
        client.get("/api/cart/999999"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"variantId": "abc", "quantity": 1}, "variantId"),
        ({"variantId": 1, "quantity": 0}, "quantity"),
        ({"variantId": 1, "quantity": 1.5}, "quantity"),
        ({"quantity": 1}, "variantId"),
        (
            {"variantId": 1, "quantity": 1, "customizations": [{"type": "x" * 99}]},
            "customizations[0].type",
        ),
    ],
)
def test_bad_input_is_a_validation_envelope(client: Client, payload: dict, field: str) -> None:
    cart = create(client)
    response = client.post(
        f"/api/cart/{cart['id']}/items", payload, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in [d["field"] for d in error["details"]]


def test_business_errors_and_unknown_variant(client: Client) -> None:
    cart = create(client)
    response = client.post(
        f"/api/cart/{cart['id']}/items",
        {"variantId": 999999, "quantity": 1},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PRODUCT_UNAVAILABLE"
    variant = variant_of(make_product(stock=2))
    response = client.post(
        f"/api/cart/{cart['id']}/items",
        {"variantId": variant.pk, "quantity": 3},
        content_type="application/json",
    )
    assert response.json()["error"]["code"] == "INSUFFICIENT_STOCK"
    response = client.post(
        f"/api/cart/{cart['id']}/items", b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PARSE_ERROR"


def test_coupons_apply_validate_and_remove(client: Client) -> None:
    cart = create(client)
    product = make_product(price="40.00", stock=5)
    client.post(
        f"/api/cart/{cart['id']}/items",
        {"productId": product.pk, "quantity": 1},
        content_type="application/json",
    )
    coupon = make_coupon("API10", value="10")
    response = client.post(
        f"/api/cart/{cart['id']}/coupons", {"code": "api10"}, content_type="application/json"
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["appliedCoupon"]["discountAmount"] == "4.00"
    assert data["validation"]["isValid"] is True
    assert data["cart"]["total"] == "36.00"
    response = client.post(
        f"/api/cart/{cart['id']}/coupons", {"code": "NOPE"}, content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["details"][0]["code"] == "not_found"
    assert body["data"]["validation"]["isValid"] is False
    long = client.post(
        f"/api/cart/{cart['id']}/coupons", {"code": "C" * 500}, content_type="application/json"
    )
    assert long.status_code == 400
    assert long.json()["error"]["code"] == "VALIDATION_ERROR"
    response = client.delete(f"/api/cart/{cart['id']}/coupons/{coupon.pk}")
    assert response.json()["data"]["removedCouponId"] == coupon.pk
    assert response.json()["data"]["cart"]["appliedCoupons"] == []


def test_csrf_is_enforced_for_session_clients() -> None:
    client = Client(enforce_csrf_checks=True)
    client.get("/cart/")  # no cookie needed for the refusal
    response = client.post("/api/cart", content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "CSRF_FAILED"


def test_openapi_schema_lists_cart_endpoints(client: Client) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/cart", "/api/cart/{cart_id}/items/{item_id}", "/api/cart/{cart_id}/coupons"):
        assert path in text
