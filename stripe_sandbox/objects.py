"""Builders for Stripe-shaped JSON objects (API version 2026-10-28.endive field set)."""

from __future__ import annotations

import secrets
import string
from typing import Any

from . import API_VERSION

Obj = dict[str, Any]

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def session_id() -> str:
    return "cs_test_a1" + "".join(secrets.choice(_ALNUM) for _ in range(56))


def _address(country: str | None = None, postal_code: str | None = None) -> Obj:
    return {
        "city": None,
        "country": country,
        "line1": None,
        "line2": None,
        "postal_code": postal_code,
        "state": None,
    }


def coupon(
    *,
    coupon_id: str,
    created: int,
    duration: str,
    percent_off: float | None,
    amount_off: int | None,
    currency: str | None,
    name: str | None,
    metadata: dict[str, str],
    max_redemptions: int | None,
    redeem_by: int | None,
    duration_in_months: int | None,
) -> Obj:
    return {
        "id": coupon_id,
        "object": "coupon",
        "amount_off": amount_off,
        "created": created,
        "currency": currency,
        "duration": duration,
        "duration_in_months": duration_in_months,
        "livemode": False,
        "max_redemptions": max_redemptions,
        "metadata": metadata,
        "name": name,
        "percent_off": percent_off,
        "redeem_by": redeem_by,
        "times_redeemed": 0,
        "valid": True,
    }


def tax_rate(
    *,
    created: int,
    percentage: float,
    display_name: str,
    inclusive: bool,
    jurisdiction: str | None,
    description: str | None,
    country: str | None,
    state: str | None,
    tax_type: str | None,
    active: bool,
    metadata: dict[str, str],
) -> Obj:
    return {
        "id": new_id("txr_"),
        "object": "tax_rate",
        "active": active,
        "country": country,
        "created": created,
        "description": description,
        "display_name": display_name,
        "effective_percentage": percentage,
        "flat_amount": None,
        "inclusive": inclusive,
        "jurisdiction": jurisdiction,
        "jurisdiction_level": None,
        "livemode": False,
        "metadata": metadata,
        "percentage": percentage,
        "rate_type": "percentage",
        "state": state,
        "tax_type": tax_type,
    }


