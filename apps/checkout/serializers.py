"""API shapes for checkout (spec 000: CheckoutSession, Address, AddressValidation,
ShippingMethod, TaxCalculation), camelCase like the cart API. Money is a decimal string;
tax rates are decimal strings as fractions ("0.0725" is 7.25%). Input serializers refuse
fields they do not know (cart.serializers.StrictIn), so nothing a client sends is
silently ignored; the address rules themselves are checkout.addresses.check_address's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from rest_framework import serializers

from apps.cart.serializers import ProblemOut, StrictIn, money
from apps.checkout.addresses import MAX_LENGTHS, AddressCheck, AddressData
from apps.checkout.machine import State
from apps.checkout.models import CheckoutSession
from apps.checkout.pricing import CheckoutTotals
from apps.checkout.shipping import ShippingQuote
from apps.checkout.tax import TaxResult

# AddressData field -> the spec's (000) name.
ADDRESS_NAMES: dict[str, str] = {
    "first_name": "firstName",
    "last_name": "lastName",
    "company": "company",
    "street1": "street1",
    "street2": "street2",
    "city": "city",
    "state": "state",
    "zip_code": "zipCode",
    "country": "country",
    "phone": "phone",
}
# The machine's states, one enum in the schema (SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES).
STATE_CHOICES = [s.value for s in State]
GUEST_NAMES: dict[str, str] = {
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "phone": "phone",
    "marketing_consent": "marketingConsent",
}


def _text(name: str, *, required: bool = False) -> serializers.CharField:
    return serializers.CharField(
        max_length=MAX_LENGTHS.get(name, 200),
        required=required,
        allow_blank=not required,
        trim_whitespace=False,  # check_address trims, and tells the shopper what it changed
        default="" if not required else serializers.empty,
    )


# --- input ------------------------------------------------------------------------------


class AddressIn(StrictIn):
    """An address as the shopper typed it; whether it is deliverable is checked per country
    (check_address), not here."""

    firstName = _text("first_name", required=True)
    lastName = _text("last_name", required=True)
    company = _text("company")
    street1 = _text("street1", required=True)
    street2 = _text("street2")
    city = _text("city")
    state = _text("state")
    zipCode = _text("zip_code")
    country = serializers.CharField(
        min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2, e.g. US"
    )
    phone = _text("phone")


def address_from(data: Mapping[str, Any]) -> AddressData:
    """Validated AddressIn data -> AddressData."""
    return AddressData(**{field: str(data.get(api) or "") for field, api in ADDRESS_NAMES.items()})


class StartCheckoutIn(StrictIn):
    cartId = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="Your active cart's id (optional: checkout always starts on your active "
        "cart; another id is 404).",
    )


class GuestInfoFieldsIn(StrictIn):
    email = serializers.CharField(max_length=254)
    firstName = serializers.CharField(max_length=100)
    lastName = serializers.CharField(max_length=100)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    marketingConsent = serializers.BooleanField(required=False, default=False)


class GuestInfoIn(StrictIn):
    guestInfo = GuestInfoFieldsIn()


class ShippingAddressIn(StrictIn):
    address = AddressIn()
    billingSameAsShipping = serializers.BooleanField(
        required=False,
        help_text="Bill to this address too, skipping the billing step (default: as before, "
        "initially true).",
    )
    keepAsEntered = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Store the address as typed instead of the standardized one, where that "
        "is still deliverable (validation.keepable).",
    )


class BillingAddressIn(StrictIn):
    address = AddressIn(required=False)
    sameAsShipping = serializers.BooleanField(required=False, default=False)
    keepAsEntered = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if not attrs.get("sameAsShipping") and not attrs.get("address"):
            raise serializers.ValidationError(
                {
                    "address": serializers.ErrorDetail(
                        "Give an address, or sameAsShipping: true.", code="required"
                    )
                }
            )
        if attrs.get("sameAsShipping") and attrs.get("address"):
            raise serializers.ValidationError(
                {
                    "address": serializers.ErrorDetail(
                        "Leave the address out when billing is the same as shipping.",
                        code="conflict",
                    )
                }
            )
        return attrs


class ShippingMethodIn(StrictIn):
    shippingMethodId = serializers.IntegerField(min_value=1)


class PaymentMethodIn(StrictIn):
    paymentMethod = serializers.ChoiceField(
        choices=CheckoutSession.PaymentMethod.choices,
        help_text="card: Stripe Checkout's hosted page (card data never reaches the shop).",
    )


class ValidateAddressIn(StrictIn):
    address = AddressIn()


class ShippingCalculateIn(StrictIn):
    shippingAddress = AddressIn()


class TaxCalculateIn(StrictIn):
    shippingAddress = AddressIn()
    shippingCost = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        default=Decimal("0"),
        help_text="Taxed where the address's rates apply to shipping.",
    )


# --- output -----------------------------------------------------------------------------


class AddressOut(serializers.Serializer[dict[str, object]]):
    firstName = serializers.CharField()
    lastName = serializers.CharField()
    company = serializers.CharField(allow_blank=True)
    street1 = serializers.CharField()
    street2 = serializers.CharField(allow_blank=True)
    city = serializers.CharField(allow_blank=True)
    state = serializers.CharField(allow_blank=True)
    zipCode = serializers.CharField(allow_blank=True)
    country = serializers.CharField()
    phone = serializers.CharField(allow_blank=True, help_text="E.164, or empty")


class AddressSuggestionOut(serializers.Serializer[dict[str, object]]):
    address = AddressOut()
    description = serializers.CharField()
    changes = serializers.ListField(child=serializers.CharField())


class AddressValidationOut(serializers.Serializer[dict[str, object]]):
    isValid = serializers.BooleanField()
    standardizedAddress = AddressOut(allow_null=True, help_text="null when invalid")
    suggestions = AddressSuggestionOut(many=True)
    keepable = serializers.BooleanField(
        help_text="The address as typed may be kept instead of the standardized one."
    )
    errors = ProblemOut(many=True)  # type: ignore[assignment]  # spec name; DRF pops fields


class ShippingMethodOut(serializers.Serializer[dict[str, object]]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    carrier = serializers.CharField(allow_blank=True)
    serviceType = serializers.CharField(allow_blank=True)
    cost = money()
    currency = serializers.CharField()
    free = serializers.BooleanField()
    minDeliveryDays = serializers.IntegerField()
    maxDeliveryDays = serializers.IntegerField()
    earliestDelivery = serializers.DateField(help_text="Business days, from today's dispatch")
    latestDelivery = serializers.DateField()
    trackingAvailable = serializers.BooleanField()
    requiresSignature = serializers.BooleanField()


class DeliveryEstimateOut(serializers.Serializer[dict[str, object]]):
    methodId = serializers.IntegerField()
    minDate = serializers.DateField()
    maxDate = serializers.DateField()
    businessDaysOnly = serializers.BooleanField()


class TaxBreakdownOut(serializers.Serializer[dict[str, object]]):
    rateId = serializers.IntegerField()
    jurisdiction = serializers.CharField()
    type = serializers.CharField()
    rate = serializers.CharField(help_text='A fraction as a decimal string: "0.0725" is 7.25%')
    taxableAmount = money()
    amount = money()


class TaxCalculationOut(serializers.Serializer[dict[str, object]]):
    """000's TaxCalculation: tax per line on the discounted amount, shipping where the rate
    says so, rounded per line."""

    currency = serializers.CharField()
    subtotal = money(help_text="The goods after discounts.")
    taxableAmount = money(help_text="What the rates were applied to, shipping included.")
    totalTax = money()
    shippingTax = money()
    effectiveRate = serializers.CharField(help_text="totalTax / taxableAmount, a fraction")
    jurisdiction = serializers.CharField(help_text="Country and subdivision, e.g. US-CA")
    breakdown = TaxBreakdownOut(many=True)


class CouponDiscountOut(serializers.Serializer[dict[str, object]]):
    couponId = serializers.IntegerField()
    code = serializers.CharField()
    amount = money()


class TotalsOut(serializers.Serializer[dict[str, object]]):
    currency = serializers.CharField()
    subtotal = money()
    discountTotal = money()
    couponDiscounts = CouponDiscountOut(many=True)
    shipping = money(allow_null=True, help_text="null until a shipping method is chosen")
    tax = money(allow_null=True, help_text="null until the address is known")
    total = money(help_text="subtotal - discountTotal + shipping + tax")
    freeShipping = serializers.BooleanField()


class GuestInfoOut(serializers.Serializer[dict[str, object]]):
    email = serializers.CharField(allow_blank=True)
    firstName = serializers.CharField(allow_blank=True)
    lastName = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    marketingConsent = serializers.BooleanField()


class StepProgressOut(serializers.Serializer[dict[str, object]]):
    step = serializers.ChoiceField(choices=STATE_CHOICES)
    completedAt = serializers.DateTimeField()


class CheckoutErrorOut(serializers.Serializer[dict[str, object]]):
    code = serializers.CharField()
    message = serializers.CharField()
    step = serializers.ChoiceField(choices=STATE_CHOICES)


class CheckoutSessionOut(serializers.Serializer[dict[str, object]]):
    id = serializers.CharField(help_text="The public id (never the database key)")
    cartId = serializers.IntegerField(allow_null=True)
    cartVersion = serializers.IntegerField(help_text="The cart version it was priced on")
    userId = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=STATE_CHOICES)
    userType = serializers.ChoiceField(choices=CheckoutSession.UserType.values)
    isOpen = serializers.BooleanField()
    guestInfo = GuestInfoOut()
    shippingAddress = AddressOut(allow_null=True)
    billingAddress = AddressOut(allow_null=True)
    billingSameAsShipping = serializers.BooleanField()
    shippingMethod = ShippingMethodOut(
        allow_null=True, help_text="The chosen method, while it is offered for the address"
    )
    paymentMethod = serializers.ChoiceField(
        choices=CheckoutSession.PaymentMethod.values, allow_null=True
    )
    stepProgress = StepProgressOut(many=True)
    errors = CheckoutErrorOut(many=True)  # type: ignore[assignment]  # spec name
    totals = TotalsOut()
    expiresAt = serializers.DateTimeField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class ShippingAddressOut(serializers.Serializer[dict[str, object]]):
    checkoutSession = CheckoutSessionOut()
    validation = AddressValidationOut()
    shippingMethods = ShippingMethodOut(many=True)


class BillingAddressOut(serializers.Serializer[dict[str, object]]):
    checkoutSession = CheckoutSessionOut()
    validation = AddressValidationOut(allow_null=True, help_text="null: same as shipping")


class ShippingMethodChosenOut(serializers.Serializer[dict[str, object]]):
    checkoutSession = CheckoutSessionOut()
    taxCalculation = TaxCalculationOut()
    orderTotal = money()


class ShippingCalculationOut(serializers.Serializer[dict[str, object]]):
    methods = ShippingMethodOut(many=True)
    recommended = ShippingMethodOut(allow_null=True, help_text="The cheapest, then fastest")
    estimates = DeliveryEstimateOut(many=True)
    errors = ProblemOut(many=True)  # type: ignore[assignment]  # spec name


class AddressRefusedOut(serializers.Serializer[dict[str, object]]):
    validation = AddressValidationOut()


# --- domain -> JSON -----------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _fraction(value: Decimal) -> str:
    return format(value.normalize(), "f")


def address_out(address: AddressData) -> dict[str, str]:
    return {api: getattr(address, field) for field, api in ADDRESS_NAMES.items()}


def problems(errors: Mapping[str, Sequence[str]], prefix: str = "") -> list[dict[str, str]]:
    """check_address's errors as the envelope's details, with the API's field names."""
    return [
        {
            "field": f"{prefix}{ADDRESS_NAMES.get(name, name)}",
            "code": "invalid",
            "message": message,
        }
        for name, messages in errors.items()
        for message in messages
    ]


