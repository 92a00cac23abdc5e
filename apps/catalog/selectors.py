"""Reads of the catalog alone: the category tree, visible products, search and brands.

Pages that also show stock (listings, the product page) read through apps.storefront, which
sits above both catalog and inventory.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from apps.catalog.models import Brand, Category, Product, ProductVariant


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


def active_products() -> QuerySet[Product]:
    """Products a shopper may see: active, in an active category, with something to buy.

    A product whose variants are all inactive (or that has none) cannot be put in a cart,
    so it is left out of every listing, brand facet and the product page alike.
    """
    sellable_variant = ProductVariant.objects.filter(product=OuterRef("pk"), is_active=True)
    return Product.objects.filter(
        Exists(sellable_variant), is_active=True, category__is_active=True
    )


def search_products(products: QuerySet[Product], query: str) -> QuerySet[Product]:
    """Products matching free text; ranked (a `rank` annotation) on PostgreSQL."""
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


def brands_for(category_ids: Sequence[int] | None = None, query: str = "") -> list[Brand]:
    """Brands that have active products in this part of the catalog (the brand filter)."""
    products = active_products()
    if category_ids is not None:
        products = products.filter(category_id__in=category_ids)
    if query:
        products = search_products(products, query)
    return list(Brand.objects.filter(pk__in=products.values("brand_id")).order_by("name"))
