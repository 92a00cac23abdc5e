"""The cart REST API (spec: Cart Management Endpoints), in the ApiResponse envelope.

Thin: parse with a serializer, call the same services as the HTML views, answer with the
cart. A cart that is not yours is 404. A write based on a stale `version` is 409 with
the current cart in `data`. Session auth with CSRF, as the pages; POST /api/cart and
GET /api/cart/{id} set the csrftoken cookie so a browser client can send X-CSRFToken.
"""

from collections.abc import Callable, Mapping
from typing import TypeVar

from django.contrib.sessions.backends.base import SessionBase
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.cart import selectors, services
from apps.cart.calculations import PricedCart
from apps.cart.errors import STALE_MESSAGE, CartError, CartGone, CartNotActive, StaleCart
from apps.cart.models import Cart
from apps.cart.serializers import (
    AddItemIn,
    AddItemOut,
    ApplyCouponIn,
    ApplyCouponOut,
    CartOut,
    CouponRejectedOut,
    RemoveCouponOut,
    RemoveItemOut,
    UpdateItemIn,
    UpdateItemOut,
    VersionIn,
    applied_coupon_out,
    cart_data,
    invalid_coupon_validation,
    valid_coupon_validation,
)
from apps.core import ratelimit
from apps.core.api import (
    CSRF_FAILED,
    ERROR_ENVELOPE,
    UNSUPPORTED_MEDIA_TYPE,
    ApiError,
    BoundedJSONParser,
    CsrfSessionAuthentication,
    SessionAuthenticationWithoutCsrf,
    envelope,
    success,
)

T = TypeVar("T")

CART_ENVELOPE = envelope("CartEnvelope", CartOut())
CONFLICT = OpenApiResponse(
    envelope("CartConflictEnvelope", CartOut(), error=True),
    description="CART_VERSION_CONFLICT or CART_NOT_ACTIVE; `data` holds the current cart.",
)
BAD_REQUEST = OpenApiResponse(
    ERROR_ENVELOPE, description="VALIDATION_ERROR (details per field), PARSE_ERROR, or a cart rule"
)
NOT_FOUND = OpenApiResponse(
    ERROR_ENVELOPE,
    description="NOT_FOUND: not your cart (or no longer there: merged at sign-in), or no such row",
)
WRITE_ERRORS = {
    400: BAD_REQUEST,
    403: CSRF_FAILED,
    404: NOT_FOUND,
    409: CONFLICT,
    415: UNSUPPORTED_MEDIA_TYPE,
}


def _session(request: Request) -> SessionBase:
    return request._request.session


def _owned(request: Request, cart_id: int) -> Cart:
    cart = selectors.owned_cart(cart_id, user=request.user, session=_session(request))
    if cart is None:
        raise ApiError("NOT_FOUND", "Cart not found.", status_code=status.HTTP_404_NOT_FOUND)
    return cart


def _view(cart: Cart) -> tuple[Cart, PricedCart]:
    """The cart as it is now. A sign-in merge may have deleted it since the request found
    it (its lines moved into the customer's cart): then it is 404, as a cart not yours."""
    current = Cart.objects.filter(pk=cart.pk).first()
    if current is None:
        raise ApiError("NOT_FOUND", "Cart not found.", status_code=status.HTTP_404_NOT_FOUND)
    return current, selectors.priced_cart(current)


def _write(cart: Cart, write: Callable[[], T]) -> tuple[T, tuple[Cart, PricedCart]]:
    """Run a service call; cart errors become envelopes (both 409s carry the current cart;
    a cart deleted meanwhile is 404)."""
    try:
        result = write()
    except CartGone as exc:
        raise ApiError(exc.code, exc.message, status_code=exc.status) from exc
    except (StaleCart, CartNotActive) as exc:
        raise ApiError(
            exc.code, exc.message, status_code=exc.status, data=cart_data(*_view(cart))
        ) from exc
    except CartError as exc:
        details = [{"field": d.field, "code": d.code, "message": d.message} for d in exc.details]
        raise ApiError(exc.code, exc.message, status_code=exc.status, details=details) from exc
    return result, _view(cart)


