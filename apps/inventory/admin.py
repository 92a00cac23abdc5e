"""Stock admin, and the stock parts of the catalog's product and variant admin.

Inventory sits above catalog, so it extends catalog's ProductAdmin and ProductVariantAdmin
here and registers them again: catalog's admin never imports inventory.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from apps.catalog.admin import ProductAdmin, ProductVariantAdmin
from apps.catalog.models import Product, ProductVariant
from apps.inventory import services
from apps.inventory.errors import InvalidStockChange
from apps.inventory.models import StockItem, StockMovement


class StockLevelFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "level"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("low", "Low stock"), ("out", "Out of stock"), ("backorder", "Backorderable")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[StockItem]) -> QuerySet[StockItem]:
        tracked = queryset.filter(track_quantity=True)
        if self.value() == "low":
            return tracked.filter(
                on_hand__gt=F("reserved"),
                on_hand__lte=F("reserved") + F("low_stock_threshold"),
            )
        if self.value() == "out":
            return tracked.filter(on_hand__lte=F("reserved"))
        if self.value() == "backorder":
            return queryset.filter(allow_backorder=True)
        return queryset


MAX_COUNT = 1_000_000_000  # below the database integer limit, far above any real count


class StockItemForm(forms.ModelForm[StockItem]):
    """Staff edit the flags and may enter a count; `reserved` is never a form field.

    Checkouts change `reserved` concurrently, so the admin saves through
    `inventory.services.update_stock_settings` (row lock, update_fields, ledger row), and
    levels the database would refuse are reported here as a form error, not a 500.
    """

    counted = forms.IntegerField(
        min_value=0,
        max_value=MAX_COUNT,
        required=False,
        help_text="Counted units on hand (records an adjustment in the ledger).",
    )

    class Meta:
        model = StockItem
        fields = ["allow_backorder", "track_quantity", "low_stock_threshold"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is None or self.errors:
            return cleaned
        counted = cleaned.get("counted")
        try:
            services.check_stock_levels(
                on_hand=self.instance.on_hand if counted is None else counted,
                reserved=self.instance.reserved,
                track_quantity=bool(cleaned.get("track_quantity")),
                allow_backorder=bool(cleaned.get("allow_backorder")),
            )
        except InvalidStockChange as exc:
            raise forms.ValidationError(f"Not saved: {exc}.") from exc
        return cleaned


def save_stock_form(request: HttpRequest, form: forms.ModelForm[StockItem]) -> None:
    """Apply a validated StockItemForm through the service (never `form.save()`)."""
    data = form.cleaned_data
    try:
        services.update_stock_settings(
            form.instance.pk,
            allow_backorder=bool(data.get("allow_backorder")),
            track_quantity=bool(data.get("track_quantity")),
            low_stock_threshold=int(data.get("low_stock_threshold") or 0),
            counted=data.get("counted"),
            note=f"stock count by staff #{request.user.pk}",
        )
    except InvalidStockChange as exc:  # a checkout reserved units since the form was checked
        messages.error(request, f"Stock of {form.instance} not changed: {exc}.")
    form.instance.refresh_from_db()


class StockInline(admin.StackedInline[StockItem, Any]):
    """Stock on the variant page; created with the variant, edited like the stock page."""

    model = StockItem
    form = StockItemForm
    extra = 0
    can_delete = False
    readonly_fields = ["on_hand", "reserved"]
    fields = [
        "on_hand",
        "reserved",
        "counted",
        "allow_backorder",
        "track_quantity",
        "low_stock_threshold",
    ]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MovementInline(admin.TabularInline[StockMovement, StockItem]):
    model = StockMovement
    extra = 0
    can_delete = False
    max_num = 0
    MOVEMENT_FIELDS: tuple[str, ...] = (
        "created_at",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "reference",
        "note",
    )
    fields = MOVEMENT_FIELDS
    readonly_fields = MOVEMENT_FIELDS
    ordering = ["-created_at"]


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin[StockItem]):
    form = StockItemForm
    list_display = [
        "sku",
        "product_name",
        "on_hand",
        "reserved",
        "available_units",
        "allow_backorder",
        "track_quantity",
        "low_stock_threshold",
    ]
    list_filter = [StockLevelFilter, "allow_backorder", "track_quantity"]
    list_select_related = ["variant__product"]
    search_fields = ["variant__sku", "variant__product__name"]
    readonly_fields = ["variant", "on_hand", "reserved"]
    inlines = [MovementInline]

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj: StockItem) -> str:
        return obj.variant.sku

    @admin.display(description="Product", ordering="variant__product__name")
    def product_name(self, obj: StockItem) -> str:
        return obj.variant.product.name

    @admin.display(description="Available")
    def available_units(self, obj: StockItem) -> int:
        return obj.available

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Stock rows are created with their variant (one per variant), never on their own."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Deleting a stock row would drop its ledger and open reservations."""
        return False

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> StockItem | None:
        """On a save, lock the row for the request's transaction: the form checks levels
        against the reserved count a checkout cannot change until the save commits."""
        found = super().get_object(request, object_id, from_field)
        if found is None or request.method != "POST":
            return found
        return StockItem.objects.select_for_update().get(pk=found.pk)

    def save_model(
        self, request: HttpRequest, obj: StockItem, form: forms.ModelForm[StockItem], change: bool
    ) -> None:
        save_stock_form(request, form)


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin[StockMovement]):
    list_display = [
        "created_at",
        "stock_item",
        "kind",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "reference",
    ]
    list_filter = ["kind"]
    list_select_related = ["stock_item__variant__product"]
    search_fields = ["stock_item__variant__sku", "reference"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StockedProductAdmin(ProductAdmin):
    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Product],
        formsets: list[BaseInlineFormSet[Any, Product, Any]],
        change: bool,
    ) -> None:
        """Variants added here get their (empty) stock row, editable on the variant page."""
        super().save_related(request, form, formsets, change)
        for variant in form.instance.variants.filter(stock__isnull=True):
            services.ensure_stock_item(variant)


class StockedVariantAdmin(ProductVariantAdmin):
    inlines = [*ProductVariantAdmin.inlines, StockInline]

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm[ProductVariant],
        formset: BaseInlineFormSet[Any, ProductVariant, Any],
        change: bool,
    ) -> None:
        """Stock goes through the inventory service, so `reserved` is never written here."""
        if formset.model is not StockItem:
            super().save_formset(request, form, formset, change)
            return
        changed = [f for f in formset.forms if f.instance.pk is not None and f.has_changed()]
        for stock_form in changed:
            save_stock_form(request, stock_form)
        # What formset.save() would have recorded, for the admin's change message.
        formset.new_objects, formset.deleted_objects = [], []
        formset.changed_objects = [(f.instance, f.changed_data) for f in changed]

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm[ProductVariant],
        formsets: list[BaseInlineFormSet[Any, ProductVariant, Any]],
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)
        services.ensure_stock_item(form.instance)


# Importing apps.catalog.admin above registered catalog's classes; these replace them.
admin.site.unregister(Product)
admin.site.register(Product, StockedProductAdmin)
admin.site.unregister(ProductVariant)
admin.site.register(ProductVariant, StockedVariantAdmin)
