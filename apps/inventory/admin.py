from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest

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


class StockItemForm(forms.ModelForm[StockItem]):
    """on_hand is edited through a stock count so every change lands in the ledger."""

    counted = forms.IntegerField(
        min_value=0, required=False, help_text="Counted units on hand (records an adjustment)."
    )

    class Meta:
        model = StockItem
        fields = ["allow_backorder", "track_quantity", "low_stock_threshold"]


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

    def save_model(
        self, request: HttpRequest, obj: StockItem, form: forms.ModelForm[StockItem], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        counted = form.cleaned_data.get("counted")
        if counted is not None:
            try:
                services.set_on_hand(
                    obj.pk, counted, note=f"stock count by staff #{request.user.pk}"
                )
            except InvalidStockChange as exc:
                messages.error(request, f"Stock not changed: {exc}")


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
