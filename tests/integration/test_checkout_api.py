"""The checkout API: a guest walks to review over JSON, in the envelope, with the same
services as the pages; not-yours is 404, expired is 410, refusals are 409 naming the
guard, bad input is 400, and every call counts against the checkout rate limit."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from apps.checkout.machine import State
from apps.checkout.models import CheckoutEvent, CheckoutSession
from tests.checkout_support import API_CA, API_NY, fill_cart, make_zones
from tests.factories import make_user

pytestmark = pytest.mark.django_db

GUEST = {"email": "Ada@Example.com", "firstName": "Ada", "lastName": "Lovelace"}


def put(client: Client, url: str, body: object) -> Any:
    return client.put(url, body, content_type="application/json")


def post(client: Client, url: str, body: object = None) -> Any:
    return client.post(url, body, content_type="application/json")


def start(client: Client) -> dict[str, Any]:
    response = post(client, "/api/checkout/sessions")
    assert response.status_code == 200, response.json()
    data: dict[str, Any] = response.json()["data"]
    return data


def walk(client: Client, until: str = "review") -> tuple[str, dict[str, Any]]:
    """A guest over the API up to `until` (guest-info, shipping-address, shipping-method,
    payment-method, review); returns the session id and the last answer's data."""
    session = start(client)
    sid = session["id"]
    base = f"/api/checkout/sessions/{sid}"
    data: dict[str, Any] = session
    if until == "guest-info":
        return sid, data
    data = put(client, f"{base}/guest-info", {"guestInfo": GUEST}).json()["data"]
    if until == "shipping-address":
        return sid, data
    data = put(client, f"{base}/shipping-address", {"address": API_CA}).json()["data"]
    if until == "shipping-method":
        return sid, data
    method = data["shippingMethods"][0]["id"]
    data = put(client, f"{base}/shipping-method", {"shippingMethodId": method}).json()["data"]
    if until == "payment-method":
        return sid, data
    data = put(client, f"{base}/payment-method", {"paymentMethod": "card"}).json()["data"]
    return sid, data


def test_a_guest_walks_to_review_and_the_totals_match_the_pages() -> None:
    make_zones()
    client = Client()
    fill_cart(client, lines=2, price="20.00")

    session = start(client)
    assert session["status"] == State.USER_IDENTIFICATION
    assert session["userType"] == "unknown"  # chosen at identification
    assert session["totals"] == {
        "currency": "USD",
        "subtotal": "40.00",
        "discountTotal": "0.00",
        "couponDiscounts": [],
        "shipping": None,
        "tax": None,
        "total": "40.00",
        "freeShipping": False,
    }
    sid = session["id"]
    assert client.session["checkout_id"] == sid
    base = f"/api/checkout/sessions/{sid}"

    answer = put(client, f"{base}/guest-info", {"guestInfo": GUEST})
    assert answer.status_code == 200, answer.json()
    data = answer.json()["data"]
    assert data["status"] == State.SHIPPING_ADDRESS
    assert data["guestInfo"]["email"] == "ada@example.com"
    assert data["userType"] == "guest"

    answer = put(client, f"{base}/shipping-address", {"address": API_CA})
    assert answer.status_code == 200, answer.json()
    data = answer.json()["data"]
    assert data["checkoutSession"]["status"] == State.SHIPPING_METHOD  # billing skipped
    assert data["validation"]["isValid"] is True
    names = [(m["name"], m["cost"]) for m in data["shippingMethods"]]
    assert names == [("Standard", "5.99"), ("Express", "19.00")]
    assert data["checkoutSession"]["totals"]["tax"] == "2.90"  # the address is known

    standard = data["shippingMethods"][0]["id"]
    answer = put(client, f"{base}/shipping-method", {"shippingMethodId": standard})
    assert answer.status_code == 200, answer.json()
    data = answer.json()["data"]
    assert data["checkoutSession"]["status"] == State.PAYMENT_METHOD
    assert data["orderTotal"] == "48.89"
    tax = data["taxCalculation"]
    assert (tax["totalTax"], tax["jurisdiction"], tax["subtotal"]) == ("2.90", "US-CA", "40.00")
    assert tax["breakdown"][0]["rate"] == "0.0725"
    assert tax["breakdown"][0]["jurisdiction"] == "California"

    answer = put(client, f"{base}/payment-method", {"paymentMethod": "card"})
    assert answer.status_code == 200, answer.json()
    data = answer.json()["data"]
    assert data["status"] == State.ORDER_REVIEW
    assert data["paymentMethod"] == "card"
    assert data["shippingMethod"]["name"] == "Standard"
    assert data["totals"]["total"] == "48.89"
    assert [s["step"] for s in data["stepProgress"]][:3] == [
        "cart_review",
        "user_identification",
        "guest_info",
    ]

    # The page shows the same figures.
    review = client.get("/checkout/review/")
    assert review.status_code == 200
    assert review.context["totals"].total == Decimal("48.89")

    got = client.get(base)
    assert got.status_code == 200
    assert got.json()["data"]["totals"]["total"] == "48.89"


