"""Shared builders for the sandbox tests."""

from __future__ import annotations

from typing import Any

SUCCESS_URL = "http://shop.test/checkout/success/?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://shop.test/checkout/cancel/"


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 1999,
                    "product_data": {"name": "Linen shirt", "metadata": {"sku": "SHIRT-M"}},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 500,
                    "product_data": {"name": "Socks"},
                },
                "quantity": 1,
            },
        ],
        "customer_email": "buyer@example.com",
        "client_reference_id": "checkout-42",
        "metadata": {"checkout_id": "42"},
        "payment_intent_data": {"metadata": {"checkout_id": "42"}},
    }
    params.update(overrides)
    return params


def create_session(client: Any, **overrides: Any) -> Any:
    return client.v1.checkout.sessions.create(params=session_params(**overrides))
