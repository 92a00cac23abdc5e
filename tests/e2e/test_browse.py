"""A shopper browses in a real Chromium: home -> category -> brand filter -> product -> variant."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_brand, make_category, make_product

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_shopper_browses_to_a_variant_and_sees_price_and_stock(
    shop_page: Page, live_server
) -> None:
    clothing = make_category("Clothing", is_featured=True)
    jackets = make_category("Jackets", parent=clothing)
    northwind, kestrel = make_brand("Northwind"), make_brand("Kestrel")
    make_product(
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

    page = shop_page
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Shop by category")).to_be_visible()

    page.get_by_role("navigation", name="Categories").get_by_role("link", name="Clothing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clothing")
    expect(page.get_by_text("2 products")).to_be_visible()

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

    # Picking a size reloads the page for that variant (JS submits the picker form).
    page.get_by_role("group", name="Size").get_by_label("L").check()
    expect(page).to_have_url(re.compile(r"o_Size=L"))
    expect(page.get_by_test_id("price")).to_have_text("$154.00")
    expect(page.get_by_test_id("stock-status")).to_have_text("Only 3 left")

    page.get_by_role("group", name="Color").get_by_label("Forest").check()
    expect(page.get_by_test_id("stock-status")).to_have_text("Out of stock")


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