def test_starting_again_resumes_the_same_session() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="shipping-method")
    again = start(client)
    assert again["id"] == sid
    assert again["status"] == State.SHIPPING_METHOD
    assert CheckoutSession.objects.filter(is_open=True).count() == 1


def test_a_signed_in_customer_skips_identification() -> None:
    make_zones()
    user = make_user(email="grace@example.com", first_name="Grace", last_name="Hopper")
    client = Client()
    client.force_login(user)
    fill_cart(client)
    session = start(client)
    assert session["status"] == State.SHIPPING_ADDRESS
    assert session["userType"] == "registered"
    assert session["userId"] == user.pk
    assert session["guestInfo"]["email"] == "grace@example.com"
    # Guest info is not a registered shopper's step.
    answer = put(client, f"/api/checkout/sessions/{session['id']}/guest-info", {"guestInfo": GUEST})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "CHECKOUT_STEP_REFUSED"


def test_an_empty_or_missing_cart_cannot_start() -> None:
    client = Client()
    answer = post(client, "/api/checkout/sessions")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"
    post(client, "/api/cart")  # an empty cart
    answer = post(client, "/api/checkout/sessions")
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"]["details"][0]["field"] == "cart_has_valid_items"
    assert body["data"]["status"] == State.CART_REVIEW


def test_another_cart_id_is_not_found() -> None:
    client = Client()
    fill_cart(client, lines=1)
    cart_id = client.post("/api/cart").json()["data"]["id"]
    assert post(client, "/api/checkout/sessions", {"cartId": cart_id}).status_code == 200
    answer = post(client, "/api/checkout/sessions", {"cartId": cart_id + 1000})
    assert answer.status_code == 404


def test_someone_elses_session_is_not_found() -> None:
    make_zones()
    owner = Client()
    fill_cart(owner)
    sid, _ = walk(owner, until="shipping-address")
    stranger = Client()
    fill_cart(stranger, lines=1)
    start(stranger)
    base = f"/api/checkout/sessions/{sid}"
    assert stranger.get(base).status_code == 404
    answer = put(stranger, f"{base}/shipping-address", {"address": API_CA})
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "code": "NOT_FOUND",
        "message": "Checkout session not found.",
        "details": [],
    }
    assert owner.get(base).status_code == 200  # untouched
    assert Client().get(base).status_code == 404  # no session at all
    assert owner.get("/api/checkout/sessions/nope").status_code == 404


def test_an_expired_session_is_gone_then_not_found() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="shipping-address")
    CheckoutSession.objects.filter(public_id=sid).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    base = f"/api/checkout/sessions/{sid}"
    answer = put(client, f"{base}/shipping-address", {"address": API_CA})
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "CHECKOUT_EXPIRED"
    session = CheckoutSession.objects.get(public_id=sid)
    assert not session.is_open
    assert session.events.filter(kind=CheckoutEvent.Kind.EXPIRED).exists()
    assert client.get(base).status_code == 404
    # Starting again gives a fresh session.
    assert start(client)["id"] != sid


