from django.contrib import admin

from apps.cart.models import Cart, CartCoupon, CartLine


class CartLineInline(admin.TabularInline[CartLine, Cart]):
    model = CartLine
    extra = 0
    raw_id_fields = ["variant"]
    readonly_fields = ["unit_price", "customizations", "customizations_price", "created_at"]


class CartCouponInline(admin.TabularInline[CartCoupon, Cart]):
    model = CartCoupon
    extra = 0
    raw_id_fields = ["coupon"]
    readonly_fields = ["applied_at"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin[Cart]):
    list_display = ["id", "user", "status", "currency", "version", "updated_at", "expires_at"]
    list_filter = ["status", "currency"]
    search_fields = ["id", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["version", "session_hash", "created_at", "updated_at"]
    raw_id_fields = ["user"]
    inlines = [CartLineInline, CartCouponInline]
