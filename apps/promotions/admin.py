from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from apps.promotions import services
from apps.promotions.models import Coupon, CouponRedemption


class ExpiredFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expired"

    def lookups(self, request: HttpRequest, model_admin: object) -> list[tuple[str, str]]:
        return [("yes", "Expired"), ("no", "Not expired"), ("upcoming", "Not started")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> QuerySet[Coupon]:
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(ends_at__lte=now)
        if self.value() == "no":
            return queryset.filter(ends_at__gt=now)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gt=now)
        return queryset


class CouponAdminForm(forms.ModelForm[Coupon]):
    """usage_count is read-only here, so the model's usage-within-limit check constraint
    is not validated by the form: without this check a limit below the uses already
    counted reached the database as an IntegrityError (a 500)."""

    class Meta:
        model = Coupon
        fields = [
            "code",
            "name",
            "description",
            "type",
            "value",
            "is_active",
            "buy_quantity",
            "get_quantity",
            "minimum_order_amount",
            "maximum_discount",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
            "combinable",
            "applicable_products",
            "excluded_products",
            "applicable_categories",
            "excluded_categories",
            "metadata",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None:
            return cleaned  # a new coupon has no uses yet
        # Admin saves run in one transaction: the row stays locked until the save, so a
        # checkout cannot count a use between this check and the write.
        count = services.lock_usage_count(self.instance.pk)
        if count is None:
            raise forms.ValidationError("This coupon was deleted meanwhile.")
        self.instance.usage_count = count
        limit = cleaned.get("usage_limit")
        if limit is not None and limit < count:
            self.add_error(
                "usage_limit",
                f"This code has already been used {count} times (reserved or redeemed); "
                f"the usage limit cannot be lower than that.",
            )
        return cleaned


class GenerateCodesForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=1000, initial=10)
    code_prefix = forms.CharField(max_length=20, required=False, help_text="Defaults to the code.")


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin[Coupon]):
    form = CouponAdminForm
    list_display = [
        "code",
        "name",
        "type",
        "value",
        "is_active",
        "combinable",
        "starts_at",
        "ends_at",
        "usage",
    ]
    list_filter = ["is_active", "type", ExpiredFilter, "combinable"]
    search_fields = ["code", "name"]
    readonly_fields = ["usage_count", "created_at", "updated_at"]
    filter_horizontal = [
        "applicable_products",
        "excluded_products",
        "applicable_categories",
        "excluded_categories",
    ]
    actions = ["activate", "deactivate", "generate_codes"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "type", "value", "is_active"]}),
        ("Buy X get Y", {"fields": ["buy_quantity", "get_quantity"]}),
        (
            "Limits",
            {
                "fields": [
                    "minimum_order_amount",
                    "maximum_discount",
                    "starts_at",
                    "ends_at",
                    "usage_limit",
                    "usage_count",
                    "per_customer_limit",
                    "combinable",
                ]
            },
        ),
        (
            "What it applies to",
            {
                "fields": [
                    "applicable_products",
                    "excluded_products",
                    "applicable_categories",
                    "excluded_categories",
                ]
            },
        ),
        ("Other", {"fields": ["metadata", "created_at", "updated_at"]}),
    ]

    def save_model(
        self, request: HttpRequest, obj: Coupon, form: forms.ModelForm[Coupon], change: bool
    ) -> None:
        """Never write usage_count from the admin: it belongs to the usage services, and
        a stale copy written back would undo uses counted meanwhile."""
        if not change:
            obj.save()
            return
        fields = [
            f.name
            for f in Coupon._meta.concrete_fields
            if not f.primary_key and f.name not in ("usage_count", "created_at")
        ]
        obj.save(update_fields=fields)

    @admin.display(description="Usage", ordering="usage_count")
    def usage(self, coupon: Coupon) -> str:
        limit = coupon.usage_limit
        return f"{coupon.usage_count} / {limit}" if limit is not None else f"{coupon.usage_count}"

    @admin.action(description="Activate selected coupons")
    def activate(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> None:
        count = services.set_active(queryset, True)
        self.message_user(request, f"{count} coupon(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected coupons")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Coupon]) -> None:
        count = services.set_active(queryset, False)
        self.message_user(request, f"{count} coupon(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Generate single-use codes from this coupon")
    def generate_codes(
        self, request: HttpRequest, queryset: QuerySet[Coupon]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one template coupon.", messages.ERROR)
            return None
        template = queryset.get()
        form = GenerateCodesForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            created = services.generate_single_use_codes(
                template,
                form.cleaned_data["count"],
                prefix=form.cleaned_data["code_prefix"] or None,
            )
            self.message_user(
                request,
                f"Created {len(created)} single-use codes from {template.code}.",
                messages.SUCCESS,
            )
            return None
        return render(
            request,
            "promotions/admin_generate_codes.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Generate codes from {template.code}",
                "form": form,
                "template_coupon": template,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(CouponRedemption)
class CouponRedemptionAdmin(admin.ModelAdmin[CouponRedemption]):
    list_display = ["coupon", "status", "reference", "user", "created_at"]
    list_filter = ["status"]
    search_fields = ["coupon__code", "reference"]
    list_select_related = ["coupon", "user"]
    readonly_fields = ["coupon", "user", "email", "status", "reference", "created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
