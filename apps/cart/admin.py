"""Carts in admin are for looking, not editing: a staff edit would bypass the cart services
(no version bump, so a shopper's stale tab could overwrite it; no check of the one-active-
cart constraints, so reactivating a cart could 500). Shoppers change their carts; abandoned
ones are pruned by the beat task."""

from django.contrib import admin

from apps.cart.models import Cart, CartCoupon, CartLine
from apps.core.admin import ViewOnlyAdminMixin


class CartLineInline(ViewOnlyAdminMixin, admin.TabularInline[CartLine, Cart]):
    model = CartLine
    extra = 0
    raw_id_fields = ["variant"]
    readonly_fields = ["unit_price", "customizations", "customizations_price", "created_at"]


class CartCouponInline(ViewOnlyAdminMixin, admin.TabularInline[CartCoupon, Cart]):
    model = CartCoupon
    extra = 0
    raw_id_fields = ["coupon"]
    readonly_fields = ["applied_at"]


@admin.register(Cart)
class CartAdmin(ViewOnlyAdminMixin, admin.ModelAdmin[Cart]):
    list_display = ["id", "user", "status", "currency", "version", "updated_at", "expires_at"]
    list_filter = ["status", "currency"]
    search_fields = ["id", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["version", "session_hash", "created_at", "updated_at"]
    raw_id_fields = ["user"]
    inlines = [CartLineInline, CartCouponInline]
