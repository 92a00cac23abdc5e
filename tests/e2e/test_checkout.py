"""Checkout in a real Chromium: a guest to the review page (a ZIP+4 suggestion accepted,
standard shipping, tax), an edit from review, a customer with a saved address, and a
sign-in at identification that merges carts. axe checks every checkout page."""

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import Page

from apps.cart import services as cart_services
from tests.checkout_support import CA_ADDRESS, make_zones
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import make_product, make_user, variant_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long passphrase 9"


def money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", "").replace("\u2212", "-").strip())


def add_to_cart(page: Page, base: str, product: Any) -> None:
    page.goto(base + product.get_absolute_url())
    page.get_by_test_id("add-to-cart").click()
    page.get_by_text(f"Added 1 x {product.name}").wait_for()


def fill_address(page: Page, address: dict[str, str]) -> None:
    page.get_by_label("First name", exact=True).fill(address["first_name"])
    page.get_by_label("Last name", exact=True).fill(address["last_name"])
    page.get_by_label("Address line 1").fill(address["street1"])
    page.get_by_label("Town or city").fill(address["city"])
    page.get_by_label("State / province / region").fill(address["state"])
    page.get_by_label("Postcode / ZIP").fill(address["zip_code"])
    page.get_by_label("Country").select_option(address["country"])


def on_step(page: Page, path: str, where: str) -> None:
    page.wait_for_url(f"**{path}")
    assert_no_serious_violations(page, where)


def test_guest_checks_out_to_review_and_edits_the_address(
    shop_page: Page, live_server: Any
) -> None:
    page = shop_page
    base = live_server.url
    make_zones()
    lamp = make_product(name="Camp Lamp", price="30.00", stock=10)
    mug = make_product(name="Camp Mug", price="12.00", stock=10)
    add_to_cart(page, base, lamp)
    add_to_cart(page, base, mug)

    page.goto(base + "/cart/")
    cart_total = money(page.get_by_test_id("estimated-total").inner_text())
    assert cart_total == Decimal("42.00")
    page.get_by_test_id("checkout").click()
    on_step(page, "/checkout/", "checkout cart review")
    assert page.locator('[aria-current="step"]').inner_text().strip() == "Cart"
    page.get_by_test_id("proceed").click()

    on_step(page, "/checkout/identify/", "identification")
    page.get_by_test_id("continue-as-guest").click()

    on_step(page, "/checkout/guest/", "guest details")
    page.get_by_test_id("guest-continue").click()
    summary = page.get_by_test_id("error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.dataset.testid") == "error-summary"
    assert_no_serious_violations(page, "guest details with errors")
    page.get_by_label("Email", exact=True).fill("ada@example.com")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    assert not page.get_by_label("Email me news and offers").is_checked()
    page.get_by_test_id("guest-continue").click()

    on_step(page, "/checkout/shipping-address/", "shipping address")
    assert page.get_by_label("My billing address is the same").is_checked()
    fill_address(page, dict(CA_ADDRESS, zip_code="94105 1234"))
    page.get_by_test_id("shipping-address-continue").click()
    page.get_by_test_id("address-suggestion").wait_for()
    assert "94105-1234" in page.get_by_test_id("address-suggestion").inner_text()
    assert_no_serious_violations(page, "shipping address with a suggestion")
    page.get_by_test_id("use-suggested").click()

    on_step(page, "/checkout/shipping-method/", "shipping method")
    standard = page.get_by_test_id("shipping-option").filter(has_text="Standard")
    assert "$5.99" in standard.inner_text()
    assert "Arrives" in standard.inner_text()
    standard.get_by_role("radio").check()
    page.get_by_test_id("shipping-method-continue").click()

    on_step(page, "/checkout/payment/", "payment")
    assert "Visa" in page.get_by_test_id("card-brands").inner_text()
    page.get_by_test_id("payment-continue").click()

    on_step(page, "/checkout/review/", "review")
    assert "94105-1234" in page.get_by_test_id("review-shipping-address").inner_text()
    shipping = money(page.get_by_test_id("review-shipping").inner_text())
    tax = money(page.get_by_test_id("review-tax").inner_text())
    total = money(page.get_by_test_id("review-total").inner_text())
    assert shipping == Decimal("5.99")
    assert tax == Decimal("3.05")  # 7.25% of 42.00
    assert "California (7.25%)" in page.get_by_test_id("review-totals").inner_text()
    assert total == cart_total + shipping + tax
    assert page.get_by_test_id("pay-now").is_disabled()

    # Edit the address to Washington (same zone): the tax changes, back to review.
    page.get_by_test_id("edit-shipping-address").click()
    on_step(page, "/checkout/shipping-address/", "shipping address from review")
    page.get_by_label("Town or city").fill("Seattle")
    page.get_by_label("State / province / region").fill("WA")
    page.get_by_label("Postcode / ZIP").fill("98101")
    page.get_by_label("Address line 1").fill("400 Pine St")
    page.get_by_test_id("shipping-address-continue").click()
    page.wait_for_url("**/checkout/review/")
    new_tax = money(page.get_by_test_id("review-tax").inner_text())
    assert new_tax == Decimal("2.73")  # 6.5% of 42.00
    assert "Washington (6.5%)" in page.get_by_test_id("review-totals").inner_text()
    assert (
        money(page.get_by_test_id("review-total").inner_text()) == cart_total + shipping + new_tax
    )

    # The browser's back button shows the earlier step again.
    page.go_back()
    page.wait_for_url("**/checkout/shipping-address/")


