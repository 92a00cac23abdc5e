"""A shopper browses in a real Chromium: home -> category -> brand filter -> product -> variant."""

import re

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page, expect

from apps.catalog.models import Product, ProductImage, ProductVariant
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import make_brand, make_category, make_product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_shopper_browses_to_a_variant_and_sees_price_and_stock(
    shop_page: Page, live_server
) -> None:
    clothing = make_category("Clothing", is_featured=True)
    jackets = make_category("Jackets", parent=clothing)
    northwind, kestrel = make_brand("Northwind"), make_brand("Kestrel")
    shell = make_product(
        "Ridge Rain Shell",
        category=jackets,
        brand=northwind,
        price="149.00",
        is_featured=True,
        variants=[
            {
                "options": [{"name": "Size", "value": "M"}, {"name": "Color", "value": "Navy"}],
                "stock": 20,
            },
            {
                "options": [{"name": "Size", "value": "L"}, {"name": "Color", "value": "Navy"}],
                "stock": 3,
                "price_override": "154.00",
            },
            {
                "options": [{"name": "Size", "value": "L"}, {"name": "Color", "value": "Forest"}],
                "stock": 0,
            },
        ],
    )
    make_product("Storm Anorak", category=jackets, brand=kestrel, price="134.50")
    m_navy, l_navy, _ = shell.variants.order_by("position")

    page = shop_page
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Shop by category")).to_be_visible()
    expect(page.get_by_role("link", name="Cart 0 items", exact=True)).to_be_visible()
    assert_no_serious_violations(page, "home")

    page.get_by_role("navigation", name="Categories").get_by_role("link", name="Clothing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clothing")
    expect(page.get_by_text("2 products")).to_be_visible()
    assert_no_serious_violations(page, "category")

    page.get_by_label("Northwind").check()
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(rf"brand={northwind.slug}"))
    expect(page.get_by_text("1 product", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Storm Anorak")).to_have_count(0)

    page.get_by_role("link", name="Ridge Rain Shell").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ridge Rain Shell")
    expect(page.get_by_test_id("price")).to_have_text("$149.00")
    expect(page.get_by_test_id("stock-status")).to_have_text("In stock")
    breadcrumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumbs).to_contain_text("Clothing")
    expect(breadcrumbs).to_contain_text("Jackets")
    assert_no_serious_violations(page, "product")

    # Picking an option updates price and stock in place: no navigation on change (WCAG
    # 3.2.2), so a marker set on this document survives, and the address follows the choice.
    page.evaluate("window.__samePage = true")
    page.get_by_role("group", name="Size").get_by_label("L").check()
    expect(page.get_by_test_id("price")).to_have_text("$154.00")
    expect(page.get_by_test_id("stock-status")).to_have_text("Only 3 left")
    expect(page).to_have_url(re.compile(r"o_Size=L"))
    add_form = page.get_by_test_id("add-to-cart-form")
    expect(add_form.locator("input[name=variant_id]")).to_have_value(str(l_navy.pk))
    expect(page.get_by_test_id("add-qty")).to_have_attribute("max", "3")

    page.get_by_role("group", name="Color").get_by_label("Forest").check()
    expect(page.get_by_test_id("stock-status")).to_have_text("Out of stock")
    expect(page.get_by_test_id("not-purchasable")).to_be_visible()
    expect(page.get_by_test_id("add-to-cart-form")).to_have_count(0)
    assert page.evaluate("window.__samePage") is True

    # Keyboard: arrow keys move through a radio group; each step only updates the page.
    page.get_by_role("group", name="Color").get_by_label("Navy").focus()
    page.keyboard.press("Space")
    expect(page.get_by_test_id("price")).to_have_text("$154.00")
    page.get_by_role("group", name="Size").get_by_label("L").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("group", name="Size").get_by_label("M")).to_be_checked()
    expect(page.get_by_role("group", name="Size").get_by_label("M")).to_be_focused()
    expect(page.get_by_test_id("price")).to_have_text("$149.00")
    expect(page.get_by_test_id("stock-status")).to_have_text("In stock")
    expect(add_form.locator("input[name=variant_id]")).to_have_value(str(m_navy.pk))
    assert page.evaluate("window.__samePage") is True

    # The chosen variant is what goes in the cart.
    page.get_by_role("group", name="Size").get_by_label("L").check()
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_role("link", name="Cart 1 item", exact=True)).to_be_visible()
    page.goto(live_server.url + "/cart/")
    expect(page.get_by_test_id("line-options")).to_have_text("Size: L, Color: Navy")


def test_variant_picker_works_without_javascript(browser, live_server) -> None:
    make_product(
        "Camp Mug",
        price="16.00",
        variants=[
            {"options": [{"name": "Color", "value": "Navy"}], "stock": 9},
            {
                "options": [{"name": "Color", "value": "Sand"}],
                "stock": 2,
                "price_override": "18.00",
            },
        ],
    )
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/search/?q=mug")
        page.get_by_role("link", name="Camp Mug").click()
        page.get_by_label("Sand").check()
        page.get_by_role("button", name="Show this option").click()
        expect(page.get_by_test_id("price")).to_have_text("$18.00")
        expect(page.get_by_test_id("stock-status")).to_have_text("Only 2 left")
    finally:
        context.close()


