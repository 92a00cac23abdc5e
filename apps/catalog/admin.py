from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from apps.catalog.models import Brand, Category, Product, ProductImage, ProductVariant


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


DEACTIVATE_VARIANT_HELP = (
    "Variants are never deleted: their stock, reservations and ledger are kept. "
    "Untick to deactivate a variant and take it off the shop."
)
DEACTIVATE_PRODUCT_MESSAGE = (
    "Products with variants are never deleted: their stock, reservations and ledger are "
    "kept. Deactivate the product instead (untick \u201cIs active\u201d) to take it off the shop."
)


class VariantInline(admin.TabularInline[ProductVariant, Product]):
    model = ProductVariant
    extra = 0
    fields = ["sku", "name", "options", "price_override", "position", "is_active"]
    show_change_link = True
    # A deleted variant would take its stock row, reservations and ledger with it (the
    # database refuses that too, PROTECT); staff deactivate variants instead.
    can_delete = False

    def get_formset(
        self, request: HttpRequest, obj: Product | None = None, **kwargs: Any
    ) -> type[BaseInlineFormSet[ProductVariant, Product, Any]]:
        kwargs.setdefault("help_texts", {"is_active": DEACTIVATE_VARIANT_HELP})
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductVariant]:
        return super().get_queryset(request).select_related("product")  # for __str__


class ImageInline(admin.TabularInline[ProductImage, Product]):
    model = ProductImage
    extra = 0
    fields = ["image", "alt_text", "variant", "position", "is_primary"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProductImage]:
        return super().get_queryset(request).select_related("variant")

    def get_formset(
        self, request: HttpRequest, obj: Product | None = None, **kwargs: Any
    ) -> type[BaseInlineFormSet[ProductImage, Product, Any]]:
        """Offer only this product's variants, loaded once for all rows.

        The default select lists every variant in the shop and queries them again for each
        image row; here the choices are one query, shared by the rows (a fresh form class
        per request, so nothing leaks between requests). Validation uses the same queryset,
        so an image cannot point at another product's variant.
        """
        formset = super().get_formset(request, obj, **kwargs)
        field = formset.form.base_fields["variant"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            ProductVariant.objects.filter(product=obj).select_related("product")
            if obj is not None
            else ProductVariant.objects.none()
        )
        field.choices = list(field.iterator(field))
        return formset


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    """Inventory re-registers this to give new variants their stock row (apps.inventory.admin)."""

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

    def get_deleted_objects(
        self, objs: Sequence[Product] | QuerySet[Product], request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """A product with variants is refused (delete page and bulk action alike), saying
        why: deleting it would cascade to its variants' stock history and cart lines."""
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        variants = list(
            ProductVariant.objects.filter(product__in=objs).select_related("product")[:50]
        )
        if variants:
            self.message_user(request, DEACTIVATE_PRODUCT_MESSAGE, messages.ERROR)
            protected = list(protected) or [f"variant {v.sku} of {v.product}" for v in variants]
        return to_delete, counts, perms_needed, protected


@admin.register(ProductVariant)
class ProductVariantAdmin(admin.ModelAdmin[ProductVariant]):
    """Inventory re-registers this with the variant's stock inline (apps.inventory.admin)."""

    list_display = ["sku", "product", "name", "price_override", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["product"]
    search_fields = ["sku", "product__name"]
    autocomplete_fields = ["product"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        """Variants are deactivated, never deleted: their stock history is kept."""
        return False
