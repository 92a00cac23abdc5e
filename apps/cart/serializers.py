"""API shapes for the cart (spec: Cart, CartItem, AppliedCoupon, CouponValidation,
Coupon). Money is a decimal string ("12.34"), never a float. Input serializers refuse
fields they do not know, so nothing a client sends is silently ignored."""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from rest_framework import serializers

from apps.cart.calculations import PricedCart, PricedCoupon, PricedLine
from apps.cart.models import Cart
from apps.cart.snapshot import MAX_LINE_QUANTITY
from apps.core.money import ZERO
from apps.promotions.models import Coupon


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


class StrictIn(serializers.Serializer[dict[str, object]]):
    """Refuses unknown fields (400 naming each one) instead of dropping them."""

    def to_internal_value(self, data: object) -> dict[str, object]:
        if isinstance(data, Mapping):
            unknown = sorted(str(k) for k in data if k not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: serializers.ErrorDetail("This field is not accepted.", code="unknown")
                        for name in unknown
                    }
                )
        return dict(super().to_internal_value(data))


class CustomizationIn(StrictIn):
    type = serializers.CharField(max_length=40)
    name = serializers.CharField(max_length=100, required=False)
    value = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    price = money(required=False, help_text="Ignored: the server prices customizations.")


class VersionIn(StrictIn):
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

    def to_internal_value(self, data: object) -> dict[str, object]:
        """The spec allows customizations here, but the cart services cannot change a
        line's customizations yet: refuse them by name rather than ignore them."""
        if isinstance(data, Mapping) and "customizations" in data:
            raise serializers.ValidationError(
                {
                    "customizations": serializers.ErrorDetail(
                        "Customizations cannot be changed on an existing item; remove it and "
                        "add it again with the customizations you want.",
                        code="not_supported",
                    )
                }
            )
        return dict(super().to_internal_value(data))


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


class ProblemOut(serializers.Serializer[dict[str, object]]):
    """The spec's ValidationError."""

    field = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    message = serializers.CharField()


class AppliedCouponOut(serializers.Serializer[dict[str, object]]):
    """The spec's AppliedCoupon (id is the application, couponId the coupon), plus what
    the cart page needs: the type, free shipping, and whether the code still counts."""

    id = serializers.IntegerField(help_text="This application of the code to the cart.")
    couponId = serializers.IntegerField()
    code = serializers.CharField()
    discountAmount = money()
    appliedAt = serializers.DateTimeField()
    type = serializers.CharField()
    freeShipping = serializers.BooleanField()
    isValid = serializers.BooleanField(help_text="false: listed but not counted (see errors).")
    errors = ProblemOut(many=True)  # type: ignore[assignment]  # spec name; DRF pops fields


class CouponOut(serializers.Serializer[dict[str, object]]):
    """The spec's Coupon (metadata is staff-only and left out)."""

    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    type = serializers.CharField()
    value = money()
    minimumOrderAmount = money(allow_null=True)
    maximumDiscount = money(allow_null=True)
    startDate = serializers.DateTimeField()
    endDate = serializers.DateTimeField()
    usageLimit = serializers.IntegerField(allow_null=True)
    usageCount = serializers.IntegerField()
    perCustomerLimit = serializers.IntegerField(allow_null=True)
    isActive = serializers.BooleanField()
    combinable = serializers.BooleanField()
    applicableProducts = serializers.ListField(child=serializers.IntegerField())
    excludedProducts = serializers.ListField(child=serializers.IntegerField())
    applicableCategories = serializers.ListField(child=serializers.CharField())
    excludedCategories = serializers.ListField(child=serializers.CharField())


class CouponValidationOut(serializers.Serializer[dict[str, object]]):
    """The spec's CouponValidation: coupon and discountAmount only when the code is valid."""

    isValid = serializers.BooleanField()
    coupon = CouponOut(required=False)
    discountAmount = money(required=False)
    errors = ProblemOut(many=True)  # type: ignore[assignment]  # spec name; DRF pops fields
    warnings = serializers.ListField(child=serializers.CharField())


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


def item_data(row: PricedLine) -> dict[str, object]:
    line = row.line
    return {
        "id": line.line_id,
        "productId": line.product_id,
        "variantId": line.variant_id,
        "quantity": line.quantity,
        "price": row.unit_price,
        "originalPrice": row.added_unit_price,
        "lineTotal": row.line_total,
        "discount": row.discount,
        "name": line.product_name,
        "image": line.image_url,
        "sku": line.sku,
        "options": [dict(o) for o in line.options],
        "customizations": list(row.customizations),  # at current prices
        "available": row.stock.available,
        "issue": row.issue,
    }