def validation_out(check: AddressCheck) -> dict[str, object]:
    suggestions = []
    if check.suggestion is not None:
        suggestions.append(
            {
                "address": address_out(check.suggestion),
                "description": "Did you mean this address?",
                "changes": list(check.changes),
            }
        )
    return {
        "isValid": check.valid,
        "standardizedAddress": address_out(check.normalized) if check.normalized else None,
        "suggestions": suggestions,
        "keepable": check.keepable,
        "errors": problems(check.errors),
    }


def quote_out(quote: ShippingQuote) -> dict[str, object]:
    return {
        "id": quote.method_id,
        "name": quote.name,
        "description": quote.description,
        "carrier": quote.carrier,
        "serviceType": quote.service_level,
        "cost": _money(quote.cost),
        "currency": quote.currency,
        "free": quote.free,
        "minDeliveryDays": quote.min_days,
        "maxDeliveryDays": quote.max_days,
        "earliestDelivery": quote.earliest.isoformat(),
        "latestDelivery": quote.latest.isoformat(),
        "trackingAvailable": quote.tracking,
        "requiresSignature": quote.signature,
    }


def shipping_calculation_out(
    quotes: Sequence[ShippingQuote], *, problem: Mapping[str, str] | None = None
) -> dict[str, object]:
    recommended = min(quotes, key=lambda q: (q.cost, q.max_days), default=None)
    return {
        "methods": [quote_out(q) for q in quotes],
        "recommended": quote_out(recommended) if recommended else None,
        "estimates": [
            {
                "methodId": q.method_id,
                "minDate": q.earliest.isoformat(),
                "maxDate": q.latest.isoformat(),
                "businessDaysOnly": True,
            }
            for q in quotes
        ],
        "errors": [dict(problem)] if problem else [],
    }


