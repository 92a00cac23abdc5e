from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.checkout.models import (
    CheckoutEvent,
    CheckoutSession,
    ShippingMethod,
    ShippingZone,
    TaxRate,
)
from apps.core.admin import ViewOnlyAdminMixin
from apps.core.money import CURRENCY_EXPONENTS

# --- Shipping zones, methods and tax rates ---------------------------------------------------


def _without_country(subdivision: str) -> str:
    """US-CA as CA: zones and rates store the subdivision as the address form gives it."""
    return subdivision.split("-", 1)[1] if "-" in subdivision else subdivision


class CodeListField(forms.CharField):
    """A JSON list of codes edited as comma-separated text ("CA, OR, WA"), upper case."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            items: Iterable[Any] = value
        else:
            text = super().to_python(value) or ""
            items = text.replace("\n", ",").split(",")
        codes: list[str] = []
        for item in items:
            code = str(item).strip().upper()
            if code and code not in codes:
                codes.append(code)
        return codes

    def validate(self, value: Any) -> None:
        super().validate(value)
        for code in value:
            if len(code) > 20 or not all(ch.isalnum() or ch in " -" for ch in code):
                raise forms.ValidationError(
                    f"{code!r} is not a code: use letters, digits, spaces and dashes, "
                    "separated by commas."
                )


class ShippingZoneForm(forms.ModelForm[ShippingZone]):
    subdivisions = CodeListField(
        required=False,
        help_text="Comma-separated ISO 3166-2 codes without the country, e.g. CA, OR, WA. "
        "Empty: the whole country.",
    )
    postcode_prefixes = CodeListField(
        required=False,
        help_text="Comma-separated postcode prefixes, e.g. 94, SW1. Empty: any postcode.",
    )

    class Meta:
        model = ShippingZone
        fields = ["name", "countries", "subdivisions", "postcode_prefixes", "is_active"]

    def clean_subdivisions(self) -> list[str]:
        """Subdivisions may be given as US-CA; the zone stores CA (the address form's)."""
        codes: list[str] = self.cleaned_data.get("subdivisions") or []
        return [_without_country(code) for code in codes]


class ShippingMethodForm(forms.ModelForm[ShippingMethod]):
    """Refuses what the database constraints would turn into a 500."""

    class Meta:
        model = ShippingMethod
        fields = [
            "zone",
            "name",
            "description",
            "carrier",
            "service_level",
            "currency",
            "base_cost",
            "cost_per_kg",
            "free_over",
            "min_delivery_days",
            "max_delivery_days",
            "tracking_available",
            "requires_signature",
            "position",
            "is_active",
        ]

    def clean_currency(self) -> str:
        currency = str(self.cleaned_data.get("currency") or "").strip().upper()
        if currency not in CURRENCY_EXPONENTS:
            raise forms.ValidationError(
                f"Use one of the shop's currencies: {', '.join(sorted(CURRENCY_EXPONENTS))}."
            )
        return currency

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low = cleaned.get("min_delivery_days")
        high = cleaned.get("max_delivery_days")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_delivery_days", "The maximum days cannot be fewer than the minimum days."
            )
        return cleaned


class TaxRateForm(forms.ModelForm[TaxRate]):
    class Meta:
        model = TaxRate
        fields = [
            "name",
            "country",
            "subdivision",
            "postcode_prefix",
            "rate",
            "kind",
            "applies_to_shipping",
            "is_active",
        ]

    def clean_rate(self) -> Decimal | None:
        rate: Decimal | None = self.cleaned_data.get("rate")
        if rate is not None and not Decimal("0") <= rate < Decimal("1"):
            raise forms.ValidationError(
                "Give the rate as a fraction from 0 up to (not including) 1: 0.0725 is 7.25%."
            )
        return rate

    def clean_subdivision(self) -> str:
        return _without_country(str(self.cleaned_data.get("subdivision") or "").strip().upper())

    def clean_postcode_prefix(self) -> str:
        return str(self.cleaned_data.get("postcode_prefix") or "").strip().upper()


class ShippingMethodInline(admin.TabularInline[ShippingMethod, ShippingZone]):
    model = ShippingMethod
    form = ShippingMethodForm
    extra = 0
    fields = [
        "name",
        "carrier",
        "service_level",
        "currency",
        "base_cost",
        "cost_per_kg",
        "free_over",
        "min_delivery_days",
        "max_delivery_days",
        "position",
        "is_active",
    ]
    show_change_link = True


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin[ShippingZone]):
    form = ShippingZoneForm
    list_display = ["name", "country_list", "subdivision_list", "prefix_list", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [ShippingMethodInline]

    @admin.display(description="countries")
    def country_list(self, zone: ShippingZone) -> str:
        return ", ".join(str(getattr(c, "code", c)) for c in zone.countries)

    @admin.display(description="subdivisions")
    def subdivision_list(self, zone: ShippingZone) -> str:
        return ", ".join(str(s) for s in zone.subdivisions or []) or "all"

    @admin.display(description="postcode prefixes")
    def prefix_list(self, zone: ShippingZone) -> str:
        return ", ".join(str(p) for p in zone.postcode_prefixes or []) or "all"


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin[ShippingMethod]):
    form = ShippingMethodForm
    list_display = [
        "name",
        "zone",
        "carrier",
        "service_level",
        "currency",
        "base_cost",
        "cost_per_kg",
        "free_over",
        "min_delivery_days",
        "max_delivery_days",
        "is_active",
    ]
    list_filter = ["zone", "carrier", "service_level", "is_active"]
    search_fields = ["name", "carrier", "zone__name"]
    list_select_related = ["zone"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShippingMethod]:
        return super().get_queryset(request).select_related("zone")


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin[TaxRate]):
    form = TaxRateForm
    list_display = [
        "name",
        "country",
        "subdivision",
        "postcode_prefix",
        "percent",
        "kind",
        "applies_to_shipping",
        "is_active",
    ]
    list_filter = ["country", "kind", "is_active", "applies_to_shipping"]
    search_fields = ["name", "subdivision", "postcode_prefix"]

    @admin.display(description="rate", ordering="rate")
    def percent(self, rate: TaxRate) -> str:
        return f"{(rate.rate * 100).normalize():f}%"


# --- Checkout sessions (view only) -----------------------------------------------------------
# A staff edit would bypass the machine and the services (no guard, no audit row, no
# one-open-session check), so sessions and their events can be looked at, not changed.


class CheckoutEventInline(ViewOnlyAdminMixin, admin.TabularInline[CheckoutEvent, CheckoutSession]):
    model = CheckoutEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "event", "from_state", "to_state", "detail"]
    readonly_fields = ["created_at", "kind", "event", "from_state", "to_state", "detail"]
    ordering = ["created_at", "id"]


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ViewOnlyAdminMixin, admin.ModelAdmin[CheckoutSession]):
    list_display = [
        "public_id_prefix",
        "state",
        "user_type",
        "cart_id",
        "created_at",
        "expires_at",
        "is_open",
    ]
    list_filter = ["state", "is_open", "user_type"]
    search_fields = ["^public_id"]
    date_hierarchy = "created_at"
    raw_id_fields = ["cart", "user", "shipping_method"]
    inlines = [CheckoutEventInline]
    actions = None

    @admin.display(description="public id", ordering="public_id")
    def public_id_prefix(self, session: CheckoutSession) -> str:
        return f"{session.public_id[:10]}…"