def cart_data(cart: Cart, view: PricedCart) -> dict[str, object]:
    """The cart row's own fields and its figures, all from `view` (nothing computed here)."""
    data: dict[str, object] = {
        "id": view.cart_id,
        "userId": cart.user_id,
        "status": cart.status,
        "items": [item_data(row) for row in view.lines],
        "appliedCoupons": [applied_coupon_data(cv) for cv in view.coupons],
        "subtotal": view.subtotal,
        "totalDiscount": view.discount_total,
        "totalTax": None,
        "totalShipping": ZERO if view.free_shipping else None,
        "total": view.estimated_total,
        "freeShipping": view.free_shipping,
        "checkoutBlocked": view.checkout_blocked,
        "issues": list(view.issues),
        "currency": view.currency,
        "expiresAt": cart.expires_at,
        "createdAt": cart.created_at,
        "updatedAt": cart.updated_at,
        "version": view.version,
    }
    return dict(CartOut(data).data)


def applied_coupon_data(cv: PricedCoupon) -> dict[str, object]:
    """An AppliedCoupon, raw (cart_data serializes it with the cart)."""
    return {
        "id": cv.coupon.application_id,
        "couponId": cv.coupon_id,
        "code": cv.coupon.code,
        "discountAmount": cv.amount,
        "appliedAt": cv.coupon.applied_at,
        "type": cv.coupon.type,
        "freeShipping": cv.free_shipping,
        "isValid": cv.valid,
        "errors": [{"field": p.field, "code": p.code, "message": p.message} for p in cv.problems],
    }


def applied_coupon_out(cv: PricedCoupon) -> dict[str, object]:
    return dict(AppliedCouponOut(applied_coupon_data(cv)).data)


def coupon_data(coupon: Coupon) -> dict[str, object]:
    """Reads the rules prefetched by promotions.selectors.with_rules."""
    data = {
        "id": coupon.pk,
        "code": coupon.code,
        "name": coupon.name,
        "description": coupon.description,
        "type": coupon.type,
        "value": coupon.value,
        "minimumOrderAmount": coupon.minimum_order_amount,
        "maximumDiscount": coupon.maximum_discount,
        "startDate": coupon.starts_at,
        "endDate": coupon.ends_at,
        "usageLimit": coupon.usage_limit,
        "usageCount": coupon.usage_count,
        "perCustomerLimit": coupon.per_customer_limit,
        "isActive": coupon.is_active,
        "combinable": coupon.combinable,
        "applicableProducts": [p.pk for p in coupon.applicable_products.all()],
        "excludedProducts": [p.pk for p in coupon.excluded_products.all()],
        "applicableCategories": [c.slug for c in coupon.applicable_categories.all()],
        "excludedCategories": [c.slug for c in coupon.excluded_categories.all()],
    }
    return dict(CouponOut(data).data)


def valid_coupon_validation(coupon: Coupon, amount: Decimal) -> dict[str, object]:
    """`coupon` with its rules prefetched; `amount` is its discount on the priced cart."""
    return dict(
        CouponValidationOut(
            {
                "isValid": True,
                "coupon": coupon_data(coupon),
                "discountAmount": amount,
                "errors": [],
                "warnings": [],
            }
        ).data
    )


def invalid_coupon_validation(problems: Sequence[Mapping[str, str]]) -> dict[str, object]:
    return {"isValid": False, "errors": [dict(p) for p in problems], "warnings": []}


# Response `data` shapes, for the OpenAPI schema (the views build the same dicts).


class AddItemOut(serializers.Serializer[dict[str, object]]):
    cart = CartOut()
    addedItem = CartItemOut()


class UpdateItemOut(serializers.Serializer[dict[str, object]]):
    cart = CartOut()
    updatedItem = CartItemOut(allow_null=True, help_text="null when quantity 0 removed it")
    removedItemId = serializers.IntegerField(
        allow_null=True, help_text="the item's id when quantity 0 removed it, else null"
    )


class RemoveItemOut(serializers.Serializer[dict[str, object]]):
    cart = CartOut()
    removedItemId = serializers.IntegerField()


class ApplyCouponOut(serializers.Serializer[dict[str, object]]):
    cart = CartOut()
    appliedCoupon = AppliedCouponOut()
    validation = CouponValidationOut()


class CouponRejectedOut(serializers.Serializer[dict[str, object]]):
    validation = CouponValidationOut()


class RemoveCouponOut(serializers.Serializer[dict[str, object]]):
    cart = CartOut()
    removedCouponId = serializers.IntegerField()