def test_a_changed_cart_is_repriced() -> None:
    make_zones()
    client = Client()
    fill_cart(client, lines=1, price="20.00")
    sid, data = walk(client, until="review")
    assert data["totals"]["subtotal"] == "20.00"
    version = data["cartVersion"]
    fill_cart(client, lines=1, price="10.00")  # another tab adds a line
    got = client.get(f"/api/checkout/sessions/{sid}").json()["data"]
    assert got["cartVersion"] > version
    assert got["totals"]["subtotal"] == "30.00"
    assert got["status"] == State.ORDER_REVIEW
    session = CheckoutSession.objects.get(public_id=sid)
    assert session.events.filter(kind=CheckoutEvent.Kind.CART_CHANGED).exists()


def test_a_step_not_reached_yet_is_refused_with_the_session() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="guest-info")
    base = f"/api/checkout/sessions/{sid}"
    answer = put(client, f"{base}/payment-method", {"paymentMethod": "card"})
    assert answer.status_code == 409
    body = answer.json()
    assert body["error"]["code"] == "CHECKOUT_STEP_REFUSED"
    assert body["error"]["details"][0]["code"] == "not_allowed"
    assert body["data"]["status"] == State.USER_IDENTIFICATION
    assert body["data"]["paymentMethod"] is None


def test_a_shipping_method_not_offered_names_its_guard() -> None:
    methods = make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="shipping-method")
    ny_only = methods["United States Standard"].pk  # the CA address is in US West
    answer = put(
        client, f"/api/checkout/sessions/{sid}/shipping-method", {"shippingMethodId": ny_only}
    )
    assert answer.status_code == 409
    detail = answer.json()["error"]["details"][0]
    assert detail["field"] == "shipping_method_available"
    assert answer.json()["data"]["shippingMethod"] is None


def test_editing_the_address_from_review_changes_the_tax() -> None:
    make_zones()
    client = Client()
    fill_cart(client, lines=2, price="20.00")
    sid, data = walk(client, until="review")
    assert data["totals"]["tax"] == "2.90"
    base = f"/api/checkout/sessions/{sid}"
    moved = put(client, f"{base}/shipping-address", {"address": API_NY}).json()["data"]
    # The US West method is not offered in New York: the method is asked again.
    assert moved["checkoutSession"]["status"] == State.SHIPPING_METHOD
    method = moved["shippingMethods"][0]["id"]
    chosen = put(client, f"{base}/shipping-method", {"shippingMethodId": method}).json()["data"]
    assert chosen["checkoutSession"]["status"] == State.ORDER_REVIEW  # payment still holds
    assert chosen["taxCalculation"]["totalTax"] == "1.88"  # 4% of 40.00 + 6.99
    assert chosen["taxCalculation"]["shippingTax"] == "0.28"
    assert chosen["orderTotal"] == "48.87"


def test_a_separate_billing_address_and_back_to_same() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="shipping-address")
    base = f"/api/checkout/sessions/{sid}"
    data = put(
        client, f"{base}/shipping-address", {"address": API_CA, "billingSameAsShipping": False}
    ).json()["data"]
    assert data["checkoutSession"]["status"] == State.BILLING_ADDRESS
    answer = put(client, f"{base}/billing-address", {"address": API_NY})
    assert answer.status_code == 200, answer.json()
    data = answer.json()["data"]
    assert data["checkoutSession"]["status"] == State.SHIPPING_METHOD
    assert data["checkoutSession"]["billingAddress"]["state"] == "NY"
    assert data["checkoutSession"]["billingSameAsShipping"] is False
    answer = put(client, f"{base}/billing-address", {"sameAsShipping": True})
    assert answer.status_code == 200, answer.json()
    data = answer.json()["data"]
    assert data["validation"] is None
    assert data["checkoutSession"]["billingSameAsShipping"] is True
    assert data["checkoutSession"]["billingAddress"] is None
    assert data["checkoutSession"]["status"] == State.SHIPPING_METHOD


