"""API shapes for the cart (spec: Cart, CartItem, AppliedCoupon). Money is a decimal
string ("12.34"), never a float."""

from decimal import Decimal

from rest_framework import serializers

from apps.cart.models import MAX_LINE_QUANTITY
from apps.cart.selectors import CartView, LineView


def money(
    *, help_text: str = "", required: bool = True, allow_null: bool = False
) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text=help_text or None,
        required=required,
        allow_null=allow_null,
    )


class CustomizationIn(serializers.Serializer[dict[str, object]]):
    type = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100, required=False)
    value = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    price = money(required=False, help_text="Ignored: the server prices customizations.")


class VersionIn(serializers.Serializer[dict[str, object]]):
    version = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="The cart version this change is based on; a stale one gets 409.",
    )


class AddItemIn(VersionIn):
    productId = serializers.IntegerField(min_value=1, required=False)
    variantId = serializers.IntegerField(min_value=1, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)
    customizations = CustomizationIn(many=True, required=False)

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if not attrs.get("variantId") and not attrs.get("productId"):
            raise serializers.ValidationError(
                {
                    "variantId": serializers.ErrorDetail(
                        "Give a variantId (or a productId with one variant).", code="required"
                    )
                }
            )
        return attrs


class UpdateItemIn(VersionIn):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)


class ApplyCouponIn(VersionIn):
    code = serializers.CharField(max_length=40, trim_whitespace=True)


class CustomizationOut(serializers.Serializer[dict[str, object]]):
    type = serializers.CharField()
    name = serializers.CharField()
    value = serializers.CharField()
    price = money()


class CartItemOut(serializers.Serializer[dict[str, object]]):
    id = serializers.IntegerField()
    productId = serializers.IntegerField()
    variantId = serializers.IntegerField()
    quantity = serializers.IntegerField()
    price = money(help_text="Current unit price, customizations included.")
    originalPrice = money(help_text="Unit price when added.")
    lineTotal = money()
    discount = money()
    name = serializers.CharField()
    image = serializers.CharField(allow_blank=True)
    sku = serializers.CharField()
    options = serializers.ListField(child=serializers.DictField())
    customizations = CustomizationOut(many=True)
    available = serializers.IntegerField(allow_null=True)
    issue = serializers.CharField(allow_blank=True)


class AppliedCouponOut(serializers.Serializer[dict[str, object]]):
    id = serializers.IntegerField()
    couponId = serializers.IntegerField()
    code = serializers.CharField()
    type = serializers.CharField()
    discountAmount = money()
    freeShipping = serializers.BooleanField()
    valid = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.DictField())


class CartOut(serializers.Serializer[dict[str, object]]):
    id = serializers.IntegerField()
    userId = serializers.IntegerField(allow_null=True)
    status = serializers.CharField()
    items = CartItemOut(many=True)
    appliedCoupons = AppliedCouponOut(many=True)
    subtotal = money()
    totalDiscount = money()
    totalTax = money(allow_null=True, help_text="null: computed at checkout")
    totalShipping = money(allow_null=True, help_text="null: computed at checkout")
    total = money(help_text="Estimated: before shipping and tax.")
    freeShipping = serializers.BooleanField()
    checkoutBlocked = serializers.BooleanField()
    issues = serializers.ListField(child=serializers.CharField())
    currency = serializers.CharField()
    expiresAt = serializers.DateTimeField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    version = serializers.IntegerField()


def item_data(row: LineView) -> dict[str, object]:
    line = row.line
    return {
        "id": line.pk,
        "productId": line.variant.product_id,
        "variantId": line.variant_id,
        "quantity": line.quantity,
        "price": row.unit_price,
        "originalPrice": row.added_unit_price,
        "lineTotal": row.line_total,
        "discount": row.discount,
        "name": line.variant.product.name,
        "image": row.image.image.url if row.image else "",
        "sku": line.variant.sku,
        "options": list(line.variant.options),
        "customizations": list(line.customizations),
        "available": row.stock.available,
        "issue": row.issue,
    }


def cart_data(view: CartView) -> dict[str, object]:
    cart = view.cart
    data: dict[str, object] = {
        "id": cart.pk,
        "userId": cart.user_id,
        "status": cart.status,
        "items": [item_data(row) for row in view.lines],
        "appliedCoupons": [
            {
                "id": cv.coupon.pk,
                "couponId": cv.coupon.pk,
                "code": cv.coupon.code,
                "type": cv.coupon.type,
                "discountAmount": cv.amount,
                "freeShipping": cv.free_shipping,
                "valid": cv.valid,
                "problems": [
                    {"field": p.field, "code": p.code, "message": p.message} for p in cv.problems
                ],
            }
            for cv in view.coupons
        ],
        "subtotal": view.totals.subtotal,
        "totalDiscount": view.totals.discount_total,
        "totalTax": None,
        "totalShipping": Decimal("0.00") if view.totals.free_shipping else None,
        "total": view.totals.estimated_total,
        "freeShipping": view.totals.free_shipping,
        "checkoutBlocked": view.checkout_blocked,
        "issues": view.issues,
        "currency": cart.currency,
        "expiresAt": cart.expires_at,
        "createdAt": cart.created_at,
        "updatedAt": cart.updated_at,
        "version": cart.version,
    }
    return dict(CartOut(data).data)
