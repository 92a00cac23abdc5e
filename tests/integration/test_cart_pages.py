"""Cart pages, add-to-cart, sign-in merge and the header count, through the test client."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.cart.models import Cart, CartLine
from tests.factories import make_coupon, make_product, make_user, variant_of

pytestmark = pytest.mark.django_db


def add(client: Client, variant_id: object, quantity: object = 1, follow: bool = True):
    return client.post(
        reverse("cart:add"), {"variant_id": variant_id, "quantity": quantity}, follow=follow
    )


def version(client: Client) -> int:
    html = client.get(reverse("cart:detail")).content.decode()
    return int(re.search(r'data-cart-version="(\d+)"', html).group(1))  # type: ignore[union-attr]


def test_empty_cart_page(client: Client) -> None:
    page = client.get(reverse("cart:detail"))
    assert page.status_code == 200
    assert b"Your cart is empty" in page.content
    assert not Cart.objects.exists()  # viewing never creates a cart


def test_cart_page_sets_the_csrf_cookie_even_when_empty() -> None:
    """The empty cart page sets the csrftoken cookie too, so the page's script can post."""
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("cart:detail"))
    assert page.status_code == 200
    assert "csrftoken" in page.cookies
    assert page.cookies["csrftoken"].value


def test_product_page_form_adds_and_header_counts(client: Client) -> None:
    product = make_product(name="Trail Mug", price="14.00", stock=4)
    page = client.get(product.get_absolute_url())
    assert b'data-testid="add-to-cart-form"' in page.content
    response = client.post(
        reverse("cart:add"),
        {"variant_id": variant_of(product).pk, "quantity": 2, "next": product.get_absolute_url()},
    )
    assert response.status_code == 302
    assert response["Location"] == product.get_absolute_url()
    page = client.get(reverse("cart:detail"))
    html = page.content.decode()
    assert "Trail Mug" in html
    assert "$28.00" in html
    # The header link's name is "Cart 2 items" (text, not an aria-label on a plain span).
    assert 'data-cart-count>2</span><span class="visually-hidden"> items</span>' in html
    assert "Shipping and tax calculated at checkout" in html


