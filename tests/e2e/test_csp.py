"""The shop's Content-Security-Policy breaks nothing in a real Chromium: the main pages,
their scripts (variant picker, cart) and the admin run without a single CSP violation."""

from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.factories import make_product, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each violation is also dispatched as an event in the page; kept where the test reads it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`);
});
"""


class CspWatch:
    """Chromium's console lines about the CSP, and the page's violation events."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Permissions-Policy" in message.text:
            self.console.append(message.text)

    def violations(self) -> list[str]:
        events: list[str] = self.page.evaluate("window.__cspViolations || []")
        return self.console + events

    def assert_clean(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        found = self.violations()
        assert found == [], f"CSP violations on {where}: {found}"


def test_main_pages_run_without_csp_violations(shop_page: Page, live_server: Any) -> None:
    page = shop_page
    watch = CspWatch(page)
    shell = make_product(
        "Ridge Shell",
        price="149.00",
        variants=[
            {"options": [{"name": "Size", "value": "M"}], "stock": 20},
            {"options": [{"name": "Size", "value": "L"}], "stock": 3, "price_override": "154.00"},
        ],
    )
    base = live_server.url

    page.goto(base + "/")
    watch.assert_clean("home")
    page.goto(base + shell.category.get_absolute_url())
    watch.assert_clean("category")
    page.goto(base + "/search/?q=ridge")
    watch.assert_clean("search")

    page.goto(base + shell.get_absolute_url())
    # The variant picker (static/js/variant-picker.js, data from a JSON block) updates the
    # price without a reload.
    page.get_by_label("L", exact=True).check()
    page.get_by_test_id("price").filter(has_text="$154.00").wait_for()
    page.get_by_test_id("add-to-cart").click()
    page.get_by_text("Added 1 x Ridge Shell").wait_for()
    watch.assert_clean("product page, picker and add to cart")

    page.goto(base + "/cart/")
    page.get_by_test_id("cart-line").wait_for()
    watch.assert_clean("cart")

    page.goto(base + "/accounts/sign-in/")
    watch.assert_clean("sign in")
    page.goto(base + "/accounts/sign-up/")
    watch.assert_clean("sign up")
    page.goto(base + "/no-such-page/")
    watch.assert_clean("404")


def test_admin_runs_without_csp_violations(shop_page: Page, live_server: Any) -> None:
    page = shop_page
    watch = CspWatch(page)
    make_user("staff@example.com", password="a long passphrase 9", is_staff=True, is_superuser=True)
    product = make_product("Admin Shell")

    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("Username").fill("staff@example.com")
    page.get_by_label("Password").fill("a long passphrase 9")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("button", name="Log out").wait_for()
    watch.assert_clean("admin index")
    page.goto(live_server.url + "/admin/catalog/product/")
    watch.assert_clean("admin product list")
    page.goto(live_server.url + f"/admin/catalog/product/{product.pk}/change/")
    watch.assert_clean("admin product form")


def test_the_watch_sees_a_violation(shop_page: Page, live_server: Any) -> None:
    """The check can fail: an inline script added to a page is blocked and reported."""
    page = shop_page
    watch = CspWatch(page)
    page.goto(live_server.url + "/accounts/sign-in/")
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__ran = true";
          document.body.append(s);
        }"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in watch.violations())
