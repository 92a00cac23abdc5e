"""A guest fills a cart, uses coupons, then signs in and finds the cart merged; axe checks
every page on the way, flash messages included."""

from typing import Any

import pytest

from apps.cart import services
from apps.promotions.demo import seed_demo_coupons
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import make_product, make_user, new_session


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_guest_cart_coupons_and_merge_on_sign_in(shop_page: Any, live_server: Any) -> None:
    page = shop_page
    seed_demo_coupons()
    walker = make_user("walker@example.com", password="a long passphrase 9")
    mug = make_product(name="Camp Mug", price="12.00", stock=10)
    # The customer already has 8 mugs in their cart from an earlier visit.
    saved = services.get_or_create_cart(user=walker, session=new_session())
    services.add_line(saved, mug.variants.get().pk, 8)
    shirt = make_product(
        name="Trail Shirt",
        price="30.00",
        variants=[
            {"options": [{"name": "Size", "value": "S"}], "stock": 5},
            {"options": [{"name": "Size", "value": "M"}], "stock": 5, "price_override": "32.00"},
        ],
    )

    page.goto(live_server.url + "/cart/")
    page.get_by_text("Your cart is empty").wait_for()
    assert_no_serious_violations(page, "the empty cart")
    page.goto(live_server.url + "/search/?q=mug")
    page.get_by_role("link", name="Camp Mug").wait_for()
    assert_no_serious_violations(page, "search results")

    page.goto(live_server.url + mug.get_absolute_url())
    page.get_by_test_id("add-to-cart").click()
    page.get_by_text("Added 1 x Camp Mug").wait_for()
    assert_no_serious_violations(page, "the product page with an 'added' message")
    page.goto(live_server.url + shirt.get_absolute_url() + "?o_Size=M")
    assert page.get_by_test_id("price").inner_text() == "$32.00"
    page.get_by_test_id("add-to-cart").click()
    page.get_by_text("Added 1 x Trail Shirt").wait_for()
    assert page.locator("[data-cart-count]").inner_text() == "2"

    page.locator(".cart-link").click()
    assert page.get_by_test_id("cart-line").count() == 2
    assert "Size: M" in page.get_by_test_id("line-options").inner_text()
    mug_row = page.get_by_test_id("cart-line").filter(has_text="Camp Mug")
    qty = mug_row.get_by_test_id("qty-input")
    # Keyboard use: stepping the quantity and leaving the field must not submit (WCAG 3.2.2).
    navigations: list[str] = []

    def navigated(frame: Any) -> None:
        navigations.append(frame.url)

    page.on("framenavigated", navigated)
    qty.focus()
    qty.press("ArrowUp")
    qty.press("ArrowUp")
    qty.press("Tab")
    page.wait_for_timeout(1000)  # an auto-submit would have navigated by now
    page.remove_listener("framenavigated", navigated)
    assert navigations == []
    assert qty.input_value() == "3"
    assert page.get_by_text("Quantity updated").count() == 0
    mug_row.get_by_test_id("qty-update").click()
    page.get_by_text("Quantity updated").wait_for()
    assert page.get_by_test_id("subtotal").inner_text() == "$68.00"
    assert_no_serious_violations(page, "the filled cart with a message")

    page.get_by_test_id("coupon-input").fill("welcome10")
    page.get_by_test_id("coupon-apply").click()
    page.get_by_text("Code WELCOME10 applied").wait_for()
    assert page.get_by_test_id("discount-total").inner_text() == "\u2212$6.80"
    assert page.get_by_test_id("estimated-total").inner_text() == "$61.20"
    assert_no_serious_violations(page, "the cart after a coupon applied")

    page.get_by_test_id("remove-coupon").click()
    page.get_by_text("Code removed").wait_for()
    assert page.get_by_test_id("discount-total").count() == 0

    page.get_by_test_id("coupon-input").fill("EXPIRED10")
    page.get_by_test_id("coupon-apply").click()
    page.get_by_text("This code expired on").wait_for()
    assert_no_serious_violations(page, "the cart with a coupon error")

    page.get_by_test_id("sign-in-link").click()
    page.get_by_label("Email").wait_for()
    assert_no_serious_violations(page, "sign-in")
    page.get_by_label("Email").fill("walker@example.com")
    page.get_by_label("Password").fill("a long passphrase 9")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("signed-in").wait_for()
    page.get_by_text("We added the items from your guest cart to your cart.").wait_for()
    page.get_by_text("We could only keep 10 of Camp Mug in your cart (you had 11).").wait_for()
    assert_no_serious_violations(page, "the page after signing in, with merge messages")
    page.goto(live_server.url + "/cart/")
    assert page.get_by_test_id("cart-line").count() == 2
    mug_row = page.get_by_test_id("cart-line").filter(has_text="Camp Mug")
    assert mug_row.get_by_test_id("qty-input").input_value() == "10"  # 8 + 3, capped by stock
    assert page.locator("[data-cart-count]").inner_text() == "11"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_sign_up_page_and_its_errors_pass_axe(shop_page: Any, live_server: Any) -> None:
    page = shop_page
    page.goto(live_server.url + "/accounts/sign-up/")
    page.get_by_label("Email").wait_for()
    assert_no_serious_violations(page, "sign-up")
    page.get_by_role("button", name="Create account").click()
    page.locator(".field-error, .form-errors").first.wait_for()
    assert_no_serious_violations(page, "sign-up with errors")
