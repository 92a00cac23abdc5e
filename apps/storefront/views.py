"""Storefront pages. Thin: parse the query, call selectors, render."""

from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.catalog.models import Category, Product, ProductImage, ProductVariant
from apps.catalog.selectors import brands_for, category_tree, featured_categories
from apps.catalog.variants import option_axes, select_variant
from apps.core.templatetags.money import money
from apps.inventory.availability import StockStatus
from apps.inventory.selectors import status_of
from apps.storefront import selectors
from apps.storefront.forms import ListingForm


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "storefront/home.html",
        {
            "featured_categories": featured_categories(),
            "featured_products": selectors.featured_products(),
        },
    )


def _listing(
    request: HttpRequest,
    *,
    template: str,
    category: Category | None,
    category_ids: list[int] | None,
    extra: dict[str, object],
) -> HttpResponse:
    """Every query-string value comes from the cleaned ListingForm, never request.GET."""
    form = ListingForm(request.GET)
    form.set_brands(brands_for(category_ids, form.search_query()))
    filters = form.filters()
    paginator = Paginator(
        selectors.product_listing(filters, category_ids=category_ids), selectors.page_size()
    )
    page: Page[Product] = paginator.get_page(form.page_number())
    context = {
        "category": category,
        "form": form,
        "filters": filters,
        "query": filters.query,
        "page_obj": page,
        "products": page.object_list,
        "base_query": form.query_string(),
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2),
        **extra,
    }
    return render(request, template, context)


def category(request: HttpRequest, slug: str) -> HttpResponse:
    tree = category_tree()
    found = next((c for c in tree.by_id.values() if c.slug == slug), None)
    if found is None:
        raise Http404("No such category")
    return _listing(
        request,
        template="storefront/category.html",
        category=found,
        category_ids=tree.descendant_ids(found),
        extra={
            "breadcrumbs": tree.ancestors(found),
            "subcategories": tree.children.get(found.pk, []),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    return _listing(
        request,
        template="storefront/search.html",
        category=None,
        category_ids=None,
        extra={},
    )


MAX_LINE_QUANTITY = 99  # the add-to-cart field's ceiling (as in storefront/_add_to_cart.html)


def _images_of(variant: ProductVariant, images: list[ProductImage]) -> list[ProductImage]:
    """A variant's own images first, then the product's general ones (all if neither)."""
    own = [i for i in images if i.variant_id == variant.pk]
    return (own + [i for i in images if i.variant_id is None]) or images


def _picker_data(
    product: Product,
    variants: list[ProductVariant],
    statuses: dict[int, StockStatus],
    images: list[ProductImage],
) -> list[dict[str, object]]:
    """What variant-picker.js needs to show a choice in place (price, stock, SKU, images)."""
    return [
        {
            "images": [
                {"src": i.image.url, "alt": i.alt_text, "width": i.width, "height": i.height}
                for i in _images_of(v, images)
            ],
            "id": v.pk,
            "options": v.option_map(),
            "sku": v.sku,
            "name": v.name,
            "price": money(v.price, product.currency),
            "stock_state": str(statuses[v.pk].state),
            "stock_label": statuses[v.pk].label,
            "purchasable": statuses[v.pk].purchasable,
            "max_quantity": statuses[v.pk].limit(MAX_LINE_QUANTITY),
        }
        for v in variants
    ]


def product(request: HttpRequest, slug: str) -> HttpResponse:
    found = selectors.product_detail(slug)
    if found is None:
        raise Http404("No such product")
    variants = list(getattr(found, "active_variants", []))
    if not variants:
        raise Http404("This product has nothing for sale")
    chosen, matched = select_variant(variants, request.GET)
    assert chosen is not None  # variants is non-empty
    images = list(found.images.all())
    tree = category_tree()
    statuses = {v.pk: status_of(getattr(v, "stock", None)) for v in variants}
    return render(
        request,
        "storefront/product.html",
        {
            "picker_data": _picker_data(found, variants, statuses, images),
            "purchasable_stock": next((s for s in statuses.values() if s.purchasable), None),
            "unavailable_stock": status_of(None),
            "product": found,
            "variants": variants,
            "variant": chosen,
            "variant_matched": matched,
            "axes": option_axes(variants),
            "selected_options": chosen.option_map(),
            "stock": statuses[chosen.pk],
            "images": _images_of(chosen, images),
            "breadcrumbs": tree.ancestors(found.category),
        },
    )