def test_customer_with_a_saved_address_reaches_review_in_fewer_steps(
    shop_page: Page, live_server: Any
) -> None:
    page = shop_page
    base = live_server.url
    make_zones()
    user = make_user("grace@example.com", password=PASSWORD, first_name="Grace", last_name="Hopper")
    user.addresses.create(is_default_shipping=True, **CA_ADDRESS)
    lamp = make_product(name="Camp Lamp", price="30.00", stock=10)

    page.goto(base + "/accounts/sign-in/")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("signed-in").wait_for()
    add_to_cart(page, base, lamp)

    visited: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: visited.append(frame.url) if frame == page.main_frame else None,
    )
    page.goto(base + "/checkout/")
    page.get_by_test_id("proceed").click()
    on_step(page, "/checkout/shipping-address/", "shipping address with saved addresses")
    saved = page.get_by_test_id("saved-addresses")
    assert saved.get_by_role("radio").first.is_checked()
    page.get_by_test_id("shipping-address-continue").click()
    page.wait_for_url("**/checkout/shipping-method/")
    page.get_by_test_id("shipping-method-continue").click()
    page.wait_for_url("**/checkout/payment/")
    page.get_by_test_id("payment-continue").click()
    on_step(page, "/checkout/review/", "customer review")
    assert "grace@example.com" in page.get_by_test_id("review-contact").inner_text()
    steps = [u for u in visited if "/checkout/" in u]
    # Cart review, shipping address, method, payment, review: no identification or
    # contact step (a guest sees 7 pages).
    assert len(steps) == 5, steps
    assert not any("/identify/" in u or "/guest/" in u for u in steps)


def test_signing_in_at_identification_merges_carts_and_keeps_going(
    shop_page: Page, live_server: Any
) -> None:
    page = shop_page
    base = live_server.url
    make_zones()
    walker = make_user("walker@example.com", password=PASSWORD)
    mug = make_product(name="Camp Mug", price="12.00", stock=10)
    saved = cart_services.get_or_create_cart(user=walker, session=SessionStore())
    cart_services.add_line(saved, variant_of(mug).pk, 2)
    lamp = make_product(name="Camp Lamp", price="30.00", stock=10)

    add_to_cart(page, base, lamp)
    page.goto(base + "/checkout/")
    page.get_by_test_id("proceed").click()
    page.wait_for_url("**/checkout/identify/")
    page.get_by_test_id("checkout-sign-in").click()
    page.get_by_label("Email").fill("walker@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Back in checkout, past identification, with the merged cart.
    on_step(page, "/checkout/shipping-address/", "shipping address after signing in")
    page.get_by_text("We added the items from your guest cart to your cart.").wait_for()
    assert page.get_by_test_id("summary-subtotal").inner_text() == "$54.00"  # 30 + 2 x 12
    fill_address(page, CA_ADDRESS)
    page.get_by_test_id("shipping-address-continue").click()
    page.wait_for_url("**/checkout/shipping-method/")
    page.get_by_test_id("shipping-method-continue").click()
    page.wait_for_url("**/checkout/payment/")
    page.get_by_test_id("payment-continue").click()
    on_step(page, "/checkout/review/", "review after the merge")
    assert page.get_by_test_id("checkout-line").count() == 2
    assert "walker@example.com" in page.get_by_test_id("review-contact").inner_text()


def test_billing_step_and_an_address_we_do_not_ship_to_pass_axe(
    shop_page: Page, live_server: Any
) -> None:
    page = shop_page
    base = live_server.url
    make_zones()
    add_to_cart(page, base, make_product(name="Camp Lamp", price="30.00", stock=10))
    page.goto(base + "/checkout/")
    page.get_by_test_id("proceed").click()
    page.get_by_test_id("continue-as-guest").click()
    page.get_by_label("Email", exact=True).fill("ada@example.com")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_test_id("guest-continue").click()
    page.wait_for_url("**/checkout/shipping-address/")

    berlin = {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "street1": "Unter den Linden 1",
        "city": "Berlin",
        "state": "",
        "zip_code": "10117",
        "country": "DE",
    }
    fill_address(page, berlin)
    page.get_by_test_id("shipping-address-continue").click()
    page.get_by_test_id("no-zone").wait_for()
    assert "We do not ship to Germany yet" in page.get_by_test_id("error-summary").inner_text()
    assert_no_serious_violations(page, "shipping address we do not ship to")

    fill_address(page, CA_ADDRESS)
    page.get_by_label("My billing address is the same").uncheck()
    page.get_by_test_id("shipping-address-continue").click()
    on_step(page, "/checkout/billing-address/", "billing address")
    page.get_by_test_id("billing-address-continue").click()
    page.get_by_test_id("error-summary").wait_for()
    assert_no_serious_violations(page, "billing address with errors")
    fill_address(page, CA_ADDRESS)
    page.get_by_test_id("billing-address-continue").click()
    on_step(page, "/checkout/shipping-method/", "shipping method after billing")
