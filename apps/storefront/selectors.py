"""Reads for the storefront pages: catalog data joined with inventory's stock.

Every page issues a fixed number of queries whatever its size: listings annotate the
lowest price and in-stock flag in SQL and prefetch primary images in one query.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from apps.catalog.models import Product, ProductImage, ProductVariant
from apps.catalog.selectors import active_products, search_products
from apps.inventory.selectors import sellable_stock


class Sort(StrEnum):
    RELEVANCE = "relevance"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    NEWEST = "newest"
    NAME = "name"


SORT_LABELS: dict[Sort, str] = {
    Sort.RELEVANCE: "Relevance",
    Sort.PRICE_ASC: "Price: low to high",
    Sort.PRICE_DESC: "Price: high to low",
    Sort.NEWEST: "Newest",
    Sort.NAME: "Name",
}


@dataclass(frozen=True)
class ListingFilters:
    query: str = ""
    brands: Sequence[str] = ()
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    in_stock_only: bool = False
    sort: Sort = Sort.RELEVANCE


def _with_listing_data(products: QuerySet[Product]) -> QuerySet[Product]:
    """Lowest active variant price, in-stock flag, brand/category and the primary image."""
    variant_prices = (
        ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
        .annotate(effective=Coalesce("price_override", "product__base_price"))
        .values("effective")
    )
    in_stock = sellable_stock().filter(variant__product=OuterRef("pk"), variant__is_active=True)
    return (
        products.select_related("brand", "category")
        .annotate(
            min_price=Subquery(variant_prices.order_by("effective")[:1]),
            max_price=Subquery(variant_prices.order_by("-effective")[:1]),
            in_stock=Exists(in_stock),
        )
        .prefetch_related(
            Prefetch(
                "images",
                queryset=ProductImage.objects.filter(is_primary=True),
                to_attr="primary_images",
            )
        )
    )


def featured_products(limit: int = 8) -> list[Product]:
    return list(_with_listing_data(active_products().filter(is_featured=True))[:limit])


def product_listing(
    filters: ListingFilters, *, category_ids: Sequence[int] | None = None
) -> QuerySet[Product]:
    products = active_products()
    if category_ids is not None:
        products = products.filter(category_id__in=category_ids)
    searching = bool(filters.query)
    if searching:
        products = search_products(products, filters.query)
    if filters.brands:
        products = products.filter(brand__slug__in=filters.brands)
    products = _with_listing_data(products)
    if filters.price_min is not None:
        products = products.filter(Q(min_price__gte=filters.price_min))
    if filters.price_max is not None:
        products = products.filter(Q(min_price__lte=filters.price_max))
    if filters.in_stock_only:
        products = products.filter(Q(in_stock=True))
    return products.order_by(*_ordering(filters.sort, searching=searching))


def _ordering(sort: Sort, *, searching: bool) -> list[str]:
    if sort is Sort.PRICE_ASC:
        return ["min_price", "name", "pk"]
    if sort is Sort.PRICE_DESC:
        return ["-min_price", "name", "pk"]
    if sort is Sort.NEWEST:
        return ["-created_at", "-pk"]
    if sort is Sort.NAME:
        return ["name", "pk"]
    if searching and connection.vendor == "postgresql":
        return ["-rank", "name", "pk"]
    return ["-is_featured", "name", "pk"]


def page_size() -> int:
    return int(settings.CATALOG_PAGE_SIZE)


def product_detail(slug: str) -> Product | None:
    """An active product with its active variants, their stock, and images (3 queries)."""
    variants = ProductVariant.objects.filter(is_active=True).select_related("stock")
    return (
        active_products()
        .select_related("brand", "category")
        .prefetch_related(
            Prefetch("variants", queryset=variants, to_attr="active_variants"),
            "images",
        )
        .filter(slug=slug)
        .first()
    )