def test_an_invalid_address_is_400_with_the_validation() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="shipping-address")
    bad = dict(API_CA, zipCode="ABCDE")
    answer = put(client, f"/api/checkout/sessions/{sid}/shipping-address", {"address": bad})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["code"] == "ADDRESS_INVALID"
    assert [d["field"] for d in body["error"]["details"]] == ["address.zipCode"]
    assert body["data"]["validation"]["isValid"] is False
    assert CheckoutSession.objects.get(public_id=sid).shipping_address is None


def test_a_country_without_a_zone_is_refused() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="shipping-address")
    berlin = {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "street1": "Unter den Linden 1",
        "city": "Berlin",
        "zipCode": "10117",
        "country": "DE",
    }
    answer = put(client, f"/api/checkout/sessions/{sid}/shipping-address", {"address": berlin})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "SHIPPING_UNAVAILABLE"


def test_the_standardized_address_is_stored_unless_kept_as_entered() -> None:
    make_zones()
    client = Client()
    fill_cart(client)
    sid, _ = walk(client, until="shipping-address")
    base = f"/api/checkout/sessions/{sid}"
    put(client, f"{base}/shipping-address", {"address": API_CA, "billingSameAsShipping": False})
    toronto = {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "street1": "290 Bremner Blvd",
        "city": "Toronto",
        "state": "ON",
        "zipCode": "M5V2T6",
        "country": "CA",
    }
    data = put(client, f"{base}/billing-address", {"address": toronto}).json()["data"]
    assert data["validation"]["suggestions"][0]["address"]["zipCode"] == "M5V 2T6"
    assert data["checkoutSession"]["billingAddress"]["zipCode"] == "M5V 2T6"
    kept = put(client, f"{base}/billing-address", {"address": toronto, "keepAsEntered": True})
    assert kept.status_code == 200, kept.json()
    assert kept.json()["data"]["checkoutSession"]["billingAddress"]["zipCode"] == "M5V2T6"
    # A state that is not a code cannot be kept as typed.
    lower = dict(API_CA, state="california")
    refused = put(client, f"{base}/shipping-address", {"address": lower, "keepAsEntered": True})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "ADDRESS_NOT_KEEPABLE"
    stored = put(client, f"{base}/shipping-address", {"address": lower}).json()["data"]
    assert stored["checkoutSession"]["shippingAddress"]["state"] == "CA"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("guest-info", {"guestInfo": GUEST, "extra": 1}, "extra"),
        ("guest-info", {"guestInfo": dict(GUEST, email="not-an-email")}, "guestInfo.email"),
        ("guest-info", {"guestInfo": dict(GUEST, nickname="x")}, "guestInfo.nickname"),
        ("shipping-address", {"address": dict(API_CA, colour="red")}, "address.colour"),
        ("shipping-address", {"address": dict(API_CA, country="USA")}, "address.country"),
        ("billing-address", {}, "address"),
        ("billing-address", {"address": API_CA, "sameAsShipping": True}, "address"),
        ("shipping-method", {"shippingMethodId": "one"}, "shippingMethodId"),
        ("payment-method", {"paymentMethod": "cash"}, "paymentMethod"),
    ],
)
def test_bad_input_is_400_naming_the_field(path: str, body: object, field: str) -> None:
    make_zones()
    client = Client()
    fill_cart(client, lines=1)
    sid = start(client)["id"]
    answer = put(client, f"/api/checkout/sessions/{sid}/{path}", body)
    assert answer.status_code == 400, answer.json()
    assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in [d["field"] for d in answer.json()["error"]["details"]]