def jurisdiction(address: AddressData) -> str:
    return "-".join(p for p in (address.country, address.state) if p)


def tax_out(
    result: TaxResult | None, *, currency: str, goods: Decimal, address: AddressData | None
) -> dict[str, object]:
    """A TaxResult as 000's TaxCalculation (zero tax when there is none yet)."""
    lines = result.lines if result else ()
    return {
        "currency": currency,
        "subtotal": _money(goods),
        "taxableAmount": _money(result.taxable_base if result else Decimal("0")),
        "totalTax": _money(result.total if result else Decimal("0")),
        "shippingTax": _money(result.shipping if result else Decimal("0")),
        "effectiveRate": _fraction(result.effective_rate if result else Decimal("0")),
        "jurisdiction": jurisdiction(address) if address else "",
        "breakdown": [
            {
                "rateId": line.rate_id,
                "jurisdiction": line.name,
                "type": line.kind,
                "rate": _fraction(line.rate),
                "taxableAmount": _money(line.taxable_amount),
                "amount": _money(line.amount),
            }
            for line in lines
        ],
    }


def totals_out(totals: CheckoutTotals) -> dict[str, object]:
    return {
        "currency": totals.currency,
        "subtotal": _money(totals.subtotal),
        "discountTotal": _money(totals.discount_total),
        "couponDiscounts": [
            {"couponId": c.coupon_id, "code": c.code, "amount": _money(c.amount)}
            for c in totals.coupon_discounts
        ],
        "shipping": _money(totals.shipping) if totals.shipping is not None else None,
        "tax": _money(totals.tax_total) if totals.tax_total is not None else None,
        "total": _money(totals.total),
        "freeShipping": totals.free_shipping,
    }


