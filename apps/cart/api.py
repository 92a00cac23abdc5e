"""The cart REST API (spec: Cart Management Endpoints), in the ApiResponse envelope.

Thin: parse with a serializer, call the same services as the HTML views, answer with the
cart. A cart that is not yours is 404. A write based on a stale `version` is 409 with
the current cart in `data`. Session auth with CSRF, as the pages.
"""

from collections.abc import Callable

from django.contrib.sessions.backends.base import SessionBase
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.cart import selectors, services
from apps.cart.errors import CartError, StaleCart
from apps.cart.models import Cart
from apps.cart.serializers import (
    AddItemIn,
    ApplyCouponIn,
    CartOut,
    UpdateItemIn,
    VersionIn,
    cart_data,
)
from apps.core.api import ApiError, CsrfSessionAuthentication, failure, success

ENVELOPE = OpenApiResponse(description="ApiResponse envelope: {success, data, error, metadata}")
ERRORS = {
    400: ENVELOPE,
    404: OpenApiResponse(description="Not your cart, or no such item (NOT_FOUND)"),
    409: OpenApiResponse(description="CART_VERSION_CONFLICT; data holds the current cart"),
    422: OpenApiResponse(description="COUPON_INVALID with every reason in details"),
}


def _session(request: Request) -> SessionBase:
    return request._request.session


def _owned(request: Request, cart_id: int) -> Cart:
    cart = selectors.owned_cart(cart_id, user=request.user, session=_session(request))
    if cart is None:
        raise ApiError("NOT_FOUND", "Cart not found.", status_code=status.HTTP_404_NOT_FOUND)
    return cart


def _current(cart: Cart) -> dict[str, object]:
    cart.refresh_from_db()
    return cart_data(selectors.cart_view(cart))


def _run(request: Request, cart: Cart, write: Callable[[], dict[str, object]]) -> Response:
    """Run a service call, mapping cart errors onto the envelope."""
    try:
        extra = write()
    except StaleCart as exc:
        return failure(request, exc.code, exc.message, status_code=exc.status, data=_current(cart))
    except CartError as exc:
        details = [{"field": d.field, "code": d.code, "message": d.message} for d in exc.details]
        return failure(request, exc.code, exc.message, status_code=exc.status, details=details)
    return success(request, {"cart": _current(cart), **extra})


def _valid(serializer_class: type[VersionIn], request: Request) -> dict[str, object]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CartApiView(APIView):
    authentication_classes = [CsrfSessionAuthentication]


class CartCreateApi(CartApiView):
    @extend_schema(
        request=None, responses={200: CartOut, 201: CartOut}, summary="Get or create your cart"
    )
    def post(self, request: Request) -> Response:
        existing = selectors.active_cart(user=request.user, session=_session(request))
        cart = existing or services.get_or_create_cart(user=request.user, session=_session(request))
        return success(
            request,
            cart_data(selectors.cart_view(cart)),
            status_code=status.HTTP_200_OK if existing else status.HTTP_201_CREATED,
        )


class CartDetailApi(CartApiView):
    @extend_schema(responses={200: CartOut, **ERRORS}, summary="Get a cart")
    def get(self, request: Request, cart_id: int) -> Response:
        return success(request, cart_data(selectors.cart_view(_owned(request, cart_id))))


class CartItemsApi(CartApiView):
    @extend_schema(request=AddItemIn, responses={201: ENVELOPE, **ERRORS}, summary="Add an item")
    def post(self, request: Request, cart_id: int) -> Response:
        cart = _owned(request, cart_id)
        data = _valid(AddItemIn, request)

        def write() -> dict[str, object]:
            variant_id = services.resolve_variant_id(
                variant_id=data.get("variantId"),  # type: ignore[arg-type]
                product_id=data.get("productId"),  # type: ignore[arg-type]
            )
            line = services.add_line(
                cart,
                variant_id,
                data["quantity"],
                customizations=data.get("customizations") or [],  # type: ignore[arg-type]
                expected_version=data.get("version"),  # type: ignore[arg-type]
            )
            return {"addedItemId": line.pk}

        response = _run(request, cart, write)
        if response.status_code == 200:
            body = response.data["data"]
            item = next(i for i in body["cart"]["items"] if i["id"] == body.pop("addedItemId"))
            body["addedItem"] = item
            response.status_code = status.HTTP_201_CREATED
        return response