@pytest.mark.parametrize(
    ("variant", "quantity", "message"),
    [
        ("abc", 1, "Enter a whole number"),
        (None, "lots", "Enter a whole number"),
        (None, 0, "at least 1"),
        (None, 100, "at most 99"),
        (999_999_999, 1, "could not be found"),
        (None, 5, "Only 4"),
    ],
)
def test_bad_add_to_cart_input_gives_a_message_not_a_500(
    client: Client, variant: object, quantity: object, message: str
) -> None:
    product = make_product(stock=4)
    page = add(client, variant if variant is not None else variant_of(product).pk, quantity)
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("target", ["/p/\r\nSet-Cookie: x=1", "/p/\x00", "//evil.example/"])
def test_add_with_an_unsafe_next_goes_back_to_the_cart(client: Client, target: str) -> None:
    """An unsafe `next` (a newline, NUL, another host) never reaches the Location header."""
    response = client.post(
        reverse("cart:add"),
        {"variant_id": variant_of(make_product(stock=4)).pk, "quantity": 1, "next": target},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")


def test_inactive_product_cannot_be_added(client: Client) -> None:
    product = make_product(stock=4, is_active=False)
    page = add(client, variant_of(product).pk)
    assert "no longer available" in page.content.decode()


def test_update_remove_and_stale_version(client: Client) -> None:
    variant = variant_of(make_product(stock=10))
    add(client, variant.pk, 1)
    line = CartLine.objects.get()
    v = version(client)
    page = client.post(
        reverse("cart:update_line", args=[line.pk]), {"quantity": 3, "version": v}, follow=True
    )
    assert "Quantity updated" in page.content.decode()
    stale = client.post(
        reverse("cart:update_line", args=[line.pk]), {"quantity": 7, "version": v}, follow=True
    )
    assert "changed in another tab" in stale.content.decode()
    line.refresh_from_db()
    assert line.quantity == 3
    bad = client.post(
        reverse("cart:update_line", args=[line.pk]),
        {"quantity": "x", "version": v + 1},
        follow=True,
    )
    assert "Enter a whole number" in bad.content.decode()
    client.post(reverse("cart:remove_line", args=[line.pk]), {"version": v + 1})
    assert not CartLine.objects.exists()


def test_someone_elses_line_is_404_and_untouched(client: Client) -> None:
    """HTML routes: a line id from another cart is a 404 and changes neither cart."""
    variant = variant_of(make_product(stock=10))
    victim = Client()
    add(victim, variant.pk, 2)
    theirs = CartLine.objects.get()
    add(client, variant.pk, 1)
    mine_version = version(client)
    update = client.post(
        reverse("cart:update_line", args=[theirs.pk]), {"quantity": 9, "version": mine_version}
    )
    assert update.status_code == 404
    remove = client.post(reverse("cart:remove_line", args=[theirs.pk]), {"version": mine_version})
    assert remove.status_code == 404
    theirs.refresh_from_db()
    assert theirs.quantity == 2
    assert version(client) == mine_version  # nothing was written to my cart either
    assert CartLine.objects.count() == 2


CSRF_POSTS = [
    ("cart:add", [], {"quantity": 1}),
    ("cart:update_line", ["line"], {"quantity": 3}),
    ("cart:remove_line", ["line"], {}),
    ("cart:clear", [], {}),
    ("cart:apply_coupon", [], {"code": "CSRF10"}),
    ("cart:checkout", [], {}),
]


@pytest.mark.parametrize(("name", "args", "data"), CSRF_POSTS)
def test_cart_posts_need_the_csrf_token(
    name: str, args: list[str], data: dict[str, object]
) -> None:
    """Every cart write refuses a POST without the CSRF token (403) and changes nothing."""
    client = Client(enforce_csrf_checks=True)
    variant = variant_of(make_product(stock=10))
    make_coupon("CSRF10", value="10")
    token = client.get(reverse("cart:detail")).cookies["csrftoken"].value
    client.post(
        reverse("cart:add"), {"variant_id": variant.pk, "quantity": 1, "csrfmiddlewaretoken": token}
    )
    line = CartLine.objects.get()
    url = reverse(name, args=[line.pk for _ in args])
    body = {"variant_id": variant.pk, "version": version(client), **data}
    refused = client.post(url, body)
    assert refused.status_code == 403
    line.refresh_from_db()
    assert line.quantity == 1
    assert Cart.objects.get().version == body["version"]
    allowed = client.post(url, {**body, "csrfmiddlewaretoken": token})
    assert allowed.status_code == 302


def test_coupon_apply_remove_and_errors(client: Client) -> None:
    add(client, variant_of(make_product(price="50.00", stock=10)).pk, 1)
    coupon = make_coupon("TENOFF", value="10")
    page = client.post(
        reverse("cart:apply_coupon"), {"code": "tenoff", "version": version(client)}, follow=True
    )
    html = page.content.decode()
    assert "Code TENOFF applied" in html
    assert "&minus;$5.00" in html
    assert "$45.00" in html
    page = client.post(
        reverse("cart:apply_coupon"), {"code": "Z" * 500, "version": version(client)}, follow=True
    )
    assert "We don&#x27;t recognise that code" in page.content.decode()
    client.post(reverse("cart:remove_coupon", args=[coupon.pk]), {"version": version(client)})
    assert "TENOFF" not in client.get(reverse("cart:detail")).content.decode()


def test_checkout_is_blocked_while_stock_is_short(client: Client) -> None:
    variant = variant_of(make_product(stock=5))
    add(client, variant.pk, 5)
    variant.stock.on_hand = 2
    variant.stock.save()
    page = client.get(reverse("cart:detail")).content.decode()
    assert "Only 2" in page
    assert 'data-testid="checkout" disabled' in page
    line = CartLine.objects.get()
    field = re.search(r'<input id="qty-\d+"[^>]*>', page)
    assert field is not None  # the quantity field points at the line's problem
    assert f'aria-describedby="line-issue-{line.pk}"' in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    assert f'id="line-issue-{line.pk}"' in page
    response = client.post(reverse("cart:checkout"), follow=True)
    assert "Only 2" in response.content.decode()


def test_backorder_line_beyond_on_hand_is_not_flagged_and_field_allows_99(
    client: Client,
) -> None:
    """Backorder variants are not capped at on_hand on the cart page, so checkout stays open."""
    product = make_product(stock=2, allow_backorder=True)
    page = add(client, variant_of(product).pk, 6)
    assert "Added 6 x" in page.content.decode()
    html = client.get(reverse("cart:detail")).content.decode()
    assert 'data-testid="cart-issues"' not in html
    assert 'data-testid="checkout" disabled' not in html
    assert re.search(r'name="quantity" value="6" min="0" max="99"', html)
    detail = client.get(product.get_absolute_url()).content.decode()
    assert re.search(r'max="99"[^>]*data-testid="add-qty"', detail)


def test_price_change_is_shown(client: Client) -> None:
    product = make_product(price="10.00", stock=5)
    add(client, variant_of(product).pk, 1)
    product.base_price = Decimal("11.50")
    product.save()
    assert "$10.00 &rarr; $11.50" in client.get(reverse("cart:detail")).content.decode()


def test_sign_in_merges_the_guest_cart(client: Client) -> None:
    user = make_user("shopper@example.com", password="a long passphrase 9")
    keep = variant_of(make_product(stock=3))
    add(client, keep.pk, 2)
    other = Client()
    other.login(username="shopper@example.com", password="a long passphrase 9")
    add(other, keep.pk, 2)
    page = client.post(
        reverse("accounts:sign_in"),
        {"email": "Shopper@example.com", "password": "a long passphrase 9", "next": "/cart/"},
        follow=True,
    )
    html = page.content.decode()
    assert "signed in" in html.lower()
    assert "could only keep 3" in html
    cart = Cart.objects.get(user=user, status=Cart.Status.ACTIVE)
    assert CartLine.objects.get(cart=cart).quantity == 3
    assert Cart.objects.count() == 1


def test_sign_up_sign_out_and_bad_sign_in(client: Client) -> None:
    page = client.post(
        reverse("accounts:sign_up"),
        {
            "first_name": "Ana",
            "last_name": "Ng",
            "email": "ana@example.com",
            "password": "quiet river 77",
        },
        follow=True,
    )
    assert "Your account is ready" in page.content.decode()
    client.post(reverse("accounts:sign_out"))
    again = client.post(
        reverse("accounts:sign_up"),
        {
            "first_name": "A",
            "last_name": "N",
            "email": "ANA@example.com",
            "password": "quiet river 77",
        },
    )
    assert "already exists" in again.content.decode()
    wrong = client.post(
        reverse("accounts:sign_in"), {"email": "ana@example.com", "password": "nope"}
    )
    assert "don&#x27;t match" in wrong.content.decode()
    for _ in range(5):
        client.post(reverse("accounts:sign_in"), {"email": "ana@example.com", "password": "nope"})
    locked = client.post(
        reverse("accounts:sign_in"), {"email": "ana@example.com", "password": "quiet river 77"}
    )
    assert "Too many attempts" in locked.content.decode()


@pytest.mark.parametrize("lines", [1, 20])
def test_cart_page_query_count_is_bounded(
    client: Client, django_assert_max_num_queries: object, lines: int
) -> None:
    for _ in range(lines):
        add(client, variant_of(make_product(stock=10)).pk, 1, follow=False)
    make_coupon("QC", value="5")
    client.post(reverse("cart:apply_coupon"), {"code": "QC", "version": version(client)})
    with django_assert_max_num_queries(14):  # type: ignore[operator]
        page = client.get(reverse("cart:detail"))
    assert page.content.decode().count('data-testid="cart-line"') == lines
