"""Storefront pages on PostgreSQL: listing, filters, sort, search, pagination, detail."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.catalog.models import Product, ProductVariant
from apps.inventory.models import StockItem
from tests.factories import make_brand, make_category, make_product

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [p.name for p in response.context["products"]]


def test_home_shows_featured_categories_and_products(client: Client) -> None:
    cat = make_category("Camping", is_featured=True)
    make_product("Dome Tent", category=cat, is_featured=True)
    make_product("Plain Stake", category=cat)
    response = client.get("/")
    assert response.status_code == 200
    assert [c.name for c in response.context["featured_categories"]] == ["Camping"]
    assert [p.name for p in response.context["featured_products"]] == ["Dome Tent"]
    assert b"Dome Tent" in response.content


def test_category_lists_its_own_and_descendant_products_only(client: Client) -> None:
    clothing = make_category("Clothing")
    jackets = make_category("Jackets", parent=clothing)
    other = make_category("Kitchen")
    make_product("Parka", category=jackets)
    make_product("Scarf", category=clothing)
    make_product("Mug", category=other)
    make_product("Hidden", category=clothing, is_active=False)
    response = client.get(clothing.get_absolute_url())
    assert response.status_code == 200
    assert sorted(names(response)) == ["Parka", "Scarf"]
    assert [c.name for c in response.context["subcategories"]] == ["Jackets"]
    assert names(client.get(jackets.get_absolute_url())) == ["Parka"]
    crumbs = client.get(jackets.get_absolute_url()).context["breadcrumbs"]
    assert [c.name for c in crumbs] == ["Clothing", "Jackets"]


def test_unknown_or_inactive_category_is_404(client: Client) -> None:
    make_category("Gone", slug="gone", is_active=False)
    assert client.get("/c/gone/").status_code == 404
    assert client.get("/c/never-existed/").status_code == 404


def test_brand_filter(client: Client) -> None:
    cat = make_category()
    north, south = make_brand("North"), make_brand("South")
    make_product("A", category=cat, brand=north)
    make_product("B", category=cat, brand=south)
    make_product("C", category=cat)
    response = client.get(cat.get_absolute_url(), {"brand": north.slug})
    assert names(response) == ["A"]
    both = client.get(cat.get_absolute_url(), {"brand": [north.slug, south.slug]})
    assert sorted(names(both)) == ["A", "B"]
    assert response.context["form"].fields["brand"].choices == [
        (north.slug, "North"),
        (south.slug, "South"),
    ]


def test_price_range_uses_the_lowest_variant_price(client: Client) -> None:
    cat = make_category()
    make_product("Cheap", category=cat, price="5.00")
    make_product("Mid", category=cat, price="50.00")
    make_product(
        "Range",
        category=cat,
        price="100.00",
        variants=[
            {"options": [{"name": "Size", "value": "S"}], "price_override": "30.00"},
            {"options": [{"name": "Size", "value": "L"}]},
        ],
    )
    response = client.get(cat.get_absolute_url(), {"price_min": "20", "price_max": "60"})
    assert sorted(names(response)) == ["Mid", "Range"]
    product = next(p for p in response.context["products"] if p.name == "Range")
    assert product.min_price == Decimal("30.00")
    assert product.max_price == Decimal("100.00")
    assert b"From $30.00" in response.content


def test_in_stock_only_counts_backorder_and_reservations(client: Client) -> None:
    cat = make_category()
    make_product("Plenty", category=cat, stock=5)
    make_product("None", category=cat, stock=0)
    make_product("Backorder", category=cat, stock=0, allow_backorder=True)
    make_product("Untracked", category=cat, stock=0, track_quantity=False)
    reserved = make_product("AllReserved", category=cat, stock=2)
    StockItem.objects.filter(variant__product=reserved).update(reserved=2)
    response = client.get(cat.get_absolute_url(), {"in_stock": "on"})
    assert sorted(names(response)) == ["Backorder", "Plenty", "Untracked"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price_asc", ["Bravo", "Alpha", "Charlie"]),
        ("price_desc", ["Charlie", "Alpha", "Bravo"]),
        ("name", ["Alpha", "Bravo", "Charlie"]),
        ("newest", ["Charlie", "Bravo", "Alpha"]),
    ],
)
def test_sorting(client: Client, sort: str, expected: list[str]) -> None:
    cat = make_category()
    make_product("Alpha", category=cat, price="20.00")
    make_product("Bravo", category=cat, price="10.00")
    make_product("Charlie", category=cat, price="30.00")
    assert names(client.get(cat.get_absolute_url(), {"sort": sort})) == expected


def test_full_text_search_ranks_name_matches_first(client: Client) -> None:
    cat = make_category()
    make_product("Hiking Boot", category=cat, description="Leather upper.")
    make_product("Wool Socks", category=cat, description="Great inside a hiking boot.")
    make_product("Coffee Mug", category=cat, description="Enamel.")
    response = client.get(reverse("catalog:search"), {"q": "hiking boots"})
    assert response.status_code == 200
    assert names(response) == ["Hiking Boot", "Wool Socks"]


def test_search_matches_brand_names(client: Client) -> None:
    brand = make_brand("Kestrel")
    make_product("Trail Cap", brand=brand)
    make_product("Other Cap")
    assert names(client.get(reverse("catalog:search"), {"q": "kestrel"})) == ["Trail Cap"]


def test_search_without_query_lists_everything(client: Client) -> None:
    make_product("One")
    make_product("Two")
    assert sorted(names(client.get(reverse("catalog:search")))) == ["One", "Two"]


def test_pagination_24_per_page(client: Client) -> None:
    cat = make_category()
    for i in range(30):
        make_product(f"Item {i:02d}", category=cat, image=False)
    first = client.get(cat.get_absolute_url(), {"sort": "name"})
    assert len(first.context["products"]) == 24
    second = client.get(cat.get_absolute_url(), {"sort": "name", "page": "2"})
    assert names(second) == [f"Item {i:02d}" for i in range(24, 30)]
    assert b'rel="prev"' in second.content
    assert b"sort=name&amp;page=1" in second.content
    # Out-of-range and junk page numbers fall back to a real page, never a 500.
    assert client.get(cat.get_absolute_url(), {"page": "999"}).status_code == 200
    assert client.get(cat.get_absolute_url(), {"page": "x"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"price_min": "abc"}, "price_min"),
        ({"price_min": "-5"}, "price_min"),
        ({"sort": "drop table"}, "sort"),
        ({"brand": "no-such-brand"}, "brand"),
        ({"q": "x" * 500}, "q"),
        ({"price_max": "1e400"}, "price_max"),
    ],
)
def test_bad_filter_input_is_reported_and_ignored(
    client: Client, params: dict[str, str], field: str
) -> None:
    cat = make_category()
    make_product("Still Listed", category=cat)
    response = client.get(cat.get_absolute_url(), params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert names(response) == ["Still Listed"]


def test_bad_price_shows_a_message(client: Client) -> None:
    cat = make_category()
    response = client.get(cat.get_absolute_url(), {"price_min": "50", "price_max": "10"})
    assert b"The maximum price must not be below the minimum." in response.content


def test_product_detail_with_variant_picker(client: Client) -> None:
    product = make_product(
        "Tee",
        price="20.00",
        variants=[
            {
                "options": [{"name": "Size", "value": "S"}, {"name": "Color", "value": "Navy"}],
                "stock": 10,
            },
            {
                "options": [{"name": "Size", "value": "L"}, {"name": "Color", "value": "Navy"}],
                "stock": 2,
                "price_override": "24.00",
            },
            {
                "options": [{"name": "Size", "value": "L"}, {"name": "Color", "value": "Sand"}],
                "stock": 0,
            },
        ],
    )
    url = product.get_absolute_url()
    default = client.get(url)
    assert default.context["variant"].name == "S / Navy"
    assert b"$20.00" in default.content
    assert b"In stock" in default.content

    low = client.get(url, {"o_Size": "L", "o_Color": "Navy"})
    assert low.context["variant"].name == "L / Navy"
    assert b"$24.00" in low.content
    assert b"Only 2 left" in low.content

    sold_out = client.get(url, {"o_Size": "L", "o_Color": "Sand"})
    assert b"Out of stock" in sold_out.content

    missing = client.get(url, {"o_Size": "S", "o_Color": "Sand"})
    assert missing.status_code == 200
    assert b"That combination is not available" in missing.content
    assert [a.name for a in default.context["axes"]] == ["Size", "Color"]


def test_backorder_label(client: Client) -> None:
    product = make_product("Preorder", stock=0, allow_backorder=True)
    assert b"Available on backorder" in client.get(product.get_absolute_url()).content


def test_inactive_product_and_product_without_variants_are_404(client: Client) -> None:
    hidden = make_product("Hidden", is_active=False)
    assert client.get(hidden.get_absolute_url()).status_code == 404
    empty = make_product("Empty", variants=[{"is_active": False}])
    assert client.get(empty.get_absolute_url()).status_code == 404
    inactive_cat = make_category(is_active=False)
    orphan = make_product("Orphan", category=inactive_cat)
    assert client.get(orphan.get_absolute_url()).status_code == 404
    assert Product.objects.count() == 3


def test_product_images_are_served(client: Client) -> None:
    product = make_product("Pictured")
    image = product.images.get()
    response = client.get(image.image.url)
    assert response.status_code == 200
    assert b"<svg" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_404_page_is_the_shop_page(client: Client) -> None:
    response = client.get("/p/does-not-exist/")
    assert response.status_code == 404
    assert b"find that page" in response.content


# --- Hostile query strings (e.g. /search/?q=a%00b) are a 4xx, never a 500 ----------------

FUZZ_PARAMS: list[dict[str, str]] = [
    {"q": "a\x00b"},
    {"q": "\x00"},
    {"q": "tent\x07\x1b[31m\r\n"},
    {"q": "x" * 10_000},
    {"q": "Zelt für 2 Personen ☕ 帐篷 \U0001f3d5"},
    {"q": '"unterminated -or OR & | ! :* ('},
    {"page": "abc"},
    {"page": "99999"},
    {"page": "-1"},
    {"page": "\x00"},
    {"price_min": "-1"},
    {"price_min": "abc"},
    {"price_min": "NaN"},
    {"price_max": "1e400"},
    {"price_min": "50", "price_max": "10"},
    {"sort": "bogus"},
    {"sort": "\x00"},
    {"brand": "nonexistent"},
    {"brand": "a\x00b"},
    {"in_stock": "\x00"},
    {"q": "a\x00b", "brand": "x\x00", "page": "abc", "sort": "bogus", "price_min": "-1"},
]


@pytest.mark.parametrize("params", FUZZ_PARAMS)
@pytest.mark.parametrize("where", ["home", "category", "search"])
def test_hostile_query_strings_never_500(
    client: Client, where: str, params: dict[str, str]
) -> None:
    cat = make_category(slug="fuzz")
    make_product("Tent", category=cat, brand=make_brand("Kestrel"))
    url = {"home": "/", "category": cat.get_absolute_url(), "search": "/search/"}[where]
    response = client.get(url, params)
    if any("\x00" in value for value in params.values()):
        assert response.status_code == 400  # RejectNulMiddleware, before any view
        return
    assert response.status_code == 200
    if where != "home":
        assert response.context["products"] is not None


def test_nul_is_refused_and_control_characters_are_stripped_from_the_search(
    client: Client,
) -> None:
    make_product("Tent", brand=make_brand("Kestrel"))
    refused = client.get(reverse("catalog:search"), {"q": "te\x00nt\x07"})
    assert refused.status_code == 400  # RejectNulMiddleware
    assert "\x00" not in refused.content.decode()
    response = client.get(reverse("catalog:search"), {"q": "te\x1bnt\x07"})
    assert response.status_code == 200
    assert response.context["filters"].query == "te nt"
    exact = client.get(reverse("catalog:search"), {"q": "\x1ftent\x1f"})
    assert exact.context["filters"].query == "tent"
    assert names(exact) == ["Tent"]
    assert "q" not in exact.context["form"].errors


def test_an_overlong_search_is_reported_and_ignored(client: Client) -> None:
    make_product("Tent")
    response = client.get(reverse("catalog:search"), {"q": "tent " * 2000})
    assert response.status_code == 200
    assert "q" in response.context["form"].errors
    assert response.context["filters"].query == ""
    assert names(response) == ["Tent"]


def test_bad_filters_are_shown_as_form_errors(client: Client) -> None:
    cat = make_category()
    make_product("Tent", category=cat)
    response = client.get(cat.get_absolute_url(), {"price_min": "-1", "sort": "bogus"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"price_min", "sort"}
    assert b'aria-invalid="true"' in response.content
    assert names(response) == ["Tent"]


def test_pagination_links_carry_only_valid_filters(client: Client) -> None:
    cat = make_category()
    for i in range(26):
        make_product(f"Item {i:02d}", category=cat, image=False)
    response = client.get(
        cat.get_absolute_url(), {"sort": "name", "price_min": "abc", "junk": "<x>", "page": "1"}
    )
    html = response.content.decode()
    pagination = html[html.index('<nav class="pagination"') :]
    pagination = pagination[: pagination.index("</nav>")]
    assert "?sort=name&amp;page=2" in pagination
    assert "junk" not in pagination
    assert "price_min" not in pagination


# --- Products without an active variant cannot be bought, so they are never listed --------


def test_products_without_an_active_variant_are_not_listed_anywhere(client: Client) -> None:
    cat = make_category(is_featured=True)
    brand, ghost_brand = make_brand("Kestrel"), make_brand("Ghost")
    make_product("Sellable Tent", category=cat, brand=brand, is_featured=True)
    dead = make_product(
        "Dead Tent",
        category=cat,
        brand=ghost_brand,
        is_featured=True,
        variants=[{"is_active": False}, {"is_active": False}],
    )
    bare = make_product("Bare Tent", category=cat, brand=ghost_brand, is_featured=True)
    StockItem.objects.filter(variant__product=bare).delete()  # no ledger yet: not protected
    bare.variants.all().delete()

    category_page = client.get(cat.get_absolute_url())
    assert names(category_page) == ["Sellable Tent"]
    assert [c[0] for c in category_page.context["form"].fields["brand"].choices] == [brand.slug]
    search_page = client.get(reverse("catalog:search"), {"q": "tent"})
    assert names(search_page) == ["Sellable Tent"]
    assert [c[0] for c in search_page.context["form"].fields["brand"].choices] == [brand.slug]
    assert names(client.get(reverse("catalog:search"))) == ["Sellable Tent"]
    home = client.get("/")
    assert [p.name for p in home.context["featured_products"]] == ["Sellable Tent"]
    assert client.get(dead.get_absolute_url()).status_code == 404
    assert client.get(bare.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "bad_options",
    [
        [{"name": "Size"}],
        [{"value": "M"}],
        {"Size": "M"},
        ["Size"],
        [{"name": "Size", "value": "M"}, {"name": "Size", "value": "L"}],
        [{"name": "", "value": ""}],
    ],
)
def test_product_page_survives_malformed_stored_options(
    client: Client, bad_options: object
) -> None:
    product = make_product(
        "Odd Tee",
        variants=[
            {"options": [{"name": "Size", "value": "S"}], "stock": 3},
            {"options": [{"name": "Size", "value": "XL"}], "stock": 3, "sku": "ODD-XL"},
        ],
    )
    ProductVariant.objects.filter(sku="ODD-XL").update(options=bad_options)
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    assert client.get(product.get_absolute_url(), {"o_Size": "M"}).status_code == 200
    assert [a.name for a in response.context["axes"]] == ["Size"]


def test_header_cart_link_is_named_by_its_text(client: Client) -> None:
    html = client.get("/").content.decode()
    link = html[html.index('<a class="cart-link"') :]
    link = link[: link.index("</a>")]
    assert "aria-label" not in link  # not allowed on the count's plain <span>
    assert 'data-cart-count>0</span><span class="visually-hidden"> items</span>' in link