def session_out(
    session: CheckoutSession,
    *,
    shipping: AddressData | None,
    billing: AddressData | None,
    quote: ShippingQuote | None,
    totals: CheckoutTotals,
) -> dict[str, object]:
    steps = session.steps_completed if isinstance(session.steps_completed, dict) else {}
    order = {s.value: i for i, s in enumerate(State)}
    progress = [
        {"step": step, "completedAt": stamp}
        for step, stamp in sorted(steps.items(), key=lambda item: order.get(item[0], 99))
        if step in order
    ]
    errors = []
    if session.last_error:
        errors.append(
            {"code": "STEP_REFUSED", "message": session.last_error, "step": session.state}
        )
    return {
        "id": session.public_id,
        "cartId": session.cart_id,
        "cartVersion": session.cart_version,
        "userId": session.user_id,
        "status": session.state,
        "userType": session.user_type,
        "isOpen": session.is_open,
        "guestInfo": {
            "email": session.email,
            "firstName": session.first_name,
            "lastName": session.last_name,
            "phone": session.phone,
            "marketingConsent": session.marketing_consent,
        },
        "shippingAddress": address_out(shipping) if shipping else None,
        "billingAddress": address_out(billing) if billing else None,
        "billingSameAsShipping": session.billing_same_as_shipping,
        "shippingMethod": quote_out(quote) if quote else None,
        "paymentMethod": session.payment_method or None,
        "stepProgress": progress,
        "errors": errors,
        "totals": totals_out(totals),
        "expiresAt": session.expires_at.isoformat(),
        "createdAt": session.created_at.isoformat(),
        "updatedAt": session.updated_at.isoformat(),
    }
