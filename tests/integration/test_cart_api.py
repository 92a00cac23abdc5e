"""The cart REST API: envelope, ownership, versions, coupons, CSRF, schema."""

import pytest
from django.test import Client

from apps.cart.models import CartCoupon
from tests.factories import make_coupon, make_product, variant_of

pytestmark = pytest.mark.django_db


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
    assert set(data) == {"cart", "appliedCoupon", "validation"}
    applied = data["appliedCoupon"]
    # The spec's AppliedCoupon keys, plus the documented cart-page extras.
    assert set(applied) == {"id", "couponId", "code", "discountAmount", "appliedAt"} | {
        "type",
        "freeShipping",
        "isValid",
        "errors",
    }
    row = CartCoupon.objects.get(cart_id=cart["id"], coupon=coupon)
    assert applied["id"] == row.pk
    assert applied["couponId"] == coupon.pk
    assert applied["code"] == "API10"
    assert applied["discountAmount"] == "4.00"
    assert applied["appliedAt"].startswith(row.applied_at.date().isoformat())
    assert (applied["isValid"], applied["errors"]) == (True, [])
    assert data["cart"]["appliedCoupons"] == [applied]
    validation = data["validation"]
    assert set(validation) == {"isValid", "coupon", "discountAmount", "errors", "warnings"}
    assert validation["isValid"] is True
    assert validation["discountAmount"] == "4.00"
    assert (validation["errors"], validation["warnings"]) == ([], [])
    assert set(validation["coupon"]) == {
        "id",
        "code",
        "name",
        "description",
        "type",
        "value",
        "minimumOrderAmount",
        "maximumDiscount",
        "startDate",
        "endDate",
        "usageLimit",
        "usageCount",
        "perCustomerLimit",
        "isActive",
        "combinable",
        "applicableProducts",
        "excludedProducts",
        "applicableCategories",
        "excludedCategories",
    }
    assert validation["coupon"]["code"] == "API10"
    assert validation["coupon"]["value"] == "10.00"
    assert data["cart"]["total"] == "36.00"
    response = client.post(
        f"/api/cart/{cart['id']}/coupons", {"code": "NOPE"}, content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["details"][0]["code"] == "not_found"
    assert body["data"] == {
        "validation": {"isValid": False, "errors": body["error"]["details"], "warnings": []}
    }
    assert set(body["error"]["details"][0]) == {"field", "code", "message"}
    long = client.post(
        f"/api/cart/{cart['id']}/coupons", {"code": "C" * 500}, content_type="application/json"
    )
    assert long.status_code == 400
    assert long.json()["error"]["code"] == "VALIDATION_ERROR"
    response = client.delete(f"/api/cart/{cart['id']}/coupons/{coupon.pk}")
    assert response.json()["data"]["removedCouponId"] == coupon.pk
    assert response.json()["data"]["cart"]["appliedCoupons"] == []


def test_guest_api_client_gets_a_csrf_cookie_and_writes_with_it() -> None:
    """Creating a cart sets csrftoken, so a guest API client can write with the token."""
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/cart", content_type="application/json")
    assert response.status_code == 201
    token = response.cookies["csrftoken"].value
    cart_id = response.json()["data"]["id"]
    variant = variant_of(make_product(stock=5))
    payload = {"variantId": variant.pk, "quantity": 1}
    refused = client.post(f"/api/cart/{cart_id}/items", payload, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["success"] is False
    assert refused.json()["error"]["code"] == "CSRF_FAILED"
    added = client.post(
        f"/api/cart/{cart_id}/items",
        payload,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert added.status_code == 201, added.json()
    # A client that lost the cookie gets it back from GET /api/cart/{id}.
    del client.cookies["csrftoken"]
    detail = client.get(f"/api/cart/{cart_id}")
    assert detail.status_code == 200
    assert detail.cookies["csrftoken"].value


def test_openapi_schema_lists_cart_endpoints(client: Client) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/cart", "/api/cart/{cart_id}/items/{item_id}", "/api/cart/{cart_id}/coupons"):
        assert path in text


def test_put_refuses_customizations_and_unknown_fields_by_name(client: Client) -> None:
    """PUT refuses `customizations` and unknown fields by name, rather than ignoring them."""
    cart = create(client)
    variant = variant_of(make_product(stock=5))
    added = client.post(
        f"/api/cart/{cart['id']}/items",
        {"variantId": variant.pk, "quantity": 1},
        content_type="application/json",
    ).json()["data"]
    url = f"/api/cart/{cart['id']}/items/{added['addedItem']['id']}"
    response = client.put(
        url,
        {"quantity": 2, "customizations": [{"type": "gift_wrap", "value": "Hi"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [(d["field"], d["code"]) for d in error["details"]] == [
        ("customizations", "not_supported")
    ]
    response = client.put(url, {"quantity": 2, "qty": 3}, content_type="application/json")
    assert response.status_code == 400
    assert [d["field"] for d in response.json()["error"]["details"]] == ["qty"]
    cart_now = client.get(f"/api/cart/{cart['id']}").json()["data"]
    assert cart_now["items"][0]["quantity"] == 1  # nothing changed
    assert cart_now["version"] == added["cart"]["version"]
    ok = client.put(url, {"quantity": 2}, content_type="application/json")
    assert ok.status_code == 200
    assert ok.json()["data"]["updatedItem"]["quantity"] == 2