class CartItemApi(CartApiView):
    @extend_schema(
        request=UpdateItemIn,
        responses={200: ENVELOPE, **ERRORS},
        summary="Set an item's quantity (0 removes)",
    )
    def put(self, request: Request, cart_id: int, item_id: int) -> Response:
        cart = _owned(request, cart_id)
        data = _valid(UpdateItemIn, request)

        def write() -> dict[str, object]:
            line = services.set_quantity(
                cart,
                item_id,
                data["quantity"],
                expected_version=data.get("version"),  # type: ignore[arg-type]
            )
            return {
                "updatedItemId": line.pk if line else None,
                "removedItemId": None if line else item_id,
            }

        response = _run(request, cart, write)
        if response.status_code == 200:
            body = response.data["data"]
            updated = body.pop("updatedItemId")
            body["updatedItem"] = next(
                (i for i in body["cart"]["items"] if i["id"] == updated), None
            )
        return response

    @extend_schema(
        parameters=[VersionIn], responses={200: ENVELOPE, **ERRORS}, summary="Remove an item"
    )
    def delete(self, request: Request, cart_id: int, item_id: int) -> Response:
        cart = _owned(request, cart_id)
        version = _version_param(request)

        def write() -> dict[str, object]:
            services.remove_line(cart, item_id, expected_version=version)
            return {"removedItemId": item_id}

        return _run(request, cart, write)


class CartCouponsApi(CartApiView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "coupon_apply"

    @extend_schema(
        request=ApplyCouponIn, responses={201: ENVELOPE, **ERRORS}, summary="Apply a coupon code"
    )
    def post(self, request: Request, cart_id: int) -> Response:
        cart = _owned(request, cart_id)
        data = _valid(ApplyCouponIn, request)
        user = request.user
        email = str(getattr(user, "email", "") or "") if user.is_authenticated else ""

        def write() -> dict[str, object]:
            row = services.apply_coupon(
                cart,
                data["code"],
                user=user,
                email=email,
                expected_version=data.get("version"),  # type: ignore[arg-type]
            )
            return {"appliedCouponId": row.coupon_id}

        response = _run(request, cart, write)
        if response.status_code == 200:
            body = response.data["data"]
            applied_id = body.pop("appliedCouponId")
            coupon = next(c for c in body["cart"]["appliedCoupons"] if c["couponId"] == applied_id)
            body["appliedCoupon"] = coupon
            body["validation"] = {
                "isValid": True,
                "discountAmount": coupon["discountAmount"],
                "errors": [],
                "warnings": [],
            }
            response.status_code = status.HTTP_201_CREATED
        elif response.data.get("error", {}).get("code") == "COUPON_INVALID":
            details = response.data["error"]["details"]
            response.data["data"] = {
                "validation": {"isValid": False, "errors": details, "warnings": []}
            }
        return response


class CartCouponApi(CartApiView):
    @extend_schema(
        parameters=[VersionIn], responses={200: ENVELOPE, **ERRORS}, summary="Remove a coupon"
    )
    def delete(self, request: Request, cart_id: int, coupon_id: int) -> Response:
        cart = _owned(request, cart_id)
        version = _version_param(request)

        def write() -> dict[str, object]:
            services.remove_coupon(cart, coupon_id, expected_version=version)
            return {"removedCouponId": coupon_id}

        return _run(request, cart, write)


def _version_param(request: Request) -> int | None:
    """DELETE carries the version as ?version=N (or in a JSON body)."""
    raw = request.query_params.get("version")
    if raw is None and isinstance(request.data, dict):
        raw = request.data.get("version")
    if raw is None:
        return None
    serializer = VersionIn(data={"version": raw})
    serializer.is_valid(raise_exception=True)
    value = serializer.validated_data.get("version")
    return int(value) if value is not None else None