def _valid(serializer_class: type[VersionIn], request: Request) -> dict[str, object]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _item(cart: dict[str, object], item_id: int | None) -> object:
    """The item with this id in serialized cart data, or None (e.g. removed meanwhile)."""
    items = cart.get("items")
    if item_id is None or not isinstance(items, list):
        return None
    return next((i for i in items if isinstance(i, dict) and i.get("id") == item_id), None)


class CartApiView(APIView):
    """JSON bodies only: a form body cannot carry nested fields such as `customizations`,
    which would be silently dropped; anything but JSON is 415 in the envelope."""

    authentication_classes = [CsrfSessionAuthentication]
    parser_classes = [BoundedJSONParser]


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CartCreateApi(CartApiView):
    authentication_classes = [SessionAuthenticationWithoutCsrf]

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(CART_ENVELOPE, description="Your existing active cart"),
            201: OpenApiResponse(CART_ENVELOPE, description="A new cart"),
            409: OpenApiResponse(
                ERROR_ENVELOPE,
                description="CART_NOT_ACTIVE: the session's cart changed while it was being "
                "created (rare); try again",
            ),
        },
        summary="Get or create your cart (sets the csrftoken cookie)",
    )
    def post(self, request: Request) -> Response:
        existing = selectors.active_cart(user=request.user, session=_session(request))
        try:
            cart = existing or services.get_or_create_cart(
                user=request.user, session=_session(request)
            )
        except CartError as exc:
            raise ApiError(exc.code, exc.message, status_code=exc.status) from exc
        return success(
            request,
            cart_data(cart, selectors.priced_cart(cart)),
            status_code=status.HTTP_200_OK if existing else status.HTTP_201_CREATED,
        )


@method_decorator(ensure_csrf_cookie, name="dispatch")
class CartDetailApi(CartApiView):
    @extend_schema(
        responses={200: CART_ENVELOPE, 404: NOT_FOUND},
        summary="Get a cart (sets the csrftoken cookie)",
    )
    def get(self, request: Request, cart_id: int) -> Response:
        cart = _owned(request, cart_id)
        return success(request, cart_data(cart, selectors.priced_cart(cart)))


class CartItemsApi(CartApiView):
    @extend_schema(
        request=AddItemIn,
        responses={201: envelope("AddItemEnvelope", AddItemOut()), **WRITE_ERRORS},
        summary="Add an item",
    )
    def post(self, request: Request, cart_id: int) -> Response:
        cart = _owned(request, cart_id)
        data = _valid(AddItemIn, request)
        line, view = _write(
            cart,
            lambda: services.add_line(
                cart,
                selectors.resolve_variant_id(
                    variant_id=data.get("variantId"),  # type: ignore[arg-type]
                    product_id=data.get("productId"),  # type: ignore[arg-type]
                ),
                data["quantity"],
                customizations=data.get("customizations") or [],  # type: ignore[arg-type]
                expected_version=data.get("version"),  # type: ignore[arg-type]
            ),
        )
        body = cart_data(*view)
        return success(
            request,
            {"cart": body, "addedItem": _item(body, line.pk)},
            status_code=status.HTTP_201_CREATED,
        )


class CartItemApi(CartApiView):
    @extend_schema(
        request=UpdateItemIn,
        responses={200: envelope("UpdateItemEnvelope", UpdateItemOut()), **WRITE_ERRORS},
        summary="Set an item's quantity (0 removes); customizations are refused",
    )
    def put(self, request: Request, cart_id: int, item_id: int) -> Response:
        cart = _owned(request, cart_id)
        data = _valid(UpdateItemIn, request)
        line, view = _write(
            cart,
            lambda: services.set_quantity(
                cart,
                item_id,
                data["quantity"],
                expected_version=data.get("version"),  # type: ignore[arg-type]
            ),
        )
        body = cart_data(*view)
        return success(
            request,
            {
                "cart": body,
                "updatedItem": _item(body, line.pk if line else None),
                "removedItemId": None if line else item_id,
            },
        )

    @extend_schema(
        parameters=[VersionIn],
        responses={200: envelope("RemoveItemEnvelope", RemoveItemOut()), **WRITE_ERRORS},
        summary="Remove an item",
    )
    def delete(self, request: Request, cart_id: int, item_id: int) -> Response:
        cart = _owned(request, cart_id)
        version = _version_param(request)
        _, view = _write(
            cart, lambda: services.remove_line(cart, item_id, expected_version=version)
        )
        return success(request, {"cart": cart_data(*view), "removedItemId": item_id})


