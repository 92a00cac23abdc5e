"""The /v1 API through the official SDK; every response is checked against Stripe's schemas."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
import stripe

from stripe_sandbox.control_client import SandboxControl

from .conftest import SECRET_KEY, SchemaChecker, raw
from .helpers import CANCEL_URL, SUCCESS_URL, create_session, session_params


def _rate(client: Any, pct: float = 20) -> Any:
    return client.v1.tax_rates.create(
        params={
            "display_name": "VAT",
            "percentage": pct,
            "inclusive": False,
            "jurisdiction": "DE",
        }
    )


def test_create_session_full(client: Any, schemas: SchemaChecker) -> None:
    vat = _rate(client, 19)
    schemas.check("tax_rate", vat)
    coupon = client.v1.coupons.create(params={"percent_off": 10, "duration": "once"})
    schemas.check("coupon", coupon)
    params = session_params(
        discounts=[{"coupon": coupon.id}],
        shipping_options=[
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": 495, "currency": "eur"},
                    "display_name": "Standard",
                    "delivery_estimate": {
                        "minimum": {"unit": "business_day", "value": 2},
                        "maximum": {"unit": "business_day", "value": 4},
                    },
                }
            }
        ],
    )
    for line in params["line_items"]:
        line["tax_rates"] = [vat.id]
    s = client.v1.checkout.sessions.create(params=params)
    schemas.check("checkout.session", s)
    assert s.id.startswith("cs_test_")
    assert s.object == "checkout.session"
    assert s.url == f"{client._requestor.base_addresses['api']}/c/pay/{s.id}"
    assert (s.status, s.payment_status, s.mode, s.currency) == ("open", "unpaid", "payment", "eur")
    assert s.amount_subtotal == 4498
    # 10% of 4498 = 449.8 -> 450; shares 400/50; VAT 19% of 3598 (683.62) and 450 (85.5)
    assert s.total_details.amount_discount == 450
    assert s.total_details.amount_shipping == 495
    assert s.total_details.amount_tax == 684 + 86
    assert s.amount_total == 4498 - 450 + 495 + 770
    assert s.shipping_cost.amount_total == 495
    assert s.shipping_options[0].shipping_amount == 495
    assert s.success_url == SUCCESS_URL
    assert s.cancel_url == CANCEL_URL
    assert s.customer_email == "buyer@example.com"
    assert s.client_reference_id == "checkout-42"
    assert s.metadata.to_dict() == {"checkout_id": "42"}
    assert s.payment_intent is None
    assert s.livemode is False
    assert 24 * 3600 - 5 <= s.expires_at - s.created <= 24 * 3600


def test_retrieve_with_expand_and_line_items(client: Any, schemas: SchemaChecker) -> None:
    vat = _rate(client)
    params = session_params()
    params["line_items"][0]["tax_rates"] = [vat.id]
    s = client.v1.checkout.sessions.create(params=params)
    got = client.v1.checkout.sessions.retrieve(
        s.id, params={"expand": ["line_items", "payment_intent", "total_details.breakdown"]}
    )
    schemas.check("checkout.session", got)
    assert got.line_items.object == "list"
    assert [li.description for li in got.line_items.data] == ["Linen shirt", "Socks"]
    assert got.total_details.breakdown.taxes[0].rate.id == vat.id
    schemas.check_list("item", raw(got)["line_items"])
    items = client.v1.checkout.sessions.line_items.list(s.id, params={"limit": 1})
    schemas.check_list("item", items)
    assert len(items.data) == 1
    assert items.has_more is True
    first = items.data[0]
    assert first.id.startswith("li_")
    assert (first.amount_subtotal, first.amount_tax, first.quantity) == (3998, 800, 2)
    assert first.price.unit_amount == 1999
    assert first.price.currency == "eur"
    nxt = client.v1.checkout.sessions.line_items.list(
        s.id, params={"starting_after": first.id, "expand": ["data.taxes"]}
    )
    assert [li.description for li in nxt.data] == ["Socks"]
    assert nxt.has_more is False
    assert nxt.data[0].taxes == []


def test_list_sessions_filters_and_pagination(
    client: Any, sandbox: SandboxControl, schemas: SchemaChecker
) -> None:
    ids = [create_session(client).id for _ in range(3)]
    page = client.v1.checkout.sessions.list(params={"limit": 2})
    schemas.check_list("checkout.session", page)
    assert [x.id for x in page.data] == [ids[2], ids[1]]
    assert page.has_more
    rest = client.v1.checkout.sessions.list(params={"limit": 2, "starting_after": ids[1]})
    assert [x.id for x in rest.data] == [ids[0]]
    assert not rest.has_more
    sandbox.pay(ids[1])
    pi = client.v1.checkout.sessions.retrieve(ids[1]).payment_intent
    assert isinstance(pi, str)
    by_pi = client.v1.checkout.sessions.list(params={"payment_intent": pi})
    assert [x.id for x in by_pi.data] == [ids[1]]
    done = client.v1.checkout.sessions.list(params={"status": "complete"})
    assert [x.id for x in done.data] == [ids[1]]
    opened = client.v1.checkout.sessions.list(params={"status": "open"})
    assert {x.id for x in opened.data} == {ids[0], ids[2]}


def test_expire_session(client: Any, schemas: SchemaChecker) -> None:
    s = create_session(client)
    expired = client.v1.checkout.sessions.expire(s.id)
    schemas.check("checkout.session", expired)
    assert expired.status == "expired"
    assert expired.payment_status == "unpaid"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.expire(s.id)
    assert exc.value.http_status == 400
    assert 'status of "expired"' in str(exc.value.user_message)
    evt = client.v1.events.list(params={"type": "checkout.session.expired"}).data[0]
    assert evt.data.object.id == s.id


def test_expires_at_bounds(client: Any) -> None:
    now = int(time.time())
    s = create_session(client, expires_at=now + 3600)
    assert s.expires_at == now + 3600
    for bad in (now + 60, now + 25 * 3600):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            create_session(client, expires_at=bad)
        assert exc.value.param == "expires_at"


def test_payment_intent_retrieve_and_update(
    client: Any, sandbox: SandboxControl, schemas: SchemaChecker
) -> None:
    s = create_session(client)
    assert sandbox.pay(s.id)["outcome"] == "succeeded"
    s = client.v1.checkout.sessions.retrieve(s.id, params={"expand": ["payment_intent"]})
    schemas.check("checkout.session", s)
    assert (s.status, s.payment_status) == ("complete", "paid")
    pi = s.payment_intent
    assert pi.id.startswith("pi_")
    assert pi.status == "succeeded"
    assert pi.amount == s.amount_total
    assert pi.amount_received == s.amount_total
    assert pi.metadata.to_dict() == {"checkout_id": "42"}
    got = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    schemas.check("payment_intent", got)
    schemas.check("charge", raw(got)["latest_charge"])
    assert got.latest_charge.status == "succeeded"
    assert got.latest_charge.paid
    updated = client.v1.payment_intents.update(pi.id, params={"metadata": {"order_id": "7"}})
    schemas.check("payment_intent", updated)
    assert updated.metadata.to_dict() == {"checkout_id": "42", "order_id": "7"}
    assert s.customer_details.email == "customer@example.com"


def test_refunds_full_partial_and_errors(
    client: Any, sandbox: SandboxControl, schemas: SchemaChecker
) -> None:
    s = create_session(client)
    sandbox.pay(s.id)
    pi_id = client.v1.checkout.sessions.retrieve(s.id).payment_intent
    assert isinstance(pi_id, str)
    part = client.v1.refunds.create(
        params={
            "payment_intent": pi_id,
            "amount": 1000,
            "reason": "requested_by_customer",
            "metadata": {"order_id": "7"},
        }
    )
    schemas.check("refund", part)
    assert part.id.startswith("re_")
    assert part.status == "succeeded"
    assert part.amount == 1000
    assert part.payment_intent == pi_id
    assert part.metadata.to_dict() == {"order_id": "7"}
    got = client.v1.refunds.retrieve(part.id)
    schemas.check("refund", got)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi_id, "amount": 10**6})
    assert exc.value.code == "amount_too_large"
    assert exc.value.param == "amount"
    rest = client.v1.refunds.create(params={"payment_intent": pi_id})
    assert rest.amount == s.amount_total - 1000
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi_id})
    assert exc.value.code == "charge_already_refunded"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": "pi_missing"})
    assert exc.value.code == "resource_missing"
    assert exc.value.param == "payment_intent"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.retrieve("re_missing")
    assert exc.value.http_status == 404
    charge_events = client.v1.events.list(params={"type": "charge.refunded"})
    assert len(charge_events.data) == 2
    latest = charge_events.data[0]
    schemas.check("event", raw(charge_events)["data"][0])
    assert latest.data.object.refunded is True
    assert latest.data.object.amount_refunded == s.amount_total
    assert latest.data.previous_attributes.to_dict() == {"amount_refunded": 1000, "refunded": False}
    assert len(client.v1.events.list(params={"type": "refund.created"}).data) == 2


def test_refund_unpaid_intent_is_rejected(client: Any, sandbox: SandboxControl) -> None:
    s = create_session(client)
    assert sandbox.pay(s.id, "4000000000000002")["outcome"] == "declined"
    pi_id = client.v1.checkout.sessions.retrieve(s.id).payment_intent
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi_id})
    assert "does not have a successful charge" in str(exc.value.user_message)


def test_events_get_and_list(client: Any, sandbox: SandboxControl, schemas: SchemaChecker) -> None:
    for _ in range(2):
        sandbox.pay(create_session(client).id)
    all_events = client.v1.events.list(params={"limit": 100})
    schemas.check_list("event", all_events)
    assert [e.type for e in all_events.data] == [
        "checkout.session.completed", "payment_intent.succeeded",
    ] * 2  # fmt: skip
    completed = client.v1.events.list(params={"type": "checkout.session.completed", "limit": 1})
    assert len(completed.data) == 1
    assert completed.has_more
    older = client.v1.events.list(
        params={"type": "checkout.session.completed", "starting_after": completed.data[0].id}
    )
    assert len(older.data) == 1
    assert not older.has_more
    wildcard = client.v1.events.list(params={"type": "payment_intent.*"})
    assert len(wildcard.data) == 2
    created = all_events.data[0].created
    assert len(client.v1.events.list(params={"created": {"gte": created}}).data) >= 1
    assert client.v1.events.list(params={"created": {"gte": created + 3600}}).data == []
    evt = client.v1.events.retrieve(completed.data[0].id)
    schemas.check("event", evt)
    assert evt.object == "event"
    assert evt.api_version == stripe.api_version
    assert evt.livemode is False
    assert evt.data.object.object == "checkout.session"
    assert evt.request.id is None  # caused by the customer on the hosted page
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.events.retrieve("evt_missing")
    assert exc.value.http_status == 404
    assert exc.value.code == "resource_missing"


def test_event_request_carries_idempotency_key(client: Any) -> None:
    s = create_session(client)
    client.v1.checkout.sessions.expire(s.id, options={"idempotency_key": "expire-key-1"})
    evt = client.v1.events.list(params={"type": "checkout.session.expired"}).data[0]
    assert evt.request.idempotency_key == "expire-key-1"
    assert evt.request.id.startswith("req_")


# -- idempotency -------------------------------------------------------------------------------
def test_idempotent_replay(client: Any, schemas: SchemaChecker) -> None:
    key = f"checkout-{uuid.uuid4()}"
    first = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": key}
    )
    again = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": key}
    )
    schemas.check("checkout.session", again)
    assert again.id == first.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert again.last_response.headers["Idempotency-Key"] == key
    assert len(client.v1.checkout.sessions.list().data) == 1


def test_idempotency_conflict(client: Any, schemas: SchemaChecker) -> None:
    key = f"checkout-{uuid.uuid4()}"
    client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as exc:
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="other"), options={"idempotency_key": key}
        )
    assert exc.value.http_status == 400
    body: Any = exc.value.json_body
    schemas.check("error", body)
    assert body["error"]["type"] == "idempotency_error"


def test_failed_validation_is_not_stored_under_the_key(client: Any) -> None:
    key = f"checkout-{uuid.uuid4()}"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            params=session_params(line_items=[]), options={"idempotency_key": key}
        )
    s = client.v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": key}
    )
    assert s.status == "open"


def test_idempotent_refund_replay(client: Any, sandbox: SandboxControl) -> None:
    s = create_session(client)
    sandbox.pay(s.id)
    pi = client.v1.checkout.sessions.retrieve(s.id).payment_intent
    opts: stripe.RequestOptions = {"idempotency_key": "refund-order-7"}
    r1 = client.v1.refunds.create(params={"payment_intent": pi, "amount": 100}, options=opts)
    r2 = client.v1.refunds.create(params={"payment_intent": pi, "amount": 100}, options=opts)
    assert r1.id == r2.id
    assert len(client.v1.events.list(params={"type": "refund.created"}).data) == 1


# -- errors ------------------------------------------------------------------------------------
def test_wrong_and_missing_api_key(sandbox: SandboxControl, schemas: SchemaChecker) -> None:
    bad = stripe.StripeClient("sk_test_wrong_key_000000", base_addresses={"api": sandbox.base_url})
    with pytest.raises(stripe.AuthenticationError) as exc:
        bad.v1.checkout.sessions.list()
    assert exc.value.http_status == 401
    schemas.check("error", exc.value.json_body)
    assert "sk_test_wrong_key_000000" not in str(exc.value.json_body)  # masked
    r = requests.get(f"{sandbox.base_url}/v1/events", timeout=5)
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "invalid_request_error"
    ok = requests.get(f"{sandbox.base_url}/v1/events", auth=(SECRET_KEY, ""), timeout=5)
    assert ok.status_code == 200


def test_not_found(client: Any, schemas: SchemaChecker) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert exc.value.http_status == 404
    assert exc.value.code == "resource_missing"
    assert exc.value.param == "session"
    assert exc.value.user_message == "No such checkout.session: 'cs_test_missing'"
    schemas.check("error", exc.value.json_body)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.retrieve("pi_missing")
    assert exc.value.http_status == 404
    assert exc.value.param == "intent"


@pytest.mark.parametrize(
    ("overrides", "param", "code"),
    [
        ({"mode": None}, "mode", "parameter_missing"),
        ({"mode": "subscription"}, "mode", "parameter_invalid"),
        ({"success_url": None}, "success_url", "parameter_missing"),
        ({"success_url": "not a url"}, "success_url", "url_invalid"),
        ({"customer_email": "nope"}, "customer_email", "email_invalid"),
        ({"line_items": None}, "line_items", "parameter_missing"),
        ({"bogus": "1"}, "bogus", "parameter_unknown"),
        ({"discounts": [{"coupon": "NOPE"}]}, "discounts[0][coupon]", "resource_missing"),
        ({"metadata": {"k" * 41: "v"}}, "metadata", "parameter_invalid"),
    ],
)
def test_session_validation_errors(
    client: Any,
    schemas: SchemaChecker,
    overrides: dict[str, object],
    param: str,
    code: str,
) -> None:
    params = session_params(**overrides)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=params)
    assert exc.value.http_status == 400
    assert exc.value.param == param
    assert exc.value.code == code
    schemas.check("error", exc.value.json_body)


@pytest.mark.parametrize(
    ("path", "value", "param"),
    [
        (("quantity",), "0", "line_items[0][quantity]"),
        (("quantity",), "two", "line_items[0][quantity]"),
        (("price_data", "unit_amount"), "-1", "line_items[0][price_data][unit_amount]"),
        (
            ("price_data", "product_data", "name"),
            "",
            "line_items[0][price_data][product_data][name]",
        ),
        (("tax_rates",), ["txr_missing"], "line_items[0][tax_rates][0]"),
    ],
)
def test_line_item_errors_name_the_param(
    client: Any, path: tuple[str, ...], value: object, param: str
) -> None:
    params = session_params()
    target = params["line_items"][0]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=params)
    assert exc.value.param == param


def test_mixed_currencies_rejected(client: Any) -> None:
    params = session_params()
    params["line_items"][1]["price_data"]["currency"] = "usd"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.create(params=params)
    assert exc.value.param == "line_items[1][price_data][currency]"


def test_coupon_variants(client: Any, schemas: SchemaChecker) -> None:
    fixed = client.v1.coupons.create(
        params={"id": "TENOFF", "amount_off": 1000, "currency": "eur", "duration": "once"}
    )
    schemas.check("coupon", fixed)
    assert fixed.id == "TENOFF"
    assert fixed.amount_off == 1000
    assert fixed.percent_off is None
    schemas.check("coupon", client.v1.coupons.retrieve("TENOFF"))
    s = create_session(client, discounts=[{"coupon": "TENOFF"}])
    assert s.total_details.amount_discount == 1000
    assert s.amount_total == 3498
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.create(params={"amount_off": 100, "duration": "once"})
    assert exc.value.param == "currency"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.coupons.create(params={"duration": "once"})
    usd = client.v1.coupons.create(params={"amount_off": 100, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(client, discounts=[{"coupon": usd.id}])
    assert exc.value.param == "discounts[0][coupon]"


def test_tax_rate_validation(client: Any, schemas: SchemaChecker) -> None:
    rate = client.v1.tax_rates.retrieve(_rate(client, 7.5).id)
    schemas.check("tax_rate", rate)
    assert rate.percentage == 7.5
    assert rate.inclusive is False
    assert rate.jurisdiction == "DE"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.tax_rates.create(params={"display_name": "VAT", "inclusive": False})
    assert exc.value.param == "percentage"


def test_no_api_call_charges_a_card_so_none_answers_402(
    client: Any, sandbox: SandboxControl
) -> None:
    """Stripe answers 402 card_error to API calls that charge a card (creating a charge,
    confirming a PaymentIntent). The subset the shop uses has no such call: the customer pays
    on the hosted page, and a decline is read from the PaymentIntent's last_payment_error (and
    the payment_intent.payment_failed event). Creating a charge is not an endpoint here."""
    r = requests.post(
        f"{sandbox.base_url}/v1/charges", auth=(SECRET_KEY, ""), data={"amount": 1}, timeout=5
    )
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "invalid_request_error"
    s = create_session(client)
    assert sandbox.pay(s.id, "4000000000000002")["outcome"] == "declined"
    pi = client.v1.payment_intents.retrieve(
        str(client.v1.checkout.sessions.retrieve(s.id).payment_intent)
    )
    assert pi.last_payment_error.type == "card_error"
    assert pi.last_payment_error.decline_code == "generic_decline"


# -- unit_amount_decimal (issue #3) -------------------------------------------------------------
def _one_line(currency: str = "usd", **price: Any) -> list[dict[str, Any]]:
    return [
        {
            "price_data": {"currency": currency, "product_data": {"name": "Thing"}, **price},
            "quantity": 1,
        }
    ]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("-1", "parameter_invalid_decimal"),
        ("-0.5", "parameter_invalid_decimal"),
        ("100000000", "parameter_invalid"),
        ("99999999.5", "parameter_invalid"),
        ("1e3", "parameter_invalid_decimal"),
        ("NaN", "parameter_invalid_decimal"),
        ("12.0000000000001", "parameter_invalid_decimal"),  # 13 decimal places
        ("1,5", "parameter_invalid_decimal"),
    ],
)
def test_unit_amount_decimal_is_validated_like_unit_amount(
    client: Any, schemas: SchemaChecker, value: str, code: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(client, line_items=_one_line(unit_amount_decimal=value))
    assert exc.value.http_status == 400
    assert exc.value.param == "line_items[0][price_data][unit_amount_decimal]"
    assert exc.value.code == code
    schemas.check("error", exc.value.json_body)
    assert client.v1.checkout.sessions.list().data == []


def test_unit_amount_decimal_accepted_and_exclusive_with_unit_amount(client: Any) -> None:
    s = create_session(client, line_items=_one_line(unit_amount_decimal="1999.000000000000"))
    assert s.amount_total == 1999
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(client, line_items=_one_line(unit_amount=100, unit_amount_decimal="100"))
    assert exc.value.param == "line_items[0][price_data][unit_amount_decimal]"


# -- charge limits and currencies (issue #3) --------------------------------------------------
@pytest.mark.parametrize(
    ("currency", "too_small", "smallest", "shown"),
    [
        ("usd", 49, 50, "$0.50 usd"),
        ("eur", 49, 50, "€0.50 eur"),
        ("gbp", 29, 30, "£0.30 gbp"),
        ("cad", 49, 50, "$0.50 cad"),
        ("aud", 49, 50, "$0.50 aud"),
        ("jpy", 49, 50, "¥50 jpy"),  # zero-decimal: 50 is fifty yen
    ],
)
def test_minimum_charge_amount(
    client: Any, schemas: SchemaChecker, currency: str, too_small: int, smallest: int, shown: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(client, line_items=_one_line(currency, unit_amount=too_small))
    assert exc.value.http_status == 400
    assert exc.value.code == "amount_too_small"
    assert exc.value.user_message == (
        f"The Checkout Session's total amount due must add up to at least {shown}"
    )
    schemas.check("error", exc.value.json_body)
    s = create_session(client, line_items=_one_line(currency, unit_amount=smallest))
    assert (s.amount_total, s.currency) == (smallest, currency)


def test_minimum_applies_to_the_total_after_discount(client: Any) -> None:
    coupon = client.v1.coupons.create(params={"amount_off": 960, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(
            client, line_items=_one_line(unit_amount=1000), discounts=[{"coupon": coupon.id}]
        )
    assert exc.value.code == "amount_too_small"


def test_maximum_charge_amount(client: Any) -> None:
    line = _one_line(unit_amount=99_999_999)
    line[0]["quantity"] = 2
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(client, line_items=line)
    assert exc.value.http_status == 400
    assert exc.value.code == "amount_too_large"
    assert "no more than $999,999.99 usd" in str(exc.value.user_message)
    assert create_session(client, line_items=_one_line(unit_amount=99_999_999)).amount_total == (
        99_999_999
    )


@pytest.mark.parametrize("currency", ["xyz", "btc", "us", "usdd"])
def test_unsupported_currency_is_rejected(client: Any, currency: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(client, line_items=_one_line(currency, unit_amount=1000))
    assert exc.value.http_status == 400
    assert exc.value.param == "line_items[0][price_data][currency]"
    assert "Invalid currency" in str(exc.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.coupons.create(params={"amount_off": 100, "currency": currency})
    assert exc.value.param == "currency"


# -- zero totals (issue #3) ---------------------------------------------------------------------
def test_zero_total_session_needs_no_payment(
    client: Any, sandbox: SandboxControl, schemas: SchemaChecker
) -> None:
    free = client.v1.coupons.create(params={"percent_off": 100, "duration": "once"})
    s = create_session(client, discounts=[{"coupon": free.id}])
    schemas.check("checkout.session", s)
    assert (s.amount_total, s.status, s.payment_status) == (0, "open", "no_payment_required")
    outcome = sandbox.pay(s.id)
    assert outcome["outcome"] == "succeeded"
    assert outcome["redirect_url"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", s.id)
    done = client.v1.checkout.sessions.retrieve(s.id)
    schemas.check("checkout.session", done)
    assert (done.status, done.payment_status) == ("complete", "no_payment_required")
    assert done.payment_intent is None
    assert done.customer_details.email == "customer@example.com"
    events = client.v1.events.list()
    assert [e.type for e in events.data] == ["checkout.session.completed"]
    assert events.data[0].data.object.payment_status == "no_payment_required"
    assert events.data[0].data.object.payment_intent is None
    assert client.v1.coupons.retrieve(free.id).times_redeemed == 1
    assert sandbox.pay(s.id)["outcome"] == "not_open"


def test_free_items_session_needs_no_payment(client: Any, sandbox: SandboxControl) -> None:
    s = create_session(client, line_items=_one_line(unit_amount=0))
    assert (s.amount_total, s.payment_status) == (0, "no_payment_required")
    assert sandbox.pay(s.id, method="bank_debit")["outcome"] == "succeeded"
    done = client.v1.checkout.sessions.retrieve(s.id)
    assert (done.payment_status, done.payment_intent) == ("no_payment_required", None)


# -- session.url (issue #3) ---------------------------------------------------------------------
def test_url_is_null_once_complete_or_expired(
    client: Any, sandbox: SandboxControl, schemas: SchemaChecker
) -> None:
    paid = create_session(client)
    expired = create_session(client)
    still_open = create_session(client)
    sandbox.pay(paid.id)
    gone = client.v1.checkout.sessions.expire(expired.id)
    schemas.check("checkout.session", gone)
    assert gone.url is None
    for cs_id in (paid.id, expired.id):
        got = client.v1.checkout.sessions.retrieve(cs_id)
        schemas.check("checkout.session", got)
        assert got.url is None
    listed = {x.id: x.url for x in client.v1.checkout.sessions.list().data}
    assert listed == {paid.id: None, expired.id: None, still_open.id: still_open.url}
    assert still_open.url is not None
    for kind in ("checkout.session.completed", "checkout.session.expired"):
        [evt] = client.v1.events.list(params={"type": kind}).data
        assert evt.data.object.url is None
    # a session that expires by itself on the sandbox clock, too
    late = create_session(client, expires_at=int(time.time()) + 1800)
    sandbox.set_clock(advance=1801)
    assert client.v1.checkout.sessions.retrieve(late.id).url is None


# -- expand line_items.data.price.product (issue #3) -------------------------------------------
def test_expand_line_item_products(client: Any, schemas: SchemaChecker) -> None:
    vat = _rate(client)
    params = session_params()
    params["line_items"][0]["tax_rates"] = [vat.id]
    s = client.v1.checkout.sessions.create(params=params)
    got = client.v1.checkout.sessions.retrieve(
        s.id, params={"expand": ["line_items.data.price.product", "line_items.data.taxes"]}
    )
    body = raw(got)
    schemas.check("checkout.session", body)
    first, second = body["line_items"]["data"]
    for item in (first, second):
        schemas.check("item", item)
        schemas.check("product", item["price"]["product"])
    assert first["price"]["product"]["name"] == "Linen shirt"
    assert first["price"]["product"]["metadata"] == {"sku": "SHIRT-M"}
    assert first["price"]["product"]["id"].startswith("prod_")
    assert first["taxes"][0]["rate"]["id"] == vat.id  # both expansions kept
    assert got.line_items.data[1].price.product.name == "Socks"
    items = client.v1.checkout.sessions.line_items.list(
        s.id, params={"expand": ["data.price.product"]}
    )
    schemas.check_list("item", items)
    assert raw(items)["data"][0]["price"]["product"] == first["price"]["product"]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.checkout.sessions.retrieve(
            s.id, params={"expand": ["line_items.data.price.nope"]}
        )
    assert exc.value.param == "expand"


# -- idempotency after execution and on the sandbox clock (issue #3) ---------------------------
def test_post_execution_failure_is_stored_and_replayed(
    client: Any, sandbox: SandboxControl, schemas: SchemaChecker
) -> None:
    key = f"checkout-{uuid.uuid4()}"
    sandbox.fail_next_api(1)  # the request runs, then the server fails
    with pytest.raises(stripe.APIError) as first:
        client.v1.checkout.sessions.create(
            params=session_params(), options={"idempotency_key": key}
        )
    assert first.value.http_status == 500
    schemas.check("error", first.value.json_body)
    with pytest.raises(stripe.APIError) as again:
        client.v1.checkout.sessions.create(
            params=session_params(), options={"idempotency_key": key}
        )
    assert again.value.http_status == 500
    assert (again.value.headers or {}).get("Idempotent-Replayed") == "true"
    assert again.value.json_body == first.value.json_body
    # it ran exactly once, and is not run again however often it is retried with the key
    assert len(client.v1.checkout.sessions.list().data) == 1
    fresh = client.v1.checkout.sessions.create(params=session_params())
    assert fresh.status == "open"
    assert len(client.v1.checkout.sessions.list().data) == 2


def test_idempotency_keys_expire_on_the_sandbox_clock(client: Any, sandbox: SandboxControl) -> None:
    key = f"checkout-{uuid.uuid4()}"
    opts: stripe.RequestOptions = {"idempotency_key": key}
    first = client.v1.checkout.sessions.create(params=session_params(), options=opts)
    sandbox.set_clock(advance=23 * 3600)
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params=session_params(client_reference_id="other"), options=opts
        )
    sandbox.set_clock(advance=3600 + 1)  # now over 24 h old: the key may be reused
    again = client.v1.checkout.sessions.create(
        params=session_params(client_reference_id="other"), options=opts
    )
    assert again.id != first.id
    assert again.client_reference_id == "other"
    assert "Idempotent-Replayed" not in again.last_response.headers


def test_coupon_past_redeem_by_is_refused(client: Any, sandbox: SandboxControl) -> None:
    """``redeem_by`` is enforced: after it (on the sandbox clock) the coupon
    is ``valid: false`` and a session cannot use it, as for a used-up ``max_redemptions``."""
    now = int(sandbox.clock()["now"])
    coupon = client.v1.coupons.create(
        params={"percent_off": 10, "duration": "once", "redeem_by": now + 3600}
    )
    assert coupon.valid is True
    before = create_session(client, discounts=[{"coupon": coupon.id}])
    assert before.total_details.amount_discount > 0
    sandbox.set_clock(advance=3600)
    assert client.v1.coupons.retrieve(coupon.id).valid is False
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(client, discounts=[{"coupon": coupon.id}])
    assert exc.value.http_status == 400
    assert exc.value.param == "discounts[0][coupon]"
    assert "no longer valid" in str(exc.value.user_message)


@pytest.mark.parametrize(
    ("currency", "methods"),
    [("usd", ["card", "us_bank_account"]), ("eur", ["card", "sepa_debit"]),
     ("gbp", ["card"]), ("jpy", ["card"])],
)  # fmt: skip
def test_bank_debit_is_offered_only_in_its_currency(
    client: Any, sandbox: SandboxControl, currency: str, methods: list[str]
) -> None:
    """US bank accounts are debited in usd only (SEPA in eur): a gbp session offered
    ``us_bank_account`` and the hosted page showed a bank-debit form for it."""
    s = create_session(client, line_items=_one_line(currency=currency, unit_amount=5000))
    assert s.payment_method_types == methods
    page = requests.get(s.url, timeout=5).text
    assert ('id="pay-bank"' in page) == (len(methods) == 2)
    if len(methods) == 1:
        assert sandbox.pay(s.id, method="bank_debit")["outcome"] == "declined"


@pytest.mark.parametrize(
    ("currency", "method"),
    [("gbp", "us_bank_account"), ("eur", "us_bank_account"), ("usd", "sepa_debit")],
)
def test_bank_debit_type_in_another_currency_is_400(
    client: Any, currency: str, method: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        create_session(
            client,
            line_items=_one_line(currency=currency, unit_amount=5000),
            payment_method_types=["card", method],
        )
    assert exc.value.param == "payment_method_types[1]"
