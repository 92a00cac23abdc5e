"""The checkout REST API (spec 000: Checkout Process, Address and Shipping/Tax endpoints),
in the ApiResponse envelope.

Thin: parse with a serializer, call the same services as the step pages
(checkout.services; the machine decides every move), answer with the session. A checkout
session that is not yours (not the one your Django session holds, on your active cart) is
404, like one that does not exist; an expired one is 410 and closed; a step the machine
refuses is 409 naming the guard, with the session in `data`. Every call counts against
CHECKOUT_RATE per client (429 with Retry-After). Session auth with CSRF, as the cart API.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cart.models import Cart
from apps.cart.selectors import active_cart
from apps.checkout import services
from apps.checkout.addresses import AddressCheck, AddressData, check_address, keep_own
from apps.checkout.forms import GuestInfoForm
from apps.checkout.machine import Event, Refusal, State
from apps.checkout.models import CheckoutSession
from apps.checkout.serializers import (
    GUEST_NAMES,
    AddressRefusedOut,
    AddressValidationOut,
    BillingAddressIn,
    BillingAddressOut,
    CheckoutSessionOut,
    GuestInfoIn,
    PaymentMethodIn,
    ShippingAddressIn,
    ShippingAddressOut,
    ShippingCalculateIn,
    ShippingCalculationOut,
    ShippingMethodChosenOut,
    ShippingMethodIn,
    StartCheckoutIn,
    TaxCalculateIn,
    TaxCalculationOut,
    ValidateAddressIn,
    address_from,
    problems,
    quote_out,
    session_out,
    shipping_calculation_out,
    tax_out,
    validation_out,
)
from apps.core.api import (
    CSRF_FAILED,
    ERROR_ENVELOPE,
    UNSUPPORTED_MEDIA_TYPE,
    ApiError,
    BoundedJSONParser,
    CsrfSessionAuthentication,
    envelope,
    success,
)

User = AbstractBaseUser | AnonymousUser

SESSION_ENVELOPE = envelope("CheckoutSessionEnvelope", CheckoutSessionOut())
BAD_REQUEST = OpenApiResponse(
    ERROR_ENVELOPE, description="VALIDATION_ERROR (details per field) or PARSE_ERROR"
)
NOT_FOUND = OpenApiResponse(
    ERROR_ENVELOPE,
    description="NOT_FOUND: no open checkout session with this id is yours (or you have no cart)",
)
REFUSED = OpenApiResponse(
    envelope("CheckoutRefusedEnvelope", CheckoutSessionOut(), error=True),
    description="CHECKOUT_STEP_REFUSED: the machine refused the step (error.details names "
    "the guard; none when the step is not reachable yet); `data` holds the session",
)
EXPIRED = OpenApiResponse(
    ERROR_ENVELOPE,
    description="CHECKOUT_EXPIRED: idle too long; it is closed, start again from the cart",
)
LIMITED = OpenApiResponse(
    ERROR_ENVELOPE, description="RATE_LIMITED: too many checkout calls (Retry-After)"
)
ADDRESS_REFUSED = OpenApiResponse(
    envelope("AddressRefusedEnvelope", AddressRefusedOut(required=False), error=True),
    description="VALIDATION_ERROR (the body), ADDRESS_INVALID (details per address field; "
    "`data.validation`), ADDRESS_NOT_KEEPABLE or SHIPPING_UNAVAILABLE (no zone ships there)",
)
COMMON = {403: CSRF_FAILED, 415: UNSUPPORTED_MEDIA_TYPE, 429: LIMITED}
SESSION_ERRORS = {400: BAD_REQUEST, 404: NOT_FOUND, 409: REFUSED, 410: EXPIRED, **COMMON}
SESSION_ID = OpenApiParameter(
    "session_id",
    str,
    OpenApiParameter.PATH,
    description="The checkout session's public id",
    pattern=r"^[A-Za-z0-9_-]{1,40}$",
)
STEP_REFUSED_MESSAGE = "That step is not available right now."


def _django_session(request: Request) -> SessionBase:
    return request._request.session


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, AbstractBaseUser | AnonymousUser)
    return user


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _cart(request: Request) -> Cart:
    cart = active_cart(user=_user(request), session=_django_session(request))
    if cart is None:
        raise ApiError("NOT_FOUND", "You have no cart.", status_code=status.HTTP_404_NOT_FOUND)
    return cart


def _owned(request: Request, session_id: str) -> CheckoutSession:
    """The shopper's open checkout session `session_id`, on the current cart version."""
    cart = active_cart(user=_user(request), session=_django_session(request))
    try:
        session = services.load_public(
            session_id, cart, user=_user(request), django_session=_django_session(request)
        )
    except CheckoutSession.DoesNotExist as exc:
        raise ApiError(
            "NOT_FOUND", "Checkout session not found.", status_code=status.HTTP_404_NOT_FOUND
        ) from exc
    except services.CheckoutExpired as exc:
        raise ApiError(
            "CHECKOUT_EXPIRED", services.EXPIRED_MESSAGE, status_code=status.HTTP_410_GONE
        ) from exc
    session.cart = cart
    services.sync_cart(session, services.pricing_for(session).priced)
    services.touch(session)
    return session