class CartCouponsApi(CartApiView):
    @extend_schema(
        request=ApplyCouponIn,
        responses={
            201: envelope("ApplyCouponEnvelope", ApplyCouponOut()),
            **WRITE_ERRORS,
            422: OpenApiResponse(
                envelope("CouponRejectedEnvelope", CouponRejectedOut(), error=True),
                description="COUPON_INVALID: every reason in error.details and validation",
            ),
            429: OpenApiResponse(
                ERROR_ENVELOPE, description="RATE_LIMITED: too many code attempts (Retry-After)"
            ),
        },
        summary="Apply a coupon code",
    )
    def post(self, request: Request, cart_id: int) -> Response:
        cart = _owned(request, cart_id)
        decision = ratelimit.coupon_attempt(request._request, cart.pk)
        if not decision.allowed:
            raise ApiError(
                "RATE_LIMITED",
                "Too many code attempts. Please wait a minute and try again.",
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(decision.retry_after)},
            )
        data = _valid(ApplyCouponIn, request)
        user = request.user
        email = str(getattr(user, "email", "") or "") if user.is_authenticated else ""
        try:
            row, view = _write(
                cart,
                lambda: services.apply_coupon(
                    cart,
                    data["code"],
                    user=user,
                    email=email,
                    expected_version=data.get("version"),  # type: ignore[arg-type]
                ),
            )
        except ApiError as exc:
            if exc.code == "COUPON_INVALID":
                exc.data = {"validation": invalid_coupon_validation(exc.details)}
            raise
        _, priced = view
        applied = priced.coupon(row.coupon_id)
        if applied is None:  # removed by a concurrent request before we read the cart
            raise ApiError(
                "CART_VERSION_CONFLICT",
                STALE_MESSAGE,
                status_code=status.HTTP_409_CONFLICT,
                data=cart_data(*view),
            )
        return success(
            request,
            {
                "cart": cart_data(*view),
                "appliedCoupon": applied_coupon_out(applied),
                "validation": valid_coupon_validation(row.coupon, applied.amount),
            },
            status_code=status.HTTP_201_CREATED,
        )


class CartCouponApi(CartApiView):
    @extend_schema(
        parameters=[VersionIn],
        responses={200: envelope("RemoveCouponEnvelope", RemoveCouponOut()), **WRITE_ERRORS},
        summary="Remove a coupon",
    )
    def delete(self, request: Request, cart_id: int, coupon_id: int) -> Response:
        cart = _owned(request, cart_id)
        version = _version_param(request)
        _, view = _write(
            cart, lambda: services.remove_coupon(cart, coupon_id, expected_version=version)
        )
        return success(request, {"cart": cart_data(*view), "removedCouponId": coupon_id})


def _version_param(request: Request) -> int | None:
    """DELETE carries the version as ?version=N or in a JSON body. A body is validated
    like any other (strict VersionIn): {"versoin": 1} is a 400 naming the field, never a
    delete without the version check."""
    body: dict[str, object] = {}
    if not (isinstance(request.data, Mapping) and not request.data):  # a body was sent
        body = _valid(VersionIn, request)
    query: dict[str, object] = {}
    if "version" in request.query_params:
        serializer = VersionIn(data={"version": request.query_params.get("version")})
        serializer.is_valid(raise_exception=True)
        query = dict(serializer.validated_data)
    values = {v for v in (body.get("version"), query.get("version")) if v is not None}
    if len(values) > 1:
        raise ValidationError(
            {"version": [ErrorDetail("Give the version once (query or body).", code="conflict")]}
        )
    value = next(iter(values), None)
    return int(value) if isinstance(value, int) else None
