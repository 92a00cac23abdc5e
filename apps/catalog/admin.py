from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.catalog.models import Brand, Category, Product, ProductImage, ProductVariant
from apps.inventory.models import StockItem


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["name", "parent", "position", "is_active", "is_featured"]
    list_editable = ["position", "is_active", "is_featured"]
    list_filter = ["is_active", "is_featured", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin[Brand]):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class StockInline(admin.StackedInline[StockItem, ProductVariant]):
    model = StockItem
    extra = 0
    can_delete = False
    readonly_fields = ["on_hand", "reserved"]
    fields = ["on_hand", "reserved", "allow_backorder", "track_quantity", "low_stock_threshold"]


class VariantInline(admin.TabularInline[ProductVariant, Product]):
    model = ProductVariant
    extra = 0
    fields = ["sku", "name", "options", "price_override", "position", "is_active"]
    show_change_link = True


class ImageInline(admin.TabularInline[ProductImage, Product]):
    model = ProductImage
    extra = 0
    fields = ["image", "alt_text", "variant", "position", "is_primary"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductImage]:
        return super().get_queryset(request).select_related("variant")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = [
        "name",
        "category",
        "brand",
        "base_price",
        "currency",
        "is_active",
        "is_featured",
    ]
    list_filter = ["is_active", "is_featured", "category", "brand", "taxable", "requires_shipping"]
    list_select_related = ["category", "brand"]
    list_editable = ["is_active", "is_featured"]
    search_fields = ["name", "slug", "variants__sku"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["category", "brand"]
    inlines = [VariantInline, ImageInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "brand", "description"]}),
        ("Price", {"fields": ["base_price", "currency", "taxable"]}),
        (
            "Shipping",
            {
                "fields": [
                    "requires_shipping",
                    "weight_kg",
                    ("length", "width", "height", "dimension_unit"),
                ]
            },
        ),
        ("Visibility", {"fields": ["is_active", "is_featured"]}),
        ("SEO", {"fields": ["seo_title", "seo_description"], "classes": ["collapse"]}),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Product], search_term: str
    ) -> tuple[QuerySet[Product], bool]:
        results, _ = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin[ProductVariant]):
    list_display = ["sku", "product", "name", "price_override", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["product"]
    search_fields = ["sku", "product__name"]
    autocomplete_fields = ["product"]
    inlines = [StockInline]