def _session_data(
    session: CheckoutSession, pricing: services.Pricing | None = None
) -> dict[str, object]:
    session.refresh_from_db()
    pricing = pricing or services.pricing_for(session)
    return session_out(
        session,
        shipping=services.shipping_address_of(session),
        billing=None if session.billing_same_as_shipping else services.billing_address_of(session),
        quote=pricing.quote,
        totals=pricing.totals,
    )


def _outcome(session: CheckoutSession, outcome: State | Refusal) -> None:
    """A refusal is 409 with the guard and the session as it is."""
    if isinstance(outcome, Refusal):
        guard = outcome.guard.value if outcome.guard else ""
        details = [{"field": guard, "code": guard or "not_allowed", "message": outcome.message}]
        raise ApiError(
            "CHECKOUT_STEP_REFUSED",
            outcome.message,
            status_code=status.HTTP_409_CONFLICT,
            details=details,
            data=_session_data(session),
        )


def _checked(address: AddressData, *, keep: bool, field: str) -> tuple[AddressData, AddressCheck]:
    """The address to store: the standardized one, or as typed when asked and allowed.
    An invalid address is 400 ADDRESS_INVALID with the validation."""
    check = check_address(address)
    if not check.valid or check.normalized is None:
        raise ApiError(
            "ADDRESS_INVALID",
            "Check the address.",
            details=problems(check.errors, f"{field}."),
            data={"validation": validation_out(check)},
        )
    if not keep:
        return check.normalized, check
    if not check.keepable:
        raise ApiError(
            "ADDRESS_NOT_KEEPABLE",
            "Use the standardized address: the one entered cannot be delivered as typed.",
            details=[{"field": "keepAsEntered", "code": "not_keepable", "message": "Not allowed."}],
            data={"validation": validation_out(check)},
        )
    return keep_own(address, check), check


class CheckoutApiView(APIView):
    """JSON bodies only, session auth with CSRF; every call is rate limited per client."""

    authentication_classes = [CsrfSessionAuthentication]
    parser_classes = [BoundedJSONParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        decision = services.checkout_attempt(request._request)
        if not decision.allowed:
            raise ApiError(
                "RATE_LIMITED",
                "Too many checkout requests. Please wait a moment and try again.",
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(decision.retry_after)},
            )


class CheckoutSessionsApi(CheckoutApiView):
    @extend_schema(
        request=StartCheckoutIn,
        responses={
            200: OpenApiResponse(
                SESSION_ENVELOPE,
                description="Your checkout session on your active cart, past the cart review "
                "(a signed-in shopper also past identification); an open one is resumed",
            ),
            400: BAD_REQUEST,
            404: OpenApiResponse(ERROR_ENVELOPE, description="NOT_FOUND: no cart, or not yours"),
            409: REFUSED,
            **COMMON,
        },
        summary="Start checkout for your cart",
    )
    def post(self, request: Request) -> Response:
        sent = not (isinstance(request.data, Mapping) and not request.data)
        data = _valid(StartCheckoutIn, request) if sent else {}
        cart = _cart(request)
        if data.get("cartId") not in (None, cart.pk):
            raise ApiError("NOT_FOUND", "Cart not found.", status_code=status.HTTP_404_NOT_FOUND)
        session, outcome = services.begin(
            cart, user=_user(request), django_session=_django_session(request)
        )
        _outcome(session, outcome)
        return success(request, _session_data(session))


class CheckoutSessionApi(CheckoutApiView):
    @extend_schema(
        parameters=[SESSION_ID],
        responses={200: SESSION_ENVELOPE, 404: NOT_FOUND, 410: EXPIRED, 429: LIMITED},
        summary="Get your checkout session with its totals",
    )
    def get(self, request: Request, session_id: str) -> Response:
        session = _owned(request, session_id)
        return success(request, _session_data(session))