def test_json_only_and_csrf() -> None:
    make_zones()
    client = Client()
    fill_cart(client, lines=1)
    sid = start(client)["id"]
    answer = client.put(
        f"/api/checkout/sessions/{sid}/payment-method",
        "paymentMethod=card",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 415
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies  # the same shopper, without the CSRF token header
    answer = strict.post("/api/checkout/sessions", content_type="application/json")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "CSRF_FAILED"


def test_validate_address() -> None:
    client = Client()
    good = post(client, "/api/addresses/validate", {"address": API_CA})
    assert good.status_code == 200
    assert good.json()["data"]["isValid"] is True
    assert good.json()["data"]["standardizedAddress"]["zipCode"] == "94105"
    bad = post(client, "/api/addresses/validate", {"address": dict(API_CA, zipCode="1")})
    assert bad.status_code == 200
    data = bad.json()["data"]
    assert data["isValid"] is False
    assert data["standardizedAddress"] is None
    assert [e["field"] for e in data["errors"]] == ["zipCode"]
    assert (
        post(client, "/api/addresses/validate", {"address": API_CA, "strict": True}).status_code
        == 400
    )


def test_shipping_and_tax_calculate_for_the_cart() -> None:
    make_zones()
    client = Client()
    assert post(client, "/api/shipping/calculate", {"shippingAddress": API_CA}).status_code == 404
    fill_cart(client, lines=2, price="20.00")
    answer = post(client, "/api/shipping/calculate", {"shippingAddress": API_CA})
    assert answer.status_code == 200, answer.json()
    data = answer.json()["data"]
    assert [m["cost"] for m in data["methods"]] == ["5.99", "19.00"]
    assert data["recommended"]["name"] == "Standard"
    assert data["estimates"][0]["businessDaysOnly"] is True
    assert data["errors"] == []
    nowhere = dict(API_CA, country="CA", state="ON", zipCode="M5V 2T6", city="Toronto")
    data = post(client, "/api/shipping/calculate", {"shippingAddress": nowhere}).json()["data"]
    assert data["methods"] == []
    assert data["recommended"] is None
    assert data["errors"][0]["code"] == "no_zone"

    answer = post(client, "/api/tax/calculate", {"shippingAddress": API_NY, "shippingCost": "6.99"})
    assert answer.status_code == 200, answer.json()
    tax = answer.json()["data"]
    assert (tax["totalTax"], tax["shippingTax"], tax["jurisdiction"]) == ("1.88", "0.28", "US-NY")
    assert tax["breakdown"][0]["type"] == "sales"
    ca = post(client, "/api/tax/calculate", {"shippingAddress": API_CA}).json()["data"]
    assert ca["totalTax"] == "2.90"
    negative = post(client, "/api/tax/calculate", {"shippingAddress": API_CA, "shippingCost": "-1"})
    assert negative.status_code == 400


@override_settings(CHECKOUT_RATE="3/min")
def test_checkout_calls_are_rate_limited_per_client() -> None:
    client = Client()
    for _ in range(3):
        assert post(client, "/api/addresses/validate", {"address": API_CA}).status_code == 200
    answer = post(client, "/api/addresses/validate", {"address": API_CA})
    assert answer.status_code == 429
    assert answer.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(answer["Retry-After"]) <= 60
    assert client.get("/api/checkout/sessions/anything").status_code == 429
    # Another client (its own address) has its own budget.
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert post(other, "/api/addresses/validate", {"address": API_CA}).status_code == 200


SESSION_CALLS = [
    ("get", "", None),
    ("put", "/guest-info", {"guestInfo": GUEST}),
    ("put", "/shipping-address", {"address": API_CA}),
    ("put", "/billing-address", {"sameAsShipping": True}),
    ("put", "/shipping-method", {"shippingMethodId": 1}),
    ("put", "/payment-method", {"paymentMethod": "card"}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), SESSION_CALLS)
def test_every_session_endpoint_is_404_for_others_and_410_once_expired(
    method: str, suffix: str, body: object
) -> None:
    make_zones()
    owner = Client()
    fill_cart(owner, lines=1)
    sid = start(owner)["id"]
    url = f"/api/checkout/sessions/{sid}{suffix}"
    stranger = Client()
    fill_cart(stranger, lines=1)
    start(stranger)
    answer = getattr(stranger, method)(url, body, content_type="application/json")
    assert answer.status_code == 404
    assert answer.json()["success"] is False
    before = CheckoutSession.objects.get(public_id=sid)
    assert before.state == State.USER_IDENTIFICATION  # the stranger changed nothing
    CheckoutSession.objects.filter(public_id=sid).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    answer = getattr(owner, method)(url, body, content_type="application/json")
    assert answer.status_code == 410
    assert answer.json()["error"]["code"] == "CHECKOUT_EXPIRED"
