"""A customer signs in, adds an address with a suggestion accepted, makes it the default,
and resets a password; axe checks every page on the way."""

from typing import Any

import pytest
from django.core import mail

from apps.checkout.models import Address
from tests.e2e.axe import assert_no_serious_violations
from tests.factories import make_user


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_address_book_with_a_suggestion_and_defaults(shop_page: Any, live_server: Any) -> None:
    page = shop_page
    user = make_user("rowan@example.com", password="a long passphrase 9")
    page.goto(live_server.url + "/account/addresses/")
    # Signed out: the sign-in page, then back here.
    page.get_by_label("Email").fill("rowan@example.com")
    page.get_by_label("Password").fill("a long passphrase 9")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("no-addresses").wait_for()
    assert_no_serious_violations(page, "the empty address book")

    page.get_by_test_id("add-address").click()
    assert_no_serious_violations(page, "the add-address form")
    # A wrong ZIP first: the summary at the top takes the focus, the error sits by the field.
    page.get_by_label("First name").fill("Rowan")
    page.get_by_label("Last name").fill("Ash")
    page.get_by_label("Address line 1").fill("1 Market St")
    page.get_by_label("Town or city").fill("San Francisco")
    page.get_by_label("State / province / region").fill("California")
    page.get_by_label("Postcode / ZIP").fill("9410")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Phone (optional)").fill("(415) 555-0132")
    page.get_by_test_id("save-address").click()
    summary = page.get_by_role("alert")
    summary.wait_for()
    assert "Enter a ZIP code like 94107 or 94107-1234." in summary.inner_text()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert page.get_by_label("Postcode / ZIP").get_attribute("aria-invalid") == "true"
    assert_no_serious_violations(page, "the address form with errors")

    page.get_by_label("Postcode / ZIP").fill("941071234")
    page.get_by_test_id("save-address").click()
    page.get_by_test_id("address-suggestion").wait_for()
    assert "94107-1234" in page.get_by_test_id("address-suggestion").inner_text()
    assert_no_serious_violations(page, "the address suggestion")
    page.get_by_test_id("use-suggested").click()

    card = page.get_by_test_id("address-card")
    card.wait_for()
    assert "94107-1234" in card.inner_text()
    page.get_by_test_id("make-default-shipping").click()
    page.get_by_test_id("default-shipping").wait_for()
    assert_no_serious_violations(page, "the address book with a default")

    address = Address.objects.get(user=user)
    assert (address.state, address.zip_code, address.phone) == ("CA", "94107-1234", "+14155550132")
    assert address.is_default_shipping


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_password_reset_pages(shop_page: Any, live_server: Any, settings: Any) -> None:
    page = shop_page
    settings.SITE_URL = live_server.url
    make_user("rowan@example.com", password="a long passphrase 9")
    page.goto(live_server.url + "/accounts/sign-in/")
    page.get_by_test_id("forgot-password").click()
    assert_no_serious_violations(page, "the password reset form")
    page.get_by_label("Email").fill("rowan@example.com")
    page.get_by_test_id("send-reset-link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    assert_no_serious_violations(page, "the reset 'check your email' page")
    body = str(mail.outbox[0].body)
    link = next(word for word in body.split() if word.startswith(live_server.url))
    page.goto(link)
    assert_no_serious_violations(page, "the new-password form")
    page.get_by_label("New password", exact=True).fill("another long phrase 7")
    page.get_by_label("New password confirmation").fill("another long phrase 7")
    page.get_by_test_id("set-password").click()
    page.get_by_role("heading", name="Your password is changed").wait_for()
    assert_no_serious_violations(page, "the reset complete page")