class GuestInfoApi(CheckoutApiView):
    @extend_schema(
        parameters=[SESSION_ID],
        request=GuestInfoIn,
        responses={200: SESSION_ENVELOPE, **SESSION_ERRORS},
        summary="Set a guest's contact (email, name, optional phone, marketing consent)",
    )
    def put(self, request: Request, session_id: str) -> Response:
        info = _valid(GuestInfoIn, request)["guestInfo"]
        session = _owned(request, session_id)
        form = GuestInfoForm({field: info[api] for field, api in GUEST_NAMES.items()})
        if not form.is_valid():
            raise ApiError(
                "VALIDATION_ERROR",
                "The request contains invalid data.",
                details=[
                    {
                        "field": f"guestInfo.{GUEST_NAMES.get(name, name)}",
                        "code": "invalid",
                        "message": str(message),
                    }
                    for name, messages in form.errors.items()
                    for message in messages
                ],
            )
        outcome = services.submit(
            session, State.GUEST_INFO, Event.SUBMIT_GUEST_INFO, form.cleaned_data
        )
        _outcome(session, outcome)
        return success(request, _session_data(session))


class ShippingAddressApi(CheckoutApiView):
    @extend_schema(
        parameters=[SESSION_ID],
        request=ShippingAddressIn,
        responses={
            200: envelope("ShippingAddressEnvelope", ShippingAddressOut()),
            **SESSION_ERRORS,
            400: ADDRESS_REFUSED,
        },
        summary="Set the shipping address: answers its validation and the shipping methods",
    )
    def put(self, request: Request, session_id: str) -> Response:
        data = _valid(ShippingAddressIn, request)
        session = _owned(request, session_id)
        address, check = _checked(
            address_from(data["address"]), keep=data["keepAsEntered"], field="address"
        )
        if services.zone_for_address(address) is None:
            raise ApiError(
                "SHIPPING_UNAVAILABLE",
                "We do not ship to that address yet. Choose another address.",
                details=[{"field": "address.country", "code": "no_zone", "message": "No zone."}],
                data={"validation": validation_out(check)},
            )
        same = data.get("billingSameAsShipping", session.billing_same_as_shipping)
        event = Event.USE_SHIPPING_ADDRESS if same else Event.SUBMIT_SHIPPING
        outcome = services.submit(
            session,
            State.SHIPPING_ADDRESS,
            event,
            {"shipping_address": address, "billing_same_as_shipping": same},
        )
        _outcome(session, outcome)
        pricing = services.pricing_for(session)
        return success(
            request,
            {
                "checkoutSession": _session_data(session, pricing),
                "validation": validation_out(check),
                "shippingMethods": [quote_out(q) for q in pricing.quotes],
            },
        )


class BillingAddressApi(CheckoutApiView):
    @extend_schema(
        parameters=[SESSION_ID],
        request=BillingAddressIn,
        responses={
            200: envelope("BillingAddressEnvelope", BillingAddressOut()),
            **SESSION_ERRORS,
            400: ADDRESS_REFUSED,
        },
        summary="Set the billing address, or bill to the shipping address",
    )
    def put(self, request: Request, session_id: str) -> Response:
        data = _valid(BillingAddressIn, request)
        session = _owned(request, session_id)
        if data["sameAsShipping"]:
            outcome = services.submit(
                session,
                State.BILLING_ADDRESS,
                Event.USE_SHIPPING_ADDRESS,
                {"billing_same_as_shipping": True},
            )
            _outcome(session, outcome)
            return success(request, {"checkoutSession": _session_data(session), "validation": None})
        address, check = _checked(
            address_from(data["address"]), keep=data["keepAsEntered"], field="address"
        )
        outcome = services.submit(
            session,
            State.BILLING_ADDRESS,
            Event.SUBMIT_BILLING,
            {"billing_address": address, "billing_same_as_shipping": False},
        )
        _outcome(session, outcome)
        return success(
            request,
            {"checkoutSession": _session_data(session), "validation": validation_out(check)},
        )