def test_picker_turns_add_to_cart_on_and_off_in_place(shop_page: Page, live_server) -> None:
    boot = make_product(
        "Trail Boot",
        price="120.00",
        variants=[
            {
                "options": [{"name": "Size", "value": "40"}, {"name": "Width", "value": "D"}],
                "stock": 0,
            },
            {
                "options": [{"name": "Size", "value": "42"}, {"name": "Width", "value": "D"}],
                "stock": 4,
                "price_override": "125.00",
            },
            {
                "options": [{"name": "Size", "value": "42"}, {"name": "Width", "value": "E"}],
                "stock": 8,
            },
        ],
    )
    page = shop_page
    page.goto(live_server.url + boot.get_absolute_url())
    page.evaluate("window.__samePage = true")
    expect(page.get_by_test_id("not-purchasable")).to_be_visible()
    expect(page.get_by_role("button", name="Show this option")).to_be_hidden()

    page.get_by_role("group", name="Size").get_by_label("42").check()
    expect(page.get_by_test_id("price")).to_have_text("$125.00")
    expect(page.get_by_test_id("stock-status")).to_have_text("Only 4 left")
    expect(page.get_by_test_id("add-to-cart-form")).to_be_visible()
    expect(page.get_by_test_id("sku")).to_have_text(boot.variants.get(price_override="125.00").sku)

    page.get_by_role("group", name="Size").get_by_label("40").check()
    page.get_by_role("group", name="Width").get_by_label("E").check()
    expect(page.get_by_text("That combination is not available.")).to_be_visible()
    expect(page.get_by_test_id("add-to-cart-form")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"o_Size=40&o_Width=E"))
    assert page.evaluate("window.__samePage") is True

    # The address carries the choice: a reload shows it server-side.
    page.get_by_role("group", name="Size").get_by_label("42").check()
    page.reload()
    expect(page.get_by_role("group", name="Width").get_by_label("E")).to_be_checked()
    expect(page.get_by_test_id("stock-status")).to_have_text("In stock")


def _picture(product: Product, variant: ProductVariant | None, alt: str, colour: str) -> str:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8">'
        f'<rect width="8" height="8" fill="{colour}"/></svg>'
    )
    image = ProductImage(product=product, variant=variant, alt_text=alt, position=1)
    image.image.save(f"{colour.strip('#')}.svg", ContentFile(svg.encode()), save=True)
    return image.image.url


def test_picking_a_variant_swaps_to_its_own_images(shop_page: Page, live_server) -> None:
    """The server shows the chosen variant's images first; a choice made in place must
    too, or a shopper picking Forest keeps looking at the Navy jacket."""
    shell = make_product(
        "Ridge Rain Shell",
        variants=[
            {"options": [{"name": "Color", "value": "Navy"}]},
            {"options": [{"name": "Color", "value": "Forest"}]},
            {"options": [{"name": "Color", "value": "Sand"}]},
        ],
    )
    navy, forest, _ = shell.variants.order_by("position")
    general = shell.images.get()
    navy_url = _picture(shell, navy, "Ridge Rain Shell in navy", "#001f5b")
    forest_url = _picture(shell, forest, "Ridge Rain Shell in forest green", "#1f5b1f")
    forest_back_url = _picture(shell, forest, "Back of the forest green shell", "#2f6b2f")

    page = shop_page
    page.goto(live_server.url + shell.get_absolute_url())
    main = page.locator(".gallery img.main-image")
    thumbs = page.locator(".gallery img.thumb")
    expect(main).to_have_attribute("src", navy_url)
    expect(main).to_have_attribute("alt", "Ridge Rain Shell in navy")
    page.evaluate("window.__samePage = true")

    page.get_by_role("group", name="Color").get_by_label("Forest").check()
    expect(main).to_have_attribute("src", forest_url)
    expect(main).to_have_attribute("alt", "Ridge Rain Shell in forest green")
    expect(thumbs).to_have_count(2)  # its second picture, then the product's own
    expect(thumbs.nth(0)).to_have_attribute("src", forest_back_url)
    expect(thumbs.nth(1)).to_have_attribute("src", general.image.url)
    expect(main).to_have_js_property("naturalWidth", 8)  # the swapped image really loads

    # A variant without pictures of its own shows the product's.
    page.get_by_role("group", name="Color").get_by_label("Sand").check()
    expect(main).to_have_attribute("src", general.image.url)
    expect(main).to_have_attribute("alt", general.alt_text)
    expect(thumbs).to_have_count(0)
    assert page.evaluate("window.__samePage") is True

    # What the page shows after a reload (server-rendered) matches the in-place swap.
    page.get_by_role("group", name="Color").get_by_label("Forest").check()
    page.reload()
    expect(main).to_have_attribute("src", forest_url)
    expect(thumbs).to_have_count(2)
