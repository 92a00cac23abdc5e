"""Every page carries the shop's Content-Security-Policy and Permissions-Policy, and no page
needs 'unsafe-inline': no inline script, event handler attribute or style attribute.

The browser side (no CSP violation in Chromium's console) is tests/e2e/test_csp.py.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client

from tests.factories import make_product, make_user

pytestmark = pytest.mark.django_db

CSP = {
    "default-src": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


class InlineCode(HTMLParser):
    """Collects what a CSP without 'unsafe-inline' would block."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self.found += [f"<{tag} {n}=...>" for n in names if n.startswith("on") or n == "style"]
        if tag == "style":
            self.found.append("<style>")
        # A JSON data block (json_script) never runs, so script-src does not apply to it.
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self._in_inline_script = True
        for name in ("href", "src", "action", "formaction"):
            if (names.get(name) or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:...>")

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False


def csp_of(header: str) -> dict[str, str]:
    """The policy's directives (django-csp does not keep their order)."""
    return dict(d.strip().split(" ", 1) for d in header.split(";") if d.strip())


def _inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def _pages(client: Client) -> dict[str, str]:
    product = make_product(
        "Ridge Shell",
        variants=[
            {"options": [{"name": "Size", "value": "M"}], "stock": 3},
            {"options": [{"name": "Size", "value": "L"}], "stock": 0},
        ],
    )
    variant = product.variants.order_by("position").first()
    assert variant is not None
    add = client.post("/cart/add/", {"variant_id": variant.pk, "quantity": 1})
    assert add.status_code == 302
    return {
        "home": "/",
        "search": "/search/?q=ridge",
        "category": product.category.get_absolute_url(),
        "product": product.get_absolute_url(),
        "cart": "/cart/",
        "sign-in": "/accounts/sign-in/",
        "sign-up": "/accounts/sign-up/",
        "admin-login": "/admin/login/",
        "not-found": "/no-such-page/",
    }


def test_pages_send_the_csp_and_permissions_policy(client: Client) -> None:
    for name, path in _pages(client).items():
        response = client.get(path)
        assert response.status_code in (200, 404), (name, response.status_code)
        assert csp_of(response["Content-Security-Policy"]) == CSP, name
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY, name
        assert "Content-Security-Policy-Report-Only" not in response


def test_no_page_needs_unsafe_inline(client: Client) -> None:
    pages = _pages(client)
    cart = client.get(pages["cart"]).content.decode()
    assert "data-cart-id" in cart  # the cart page with a line, not the empty one
    for name, path in pages.items():
        assert _inline_code(client.get(path).content.decode()) == [], name


def test_admin_pages_need_no_unsafe_inline(client: Client) -> None:
    client.force_login(make_user(is_staff=True, is_superuser=True))
    product = make_product("Admin Shell")
    for path in (
        "/admin/",
        "/admin/catalog/product/",
        f"/admin/catalog/product/{product.pk}/change/",
        "/admin/catalog/product/add/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert csp_of(response["Content-Security-Policy"]) == CSP
        assert _inline_code(response.content.decode()) == [], path


def test_errors_and_api_answers_carry_the_headers_too(client: Client) -> None:
    for response in (
        client.generic("TRACE", "/"),
        client.get("/api/cart/999999"),
        client.get("/healthz"),
    ):
        assert csp_of(response["Content-Security-Policy"]) == CSP
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY


def test_the_inline_code_check_finds_inline_code() -> None:
    html = (
        '<script>alert(1)</script><script type="application/json">{"a": 1}</script>'
        '<button onclick="go()">x</button><p style="color: red">x</p><style>p{}</style>'
        '<a href="javascript:go()">x</a><script src="/static/js/cart.js"></script>'
    )
    assert _inline_code(html) == [
        "<script>alert(1)",
        "<button onclick=...>",
        "<p style=...>",
        "<style>",
        "<a href=javascript:...>",
    ]