class ShippingMethodApi(CheckoutApiView):
    @extend_schema(
        parameters=[SESSION_ID],
        request=ShippingMethodIn,
        responses={
            200: envelope("ShippingMethodEnvelope", ShippingMethodChosenOut()),
            **SESSION_ERRORS,
        },
        summary="Choose a shipping method offered for the address: answers tax and total",
    )
    def put(self, request: Request, session_id: str) -> Response:
        data = _valid(ShippingMethodIn, request)
        session = _owned(request, session_id)
        outcome = services.submit(
            session,
            State.SHIPPING_METHOD,
            Event.SELECT_SHIPPING,
            {"shipping_method_id": data["shippingMethodId"]},
        )
        _outcome(session, outcome)
        pricing = services.pricing_for(session)
        totals = pricing.totals
        goods = totals.subtotal - totals.discount_total
        return success(
            request,
            {
                "checkoutSession": _session_data(session, pricing),
                "taxCalculation": tax_out(
                    totals.tax,
                    currency=totals.currency,
                    goods=goods,
                    address=services.shipping_address_of(session),
                ),
                "orderTotal": f"{totals.total:.2f}",
            },
        )


class PaymentMethodApi(CheckoutApiView):
    @extend_schema(
        parameters=[SESSION_ID],
        request=PaymentMethodIn,
        responses={200: SESSION_ENVELOPE, **SESSION_ERRORS},
        summary="Choose how to pay (card: Stripe Checkout); the session moves to review",
    )
    def put(self, request: Request, session_id: str) -> Response:
        data = _valid(PaymentMethodIn, request)
        session = _owned(request, session_id)
        outcome = services.submit(
            session,
            State.PAYMENT_METHOD,
            Event.SELECT_PAYMENT,
            {"payment_method": data["paymentMethod"]},
        )
        _outcome(session, outcome)
        return success(request, _session_data(session))


class ValidateAddressApi(CheckoutApiView):
    @extend_schema(
        request=ValidateAddressIn,
        responses={
            200: OpenApiResponse(
                envelope("AddressValidationEnvelope", AddressValidationOut()),
                description="The verdict, valid or not (isValid, errors per field, a "
                "standardized suggestion)",
            ),
            400: BAD_REQUEST,
            **COMMON,
        },
        summary="Validate an address for its country",
        # Needs no session (nothing of the shopper's is read), only the CSRF token.
        auth=[{"csrfToken": []}],  # type: ignore[list-item]  # security requirements, not names
    )
    def post(self, request: Request) -> Response:
        data = _valid(ValidateAddressIn, request)
        return success(request, validation_out(check_address(address_from(data["address"]))))


class ShippingCalculateApi(CheckoutApiView):
    @extend_schema(
        request=ShippingCalculateIn,
        responses={
            200: OpenApiResponse(
                envelope("ShippingCalculationEnvelope", ShippingCalculationOut()),
                description="The methods for the address, priced for your cart (none, with an "
                "error, where no zone ships)",
            ),
            400: ADDRESS_REFUSED,
            404: OpenApiResponse(ERROR_ENVELOPE, description="NOT_FOUND: you have no cart"),
            **COMMON,
        },
        summary="Shipping methods and delivery estimates for an address and your cart",
    )
    def post(self, request: Request) -> Response:
        data = _valid(ShippingCalculateIn, request)
        cart = _cart(request)
        address, _ = _checked(
            address_from(data["shippingAddress"]), keep=False, field="shippingAddress"
        )
        zone, quotes = services.quotes_for_address(cart, address)
        problem: Mapping[str, str] | None = None
        if zone is None:
            problem = {
                "field": "shippingAddress.country",
                "code": "no_zone",
                "message": "We do not ship to that address yet.",
            }
        return success(request, shipping_calculation_out(quotes, problem=problem))


class TaxCalculateApi(CheckoutApiView):
    @extend_schema(
        request=TaxCalculateIn,
        responses={
            200: envelope("TaxCalculationEnvelope", TaxCalculationOut()),
            400: ADDRESS_REFUSED,
            404: OpenApiResponse(ERROR_ENVELOPE, description="NOT_FOUND: you have no cart"),
            **COMMON,
        },
        summary="The tax on your cart shipped to an address",
    )
    def post(self, request: Request) -> Response:
        data = _valid(TaxCalculateIn, request)
        cart = _cart(request)
        address, _ = _checked(
            address_from(data["shippingAddress"]), keep=False, field="shippingAddress"
        )
        shipping_cost: Decimal = data["shippingCost"]
        priced, result = services.tax_for_address(cart, address, shipping_cost)
        return success(
            request,
            tax_out(
                result,
                currency=priced.currency,
                goods=priced.subtotal - priced.discount_total,
                address=address,
            ),
        )