def price(
    *, created: int, currency: str, unit_amount: int, product_id: str, metadata: dict[str, str]
) -> Obj:
    return {
        "id": new_id("price_"),
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": metadata,
        "nickname": None,
        "product": product_id,
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def product(
    *,
    created: int,
    name: str,
    description: str | None,
    images: list[str],
    metadata: dict[str, str],
) -> Obj:
    return {
        "id": new_id("prod_", 14),
        "object": "product",
        "active": False,
        "created": created,
        "default_price": None,
        "description": description,
        # ``features`` (API 2023, required by the schemas the tests validate against) was
        # renamed ``marketing_features``; both are sent, empty.
        "features": [],
        "images": images,
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata,
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": created,
        "url": None,
    }


def shipping_rate(
    *,
    created: int,
    display_name: str,
    amount: int,
    currency: str,
    delivery_estimate: Obj | None,
    tax_behavior: str,
    tax_code: str | None,
    metadata: dict[str, str],
) -> Obj:
    return {
        "id": new_id("shr_"),
        "object": "shipping_rate",
        "active": True,
        "created": created,
        "delivery_estimate": delivery_estimate,
        "display_name": display_name,
        "fixed_amount": {"amount": amount, "currency": currency},
        "livemode": False,
        "metadata": metadata,
        "tax_behavior": tax_behavior,
        "tax_code": tax_code,
        "type": "fixed_amount",
    }


def line_item(
    *,
    description: str,
    currency: str,
    price_obj: Obj,
    quantity: int,
    amount_subtotal: int,
    amount_discount: int,
    amount_tax: int,
    amount_total: int,
    taxes: list[Obj],
    discounts: list[Obj],
) -> Obj:
    # ``taxes`` and ``discounts`` are kept privately and shown only when expanded.
    return {
        "id": new_id("li_"),
        "object": "item",
        "amount_discount": amount_discount,
        "amount_subtotal": amount_subtotal,
        "amount_tax": amount_tax,
        "amount_total": amount_total,
        "currency": currency,
        "description": description,
        "metadata": {},
        "price": price_obj,
        "quantity": quantity,
        "_taxes": taxes,
        "_discounts": discounts,
    }


def checkout_session(
    *,
    cs_id: str,
    created: int,
    expires_at: int,
    url: str,
    currency: str,
    mode: str,
    success_url: str | None,
    cancel_url: str | None,
    customer_email: str | None,
    client_reference_id: str | None,
    metadata: dict[str, str],
    payment_method_types: list[str],
    amount_subtotal: int,
    amount_total: int,
    amount_discount: int,
    amount_shipping: int,
    amount_tax: int,
    discounts: list[Obj],
    shipping_cost: Obj | None,
    shipping_options: list[Obj],
    locale: str | None,
    submit_type: str | None,
) -> Obj:
    return {
        "id": cs_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": amount_subtotal,
        "amount_total": amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": created,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": customer_email,
        "discounts": discounts,
        "expires_at": expires_at,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": locale,
        "metadata": metadata,
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": payment_method_types,
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": shipping_cost,
        "shipping_details": None,
        "shipping_options": shipping_options,
        "status": "open",
        "submit_type": submit_type,
        "subscription": None,
        "success_url": success_url,
        "total_details": {
            "amount_discount": amount_discount,
            "amount_shipping": amount_shipping,
            "amount_tax": amount_tax,
        },
        "ui_mode": "hosted_page",
        "url": url,
        "wallet_options": None,
    }


def payment_intent(
    *,
    created: int,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    payment_method_types: list[str],
    receipt_email: str | None,
    description: str | None,
) -> Obj:
    pi_id = new_id("pi_")
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{pi_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": payment_method_types,
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def billing_details(
    *, email: str | None, name: str | None, country: str | None, postal_code: str | None
) -> Obj:
    return {
        "address": _address(country, postal_code),
        "email": email,
        "name": name,
        "phone": None,
        "tax_id": None,
    }


def card_details(*, brand: str, last4: str, exp_month: int, exp_year: int, funding: str) -> Obj:
    return {
        "amount_authorized": None,
        "authorization_code": None,
        "brand": brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": "pass",
            "cvc_check": "pass",
        },
        "country": "US",
        "exp_month": exp_month,
        "exp_year": exp_year,
        "extended_authorization": {"status": "disabled"},
        "fingerprint": new_id("", 16),
        "funding": funding,
        "incremental_authorization": {"status": "unavailable"},
        "installments": None,
        "last4": last4,
        "mandate": None,
        "multicapture": {"status": "unavailable"},
        "network": brand,
        "network_token": {"used": False},
        "network_transaction_id": None,
        "overcapture": {"maximum_amount_capturable": 0, "status": "unavailable"},
        "regulated_status": "unregulated",
        "three_d_secure": None,
        "wallet": None,
    }


def charge(
    *,
    created: int,
    amount: int,
    currency: str,
    payment_intent_id: str,
    payment_method_id: str,
    billing: Obj,
    method_details: Obj,
    status: str,
    outcome: Obj,
    failure_code: str | None,
    failure_message: str | None,
    receipt_email: str | None,
    metadata: dict[str, str],
) -> Obj:
    paid = status == "succeeded"
    ch_id = new_id("ch_")
    return {
        "id": ch_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if paid else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": new_id("txn_") if paid else None,
        "billing_details": billing,
        "calculated_statement_descriptor": "SANDBOX SHOP",
        "captured": paid,
        "created": created,
        "currency": currency,
        "customer": None,
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": failure_code,
        "failure_message": failure_message,
        "fraud_details": {},
        "livemode": False,
        "metadata": metadata,
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": paid,
        "payment_intent": payment_intent_id,
        "payment_method": payment_method_id,
        "payment_method_details": method_details,
        "radar_options": {},
        "receipt_email": receipt_email,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def outcome(*, paid: bool, reason: str | None = None) -> Obj:
    if paid:
        return {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "advice_code": "try_again_later" if reason == "insufficient_funds" else "do_not_try_again",
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": reason,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def refund(
    *,
    created: int,
    amount: int,
    currency: str,
    charge_id: str,
    payment_intent_id: str,
    reason: str | None,
    metadata: dict[str, str],
    payment_method_id: str | None,
    card: bool,
) -> Obj:
    return {
        "id": new_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn_"),
        "charge": charge_id,
        "created": created,
        "currency": currency,
        "customer": None,
        "customer_account": None,
        "destination_details": (
            {
                "card": {
                    "reference": None,
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            }
            if card
            else None
        ),
        "metadata": metadata,
        "payment_intent": payment_intent_id,
        "payment_method": payment_method_id,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def event(
    *,
    event_type: str,
    created: int,
    data_object: Obj,
    previous_attributes: Obj | None,
    request_id: str | None,
    idempotency_key: str | None,
    pending_webhooks: int,
) -> Obj:
    data: Obj = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }
