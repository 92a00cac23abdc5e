"""/api/cart... routes, exactly as the spec spells them (no trailing slash)."""

from django.urls import path

from apps.cart import api

urlpatterns = [
    path("cart", api.CartCreateApi.as_view(), name="api-cart-create"),
    path("cart/<int:cart_id>", api.CartDetailApi.as_view(), name="api-cart-detail"),
    path("cart/<int:cart_id>/items", api.CartItemsApi.as_view(), name="api-cart-items"),
    path(
        "cart/<int:cart_id>/items/<int:item_id>",
        api.CartItemApi.as_view(),
        name="api-cart-item",
    ),
    path("cart/<int:cart_id>/coupons", api.CartCouponsApi.as_view(), name="api-cart-coupons"),
    path(
        "cart/<int:cart_id>/coupons/<int:coupon_id>",
        api.CartCouponApi.as_view(),
        name="api-cart-coupon",
    ),
]
