"""Reads of the catalog for the storefront.

Every page issues a fixed number of queries whatever its size: listings annotate the
lowest price and in-stock flag in SQL and prefetch primary images in one query.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from apps.catalog.models import Brand, Category, Product, ProductImage, ProductVariant
from apps.inventory.models import StockItem


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


@dataclass
class CategoryNode:
    category: Category
    children: list["CategoryNode"] = field(default_factory=list)


@dataclass(frozen=True)
class CategoryTree:
    """All active categories, loaded in one query, navigable in memory."""

    by_id: dict[int, Category]
    children: dict[int | None, list[Category]]

    def ancestors(self, category: Category) -> list[Category]:
        """Root first, the category itself last."""
        chain: list[Category] = []
        current: Category | None = category
        seen: set[int] = set()
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            chain.append(current)
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return list(reversed(chain))

    def descendant_ids(self, category: Category) -> list[int]:
        ids: list[int] = []
        stack = [category.pk]
        while stack:
            pk = stack.pop()
            if pk in ids:
                continue
            ids.append(pk)
            stack.extend(c.pk for c in self.children.get(pk, []))
        return ids


def category_tree() -> CategoryTree:
    categories = list(Category.objects.filter(is_active=True))
    children: dict[int | None, list[Category]] = {}
    for cat in categories:
        children.setdefault(cat.parent_id, []).append(cat)
    return CategoryTree(by_id={c.pk: c for c in categories}, children=children)


def navigation_categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True, parent__isnull=True))


def featured_categories(limit: int = 6) -> list[Category]:
    return list(Category.objects.filter(is_active=True, is_featured=True)[:limit])


def _sellable_stock() -> QuerySet[StockItem]:
    return StockItem.objects.filter(
        Q(track_quantity=False) | Q(allow_backorder=True) | Q(on_hand__gt=F("reserved"))
    )


def _with_listing_data(products: QuerySet[Product]) -> QuerySet[Product]:
    """Lowest active variant price, in-stock flag, brand/category and the primary image."""
    variant_prices = (
        ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
        .annotate(effective=Coalesce("price_override", "product__base_price"))
        .values("effective")
    )
    in_stock = _sellable_stock().filter(variant__product=OuterRef("pk"), variant__is_active=True)
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


def active_products() -> QuerySet[Product]:
    """Products a shopper may see: active, in an active category, with something to buy.

    A product whose variants are all inactive (or that has none) cannot be put in a cart,
    so it is left out of every listing, brand facet and the product page alike.
    """
    sellable_variant = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
    return Product.objects.filter(
        Exists(sellable_variant), is_active=True, category__is_active=True
    )


def featured_products(limit: int = 8) -> list[Product]:
    return list(_with_listing_data(active_products().filter(is_featured=True))[:limit])


def _search(products: QuerySet[Product], query: str) -> QuerySet[Product]:
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("name", weight="A", config="english")
            + SearchVector("brand__name", weight="B", config="english")
            + SearchVector("description", weight="C", config="english")
        )
        search_query = SearchQuery(query, search_type="websearch", config="english")
        prefix_hits = Q(name__icontains=query) | Q(brand__name__iexact=query)
        return products.annotate(search=vector, rank=SearchRank(vector, search_query)).filter(
            Q(search=search_query) | prefix_hits
        )
    # SQLite (the embedded demo): a plain substring match is enough.
    return products.filter(
        Q(name__icontains=query) | Q(description__icontains=query) | Q(brand__name__icontains=query)
    )


def product_listing(
    filters: ListingFilters, *, category_ids: Sequence[int] | None = None
) -> QuerySet[Product]:
    products = active_products()
    if category_ids is not None:
        products = products.filter(category_id__in=category_ids)
    searching = bool(filters.query)
    if searching:
        products = _search(products, filters.query)
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


def brands_for(category_ids: Sequence[int] | None = None, query: str = "") -> list[Brand]:
    """Brands that have active products in this part of the catalog (the brand filter)."""
    products = active_products()
    if category_ids is not None:
        products = products.filter(category_id__in=category_ids)
    if query:
        products = _search(products, query)
    return list(Brand.objects.filter(pk__in=products.values("brand_id")).order_by("name"))


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
