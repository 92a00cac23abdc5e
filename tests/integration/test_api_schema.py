"""The OpenAPI schema describes what the cart API really answers: request bodies, the
ApiResponse envelope for successes and errors, and real responses validate against it
(jsonschema, already pinned in requirements-dev.txt)."""

import copy
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from jsonschema import Draft202012Validator

from apps.catalog.models import ProductVariant
from tests.factories import make_coupon, make_product

pytestmark = pytest.mark.django_db

CART_OPERATIONS = {
    ("/api/cart", "post"): False,
    ("/api/cart/{cart_id}", "get"): False,
    ("/api/cart/{cart_id}/items", "post"): True,
    ("/api/cart/{cart_id}/items/{item_id}", "put"): True,
    ("/api/cart/{cart_id}/items/{item_id}", "delete"): False,
    ("/api/cart/{cart_id}/coupons", "post"): True,
    ("/api/cart/{cart_id}/coupons/{coupon_id}", "delete"): False,
}


@pytest.fixture
def schema(client: Client) -> dict[str, Any]:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return json.loads(response.content)  # type: ignore[no-any-return]


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema 2020-12: `nullable` becomes a null alternative, and an
    object with declared properties admits no others (so undocumented keys fail)."""
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _response_schema(schema: dict[str, Any], path: str, method: str, code: int) -> dict[str, Any]:
    responses = schema["paths"][path][method]["responses"]
    assert str(code) in responses, f"{method.upper()} {path} does not document {code}"
    return responses[str(code)]["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def _validate(schema: dict[str, Any], path: str, method: str, response: Any) -> None:
    ref = _response_schema(schema, path, method, response.status_code)
    root = {
        **_to_json_schema(copy.deepcopy(ref)),
        "components": _to_json_schema(copy.deepcopy(schema["components"])),
    }
    errors = sorted(
        Draft202012Validator(root).iter_errors(response.json()), key=lambda e: list(e.path)
    )
    assert not errors, f"{method.upper()} {path} {response.status_code}: " + "; ".join(
        f"{list(e.path)}: {e.message}" for e in errors[:5]
    )


def _component(schema: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name]  # type: ignore[no-any-return]


def test_every_cart_operation_documents_body_and_envelopes(schema: dict[str, Any]) -> None:
    """Every cart operation documents its request body and its envelopes, so generated
    clients have something to decode."""
    for (path, method), has_body in CART_OPERATIONS.items():
        operation = schema["paths"][path][method]
        if has_body:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert "$ref" in body
        else:
            assert "requestBody" not in operation
        success_code = next(c for c in ("200", "201") if c in operation["responses"])
        envelope = _component(schema, _response_schema(schema, path, method, int(success_code)))
        assert {"success", "data", "error", "metadata"} <= set(envelope["properties"])
        assert {"success", "data", "metadata"} <= set(envelope["required"])
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                error_env = _component(schema, response["content"]["application/json"]["schema"])
                assert "error" in error_env["required"], (path, method, code)
        if method != "get" and path != "/api/cart":
            conflict = _component(schema, _response_schema(schema, path, method, 409))
            assert conflict["properties"]["data"] == {"$ref": "#/components/schemas/CartOut"}
    coupons = schema["paths"]["/api/cart/{cart_id}/coupons"]["post"]["responses"]
    assert {"201", "400", "403", "404", "409", "422", "429"} <= set(coupons)
    update_body = _component(
        schema,
        schema["paths"]["/api/cart/{cart_id}/items/{item_id}"]["put"]["requestBody"]["content"][
            "application/json"
        ]["schema"],
    )
    assert set(update_body["properties"]) == {"quantity", "version"}


def test_real_responses_validate_against_the_schema(schema: dict[str, Any]) -> None:
    client = Client()
    seen: set[tuple[str, str, int]] = set()

    def check(path: str, method: str, response: Any) -> Any:
        _validate(schema, path, method, response)
        seen.add((path, method, response.status_code))
        return response.json()

    cart = check("/api/cart", "post", client.post("/api/cart"))["data"]
    check("/api/cart", "post", client.post("/api/cart"))
    cid = cart["id"]
    check("/api/cart/{cart_id}", "get", client.get(f"/api/cart/{cid}"))
    check("/api/cart/{cart_id}", "get", client.get("/api/cart/999999"))
    product = make_product(price="40.00", stock=5)
    variant = ProductVariant.objects.get(product=product)
    items = "/api/cart/{cart_id}/items"
    added = check(
        items,
        "post",
        client.post(
            f"/api/cart/{cid}/items",
            {
                "variantId": variant.pk,
                "quantity": 2,
                "customizations": [{"type": "gift_wrap", "value": "Hi"}],
            },
            content_type="application/json",
        ),
    )["data"]
    check(
        items,
        "post",
        client.post(f"/api/cart/{cid}/items", {"quantity": 0}, content_type="application/json"),
    )
    check(
        items,
        "post",
        client.post(
            f"/api/cart/{cid}/items",
            {"variantId": variant.pk, "quantity": 1, "version": 1},
            content_type="application/json",
        ),
    )
    item = "/api/cart/{cart_id}/items/{item_id}"
    item_url = f"/api/cart/{cid}/items/{added['addedItem']['id']}"
    check(item, "put", client.put(item_url, {"quantity": 1}, content_type="application/json"))
    check(
        item, "put", client.put(item_url, {"quantity": 1, "x": 1}, content_type="application/json")
    )
    coupons = "/api/cart/{cart_id}/coupons"
    coupon = make_coupon("SCHEMA10", value="10")
    check(
        coupons,
        "post",
        client.post(
            f"/api/cart/{cid}/coupons", {"code": "schema10"}, content_type="application/json"
        ),
    )
    check(
        coupons,
        "post",
        client.post(f"/api/cart/{cid}/coupons", {"code": "NOPE"}, content_type="application/json"),
    )
    coupon_url = "/api/cart/{cart_id}/coupons/{coupon_id}"
    check(coupon_url, "delete", client.delete(f"/api/cart/{cid}/coupons/{coupon.pk}"))
    check(coupon_url, "delete", client.delete(f"/api/cart/{cid}/coupons/{coupon.pk}"))
    check(item, "put", client.put(item_url, {"quantity": 0}, content_type="application/json"))
    second = check(
        items,
        "post",
        client.post(
            f"/api/cart/{cid}/items",
            {"variantId": variant.pk, "quantity": 1},
            content_type="application/json",
        ),
    )["data"]
    check(item, "delete", client.delete(f"/api/cart/{cid}/items/{second['addedItem']['id']}"))
    check(item, "delete", client.delete(f"/api/cart/{cid}/items/{second['addedItem']['id']}"))
    csrf_client = Client(enforce_csrf_checks=True)
    guest = csrf_client.post("/api/cart").json()["data"]["id"]
    check(
        items,
        "post",
        csrf_client.post(
            f"/api/cart/{guest}/items",
            {"variantId": variant.pk, "quantity": 1},
            content_type="application/json",
        ),
    )
    with_settings_rate = None
    for _ in range(30):
        with_settings_rate = client.post(
            f"/api/cart/{cid}/coupons", {"code": "NOPE"}, content_type="application/json"
        )
        if with_settings_rate.status_code == 429:
            break
    check(coupons, "post", with_settings_rate)
    assert {
        ("/api/cart", "post", 201),
        ("/api/cart", "post", 200),
        ("/api/cart/{cart_id}", "get", 200),
        ("/api/cart/{cart_id}", "get", 404),
        (items, "post", 201),
        (items, "post", 400),
        (items, "post", 403),
        (items, "post", 409),
        (item, "put", 200),
        (item, "put", 400),
        (item, "delete", 200),
        (item, "delete", 404),
        (coupons, "post", 201),
        (coupons, "post", 422),
        (coupons, "post", 429),
        (coupon_url, "delete", 200),
        (coupon_url, "delete", 404),
    } <= seen


def _request_schema(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    body = schema["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    root = copy.deepcopy(_component(schema, body))
    return {**root, "components": copy.deepcopy(schema["components"])}


def _schema_accepts(request_schema: dict[str, Any], body: object) -> bool:
    return Draft202012Validator(request_schema).is_valid(body)


def test_request_bodies_say_what_the_server_refuses(schema: dict[str, Any]) -> None:
    """Unknown fields are refused (additionalProperties: false, nested customizations
    too) and adding an item needs a variantId or a productId: the schema said neither, so
    generated clients and fuzzers sent bodies the server always refuses."""
    for (path, method), has_body in CART_OPERATIONS.items():
        if has_body:
            body = _request_schema(schema, path, method)
            assert body["additionalProperties"] is False, (path, method)
    components = schema["components"]["schemas"]
    assert components["CustomizationIn"]["additionalProperties"] is False
    add_item = components["AddItemIn"]
    assert add_item["required"] == ["quantity"]
    assert add_item["anyOf"] == [{"required": ["variantId"]}, {"required": ["productId"]}]


def test_the_request_schema_and_the_server_agree(schema: dict[str, Any], client: Client) -> None:
    """Bodies the schema refuses, the server refuses (400); one it accepts is added."""
    add_item = _request_schema(schema, "/api/cart/{cart_id}/items", "post")
    variant = ProductVariant.objects.get(product=make_product(price="5.00", stock=5))
    cid = client.post("/api/cart").json()["data"]["id"]
    refused: list[dict[str, object]] = [
        {"quantity": 1},
        {"variantId": variant.pk, "quantity": 1, "colour": "red"},
        {"variantId": variant.pk, "quantity": 1, "customizations": [{"type": "x", "y": 1}]},
        {"variantId": variant.pk},
    ]
    for body in refused:
        assert not _schema_accepts(add_item, body), body
        response = client.post(f"/api/cart/{cid}/items", body, content_type="application/json")
        assert response.status_code == 400, body
    accepted = {"variantId": variant.pk, "quantity": 1}
    assert _schema_accepts(add_item, accepted)
    response = client.post(f"/api/cart/{cid}/items", accepted, content_type="application/json")
    assert response.status_code == 201


def test_schema_generates_without_warnings_and_validates() -> None:
    """drf-spectacular warned about two `sessionCookie` components (one auth class with
    CSRF, one without); --fail-on-warn turns any warning into a failure."""
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_unsafe_methods_document_the_csrf_header(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["csrfToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": schemes["csrfToken"]["description"],
    }
    create = schema["paths"]["/api/cart"]["post"]["security"]
    assert {"sessionCookieCsrfExempt": []} in create
    assert schema["paths"]["/api/cart/{cart_id}"]["get"]["security"][0] == {"sessionCookie": []}
    for (path, method), _ in CART_OPERATIONS.items():
        if method != "get" and path != "/api/cart":
            security = schema["paths"][path][method]["security"]
            assert security == [{"sessionCookie": [], "csrfToken": []}], (path, method)


# --- checkout (issue 10) ----------------------------------------------------------------

CHECKOUT_OPERATIONS = {
    ("/api/checkout/sessions", "post"): True,
    ("/api/checkout/sessions/{session_id}", "get"): False,
    ("/api/checkout/sessions/{session_id}/guest-info", "put"): True,
    ("/api/checkout/sessions/{session_id}/shipping-address", "put"): True,
    ("/api/checkout/sessions/{session_id}/billing-address", "put"): True,
    ("/api/checkout/sessions/{session_id}/shipping-method", "put"): True,
    ("/api/checkout/sessions/{session_id}/payment-method", "put"): True,
    ("/api/addresses/validate", "post"): True,
    ("/api/shipping/calculate", "post"): True,
    ("/api/tax/calculate", "post"): True,
}


def test_every_checkout_operation_documents_body_envelopes_and_limits(
    schema: dict[str, Any],
) -> None:
    for (path, method), has_body in CHECKOUT_OPERATIONS.items():
        operation = schema["paths"][path][method]
        if has_body:
            body = _request_schema(schema, path, method)
            assert body["additionalProperties"] is False, (path, method)
        else:
            assert "requestBody" not in operation
        envelope = _component(schema, _response_schema(schema, path, method, 200))
        assert {"success", "data", "metadata"} <= set(envelope["required"])
        assert "429" in operation["responses"], (path, method)
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                error_env = _component(schema, response["content"]["application/json"]["schema"])
                assert "error" in error_env["required"], (path, method, code)
        if path == "/api/addresses/validate":  # reads nothing of the shopper's
            assert operation["security"] == [{"csrfToken": []}]
        elif method != "get":
            assert operation["security"] == [{"sessionCookie": [], "csrfToken": []}]
        if "{session_id}" in path:
            assert {"404", "410"} <= set(operation["responses"]), (path, method)
    components = schema["components"]["schemas"]
    assert components["AddressIn"]["additionalProperties"] is False
    assert components["GuestInfoFieldsIn"]["additionalProperties"] is False


def test_real_checkout_responses_validate_against_the_schema(
    schema: dict[str, Any], settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from apps.checkout.models import CheckoutSession
    from tests.checkout_support import API_CA, fill_cart, make_zones

    methods = make_zones()
    client = Client()
    seen: set[tuple[str, str, int]] = set()

    def check(path: str, method: str, response: Any) -> Any:
        _validate(schema, path, method, response)
        seen.add((path, method, response.status_code))
        return response.json()

    def call(method: str, url: str, body: object = None) -> Any:
        return getattr(client, method)(url, body, content_type="application/json")

    sessions = "/api/checkout/sessions"
    one = "/api/checkout/sessions/{session_id}"

    def step(name: str) -> str:
        return f"{one}/{name}"

    check(sessions, "post", call("post", sessions))  # no cart: 404
    client.post("/api/cart")
    check(sessions, "post", call("post", sessions))  # empty cart: 409
    fill_cart(client, lines=2)
    sid = check(sessions, "post", call("post", sessions, {"cartId": 999999}))  # 404
    sid = check(sessions, "post", call("post", sessions))["data"]["id"]
    check(sessions, "post", call("post", sessions, {"cart": 1}))  # 400
    base = f"{sessions}/{sid}"
    check(one, "get", client.get(base))
    check(one, "get", client.get(f"{sessions}/not-mine"))
    guest = {"guestInfo": {"email": "ada@example.com", "firstName": "Ada", "lastName": "L"}}
    check(step("payment-method"), "put", call("put", f"{base}/payment-method", {}))
    check(
        step("payment-method"),
        "put",
        call("put", f"{base}/payment-method", {"paymentMethod": "card"}),
    )  # 409: not reached yet
    check(step("guest-info"), "put", call("put", f"{base}/guest-info", guest))
    check(
        step("shipping-address"),
        "put",
        call("put", f"{base}/shipping-address", {"address": dict(API_CA, zipCode="1")}),
    )  # 400 with the validation
    check(
        step("shipping-address"),
        "put",
        call("put", f"{base}/shipping-address", {"address": API_CA, "colour": "red"}),
    )  # 400 without it
    check(
        step("shipping-address"),
        "put",
        call(
            "put", f"{base}/shipping-address", {"address": API_CA, "billingSameAsShipping": False}
        ),
    )
    check(
        step("billing-address"),
        "put",
        call("put", f"{base}/billing-address", {"address": dict(API_CA, state="ca")}),
    )
    check(
        step("billing-address"),
        "put",
        call("put", f"{base}/billing-address", {"sameAsShipping": True}),
    )
    west = methods["US West Standard"].pk
    national = methods["United States Standard"].pk
    check(
        step("shipping-method"),
        "put",
        call("put", f"{base}/shipping-method", {"shippingMethodId": national}),
    )  # 409: not offered for the address
    check(
        step("shipping-method"),
        "put",
        call("put", f"{base}/shipping-method", {"shippingMethodId": west}),
    )
    check(
        step("payment-method"),
        "put",
        call("put", f"{base}/payment-method", {"paymentMethod": "card"}),
    )
    check(one, "get", client.get(base))
    check(
        "/api/addresses/validate",
        "post",
        call("post", "/api/addresses/validate", {"address": API_CA}),
    )
    check(
        "/api/addresses/validate",
        "post",
        call("post", "/api/addresses/validate", {"address": dict(API_CA, zipCode="")}),
    )
    check(
        "/api/shipping/calculate",
        "post",
        call("post", "/api/shipping/calculate", {"shippingAddress": API_CA}),
    )
    check(
        "/api/shipping/calculate",
        "post",
        call("post", "/api/shipping/calculate", {"shippingAddress": dict(API_CA, country="FR")}),
    )
    check(
        "/api/tax/calculate",
        "post",
        call("post", "/api/tax/calculate", {"shippingAddress": API_CA, "shippingCost": "5.99"}),
    )
    check(
        "/api/tax/calculate",
        "post",
        call("post", "/api/tax/calculate", {"shippingAddress": dict(API_CA, zipCode="x")}),
    )
    CheckoutSession.objects.filter(public_id=sid).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    check(one, "get", client.get(base))  # 410
    settings.CHECKOUT_RATE = "1/min"
    check(one, "get", client.get(base))  # 429
    assert {
        (sessions, "post", 200),
        (sessions, "post", 400),
        (sessions, "post", 404),
        (sessions, "post", 409),
        (one, "get", 200),
        (one, "get", 404),
        (one, "get", 410),
        (one, "get", 429),
        (step("guest-info"), "put", 200),
        (step("shipping-address"), "put", 200),
        (step("shipping-address"), "put", 400),
        (step("billing-address"), "put", 200),
        (step("shipping-method"), "put", 200),
        (step("shipping-method"), "put", 409),
        (step("payment-method"), "put", 200),
        (step("payment-method"), "put", 400),
        (step("payment-method"), "put", 409),
        ("/api/addresses/validate", "post", 200),
        ("/api/shipping/calculate", "post", 200),
        ("/api/tax/calculate", "post", 200),
        ("/api/tax/calculate", "post", 400),
    } <= seen
