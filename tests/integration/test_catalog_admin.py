"""Staff edits in Django admin, through the real admin views (pytest-django's admin_client).

`change_form_data` reads a rendered change page back into the POST a browser would send,
so each test changes only what it is about.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import F, ProtectedError
from django.db.models.signals import pre_save
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.cart.models import Cart, CartLine
from apps.catalog.demo import placeholder_svg
from apps.catalog.models import Product, ProductImage, ProductVariant
from apps.inventory import services as inventory_services
from apps.inventory.models import StockItem, StockMovement
from tests.factories import make_product

pytestmark = pytest.mark.django_db

AssertMax = Callable[[int], AbstractContextManager[object]]

PRODUCT_CHANGE_MAX_QUERIES = 10

# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _add_form(data: dict[str, Any], form: forms.BaseForm) -> None:
    for bound in form:
        widget = bound.field.widget
        if isinstance(bound.field, forms.FileField):
            continue  # not re-uploaded: the stored file is kept
        value = bound.value()
        if isinstance(widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
            continue
        if value is None:
            continue
        data[bound.html_name] = list(value) if isinstance(value, list | tuple) else value


def change_form_data(response: Any) -> dict[str, Any]:
    """The POST body of an admin change page as rendered (main form and every inline)."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        _add_form(data, inline.formset.management_form)
        for form in inline.formset.forms:
            _add_form(data, form)
    return data


def change_url(obj: object) -> str:
    meta = obj._meta  # type: ignore[attr-defined]
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])  # type: ignore[attr-defined]


def form_errors(response: Any) -> str:
    """Every error the change page shows: main form, inline forms and non-form errors."""
    parts = [str(response.context["adminform"].form.errors)]
    for inline in response.context["inline_admin_formsets"]:
        parts.append(str(inline.formset.errors))
        parts.append(str(inline.formset.non_form_errors()))
    return " ".join(parts)


# --- Variant options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ('[{"name": "Size"}]', "exactly"),
        ('{"Size": "M"}', "must be a list"),
        ('[{"name": "Size", "value": "M"}, {"name": "Size", "value": "L"}]', "given twice"),
        ('[{"name": "", "value": "M"}]', "must not be empty"),
        ('[{"name": "Size", "value": 5}]', "must be text"),
    ],
)
def test_variant_admin_refuses_malformed_options(
    admin_client: Client, options: str, message: str
) -> None:
    variant = make_product("Tee").variants.get()
    url = change_url(variant)
    data = change_form_data(admin_client.get(url))
    data["options"] = options
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors["options"])
    variant.refresh_from_db()
    assert variant.options == []


def test_variant_admin_saves_well_formed_options(admin_client: Client) -> None:
    variant = make_product("Tee").variants.get()
    url = change_url(variant)
    data = change_form_data(admin_client.get(url))
    data["options"] = '[{"name": "Size", "value": "M"}]'
    assert admin_client.post(url, data).status_code == 302
    variant.refresh_from_db()
    assert variant.option_map() == {"Size": "M"}


def test_product_admin_variant_inline_refuses_malformed_options(admin_client: Client) -> None:
    product = make_product("Tee")
    url = change_url(product)
    data = change_form_data(admin_client.get(url))
    data["variants-0-options"] = '[{"name": "Size", "value": "M"}, {"name": "size", "value": "L"}]'
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "given twice" in form_errors(response)
    assert ProductVariant.objects.get(product=product).options == []
    assert Product.objects.filter(pk=product.pk).exists()


# --- Variants and products are deactivated, never deleted (stock history stays) -------------


def product_with_history() -> tuple[Product, ProductVariant, StockItem]:
    """A two-variant product whose first variant has reserved units, a ledger and a cart line."""
    product = make_product(
        "Kept", variants=[{"options": [{"name": "Size", "value": s}]} for s in ("S", "M")]
    )
    variant = product.variants.order_by("position").first()
    assert variant is not None
    item = inventory_services.change_on_hand(
        variant.stock.pk, delta=3, kind=StockMovement.Kind.RECEIPT
    )
    StockItem.objects.filter(pk=item.pk).update(reserved=2)
    cart = Cart.objects.create(session_hash="kept", expires_at=timezone.now() + timedelta(days=1))
    CartLine.objects.create(cart=cart, variant=variant, quantity=1, unit_price=variant.price)
    return product, variant, item


def assert_history_kept(variant: ProductVariant, item: StockItem) -> None:
    assert ProductVariant.objects.filter(pk=variant.pk).exists()
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (13, 2)
    assert item.movements.count() == 1
    assert CartLine.objects.filter(variant=variant).exists()


def test_product_admin_variant_inline_cannot_delete_variants(admin_client: Client) -> None:
    product, variant, item = product_with_history()
    url = change_url(product)
    page = admin_client.get(url)
    assert "variants-0-DELETE" not in page.content.decode()
    assert "deactivate" in page.content.decode().lower()
    data = change_form_data(page)
    data["variants-0-DELETE"] = "on"
    assert admin_client.post(url, data).status_code == 302
    assert_history_kept(variant, item)


def test_product_with_variants_cannot_be_deleted_in_admin(admin_client: Client) -> None:
    product, variant, item = product_with_history()
    delete = reverse("admin:catalog_product_delete", args=[product.pk])
    response = admin_client.post(delete, {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "deactivate" in response.content.decode().lower()
    assert Product.objects.filter(pk=product.pk).exists()
    assert_history_kept(variant, item)

    changelist = reverse("admin:catalog_product_changelist")
    response = admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [product.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert Product.objects.filter(pk=product.pk).exists()
    assert_history_kept(variant, item)


def test_stock_rows_and_ledger_are_protected_from_cascades() -> None:
    """Whatever deletes a variant or a stock row (admin, shell, code), the ledger stays."""
    product, variant, item = product_with_history()
    with pytest.raises(ProtectedError):
        variant.delete()
    with pytest.raises(ProtectedError):
        product.delete()
    with pytest.raises(ProtectedError):
        StockItem.objects.filter(pk=item.pk).delete()
    assert_history_kept(variant, item)


# --- Stock: staff edits never overwrite reservations, and never 500 -------------------------


def stock_item(on_hand: int = 10, **kwargs: object) -> StockItem:
    return StockItem.objects.get(variant__product=make_product(stock=on_hand, **kwargs))  # type: ignore[arg-type]


@contextmanager
def reservation_lands_during_save(item: StockItem, units: int) -> Iterator[None]:
    """A checkout reserving `units` after the admin read the row and before it writes it:
    the worst moment for a lost update (the admin's own save triggers it)."""

    def reserve(sender: object, instance: StockItem, **kwargs: object) -> None:
        if instance.pk == item.pk:
            pre_save.disconnect(reserve, sender=StockItem)
            StockItem.objects.filter(pk=item.pk).update(reserved=F("reserved") + units)

    pre_save.connect(reserve, sender=StockItem, weak=False)
    try:
        yield
    finally:
        pre_save.disconnect(reserve, sender=StockItem)


def test_stock_admin_save_keeps_reservations_made_meanwhile(admin_client: Client) -> None:
    item = stock_item(10)
    url = change_url(item)
    data = change_form_data(admin_client.get(url))
    assert "reserved" not in data  # read-only: never posted, never written
    StockItem.objects.filter(pk=item.pk).update(reserved=3)  # between GET and POST
    data.update(low_stock_threshold=2, counted=12)
    with reservation_lands_during_save(item, 2):
        response = admin_client.post(url, data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.on_hand, item.reserved, item.low_stock_threshold) == (12, 5, 2)
    movement = item.movements.get()
    assert (movement.kind, movement.on_hand_delta) == (StockMovement.Kind.ADJUSTMENT, 2)


def test_stock_admin_flag_change_keeps_reservations(admin_client: Client) -> None:
    item = stock_item(10)
    url = change_url(item)
    data = change_form_data(admin_client.get(url))
    data["allow_backorder"] = "on"
    with reservation_lands_during_save(item, 4):
        assert admin_client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert (item.allow_backorder, item.reserved, item.on_hand) == (True, 4, 10)
    assert not item.movements.exists()


def test_turning_backorder_off_with_reservations_beyond_stock_is_a_form_error(
    admin_client: Client,
) -> None:
    item = stock_item(2, allow_backorder=True)
    StockItem.objects.filter(pk=item.pk).update(reserved=5)
    url = change_url(item)
    data = change_form_data(admin_client.get(url))
    data.pop("allow_backorder")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = form_errors(response)
    assert "5 units are reserved" in errors
    assert "only 2 would be on hand" in errors
    assert "5 units are reserved" in response.content.decode()
    item.refresh_from_db()
    assert item.allow_backorder is True


def test_counting_below_reserved_units_is_a_form_error(admin_client: Client) -> None:
    item = stock_item(10)
    StockItem.objects.filter(pk=item.pk).update(reserved=6)
    url = change_url(item)
    data = change_form_data(admin_client.get(url))
    data["counted"] = 4
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "6 units are reserved" in form_errors(response)
    item.refresh_from_db()
    assert item.on_hand == 10
    assert not item.movements.exists()


@pytest.mark.parametrize("counted", ["-1", "abc", "99999999999"])
def test_bad_counts_are_form_errors(admin_client: Client, counted: str) -> None:
    item = stock_item(10)
    url = change_url(item)
    data = change_form_data(admin_client.get(url))
    data["counted"] = counted
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "counted" in response.context["adminform"].form.errors


def test_stock_items_cannot_be_added_or_deleted_on_their_own(admin_client: Client) -> None:
    item = stock_item(10)
    assert admin_client.get(reverse("admin:inventory_stockitem_add")).status_code == 403
    assert admin_client.post(reverse("admin:inventory_stockitem_add"), {}).status_code == 403
    listing = admin_client.get(reverse("admin:inventory_stockitem_changelist"))
    assert listing.status_code == 200
    assert reverse("admin:inventory_stockitem_add") not in listing.content.decode()
    delete = reverse("admin:inventory_stockitem_delete", args=[item.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert StockItem.objects.filter(pk=item.pk).exists()


def test_variant_stock_inline_keeps_reservations_and_reports_constraints(
    admin_client: Client,
) -> None:
    item = stock_item(3, allow_backorder=True)
    variant = item.variant
    url = change_url(variant)
    data = change_form_data(admin_client.get(url))
    assert not any(key.endswith("reserved") for key in data)
    data["stock-0-low_stock_threshold"] = 1
    with reservation_lands_during_save(item, 2):
        assert admin_client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert (item.reserved, item.low_stock_threshold) == (2, 1)

    StockItem.objects.filter(pk=item.pk).update(reserved=5)
    data = change_form_data(admin_client.get(url))
    data.pop("stock-0-allow_backorder")
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "5 units are reserved" in form_errors(response)
    item.refresh_from_db()
    assert item.allow_backorder is True

    data = change_form_data(admin_client.get(url))
    data["stock-0-counted"] = 7
    assert admin_client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert (item.on_hand, item.reserved) == (7, 5)
    assert item.movements.get().on_hand_delta == 4


def test_variants_added_in_admin_get_a_stock_row(admin_client: Client) -> None:
    product = make_product("Tee")
    url = change_url(product)
    data = change_form_data(admin_client.get(url))
    data["variants-TOTAL_FORMS"] = int(data["variants-TOTAL_FORMS"]) + 1
    data.update(
        {
            "variants-1-sku": "TEE-NEW",
            "variants-1-options": '[{"name": "Size", "value": "XL"}]',
            "variants-1-position": 1,
            "variants-1-is_active": "on",
            "variants-1-product": product.pk,
        }
    )
    assert admin_client.post(url, data).status_code == 302
    stock = StockItem.objects.get(variant__sku="TEE-NEW")
    assert (stock.on_hand, stock.reserved) == (0, 0)

    add_url = reverse("admin:catalog_productvariant_add")
    data = change_form_data(admin_client.get(add_url))
    data.update(product=product.pk, sku="TEE-OTHER", options="[]", position=2)
    response = admin_client.post(add_url, data)
    assert response.status_code == 302
    assert StockItem.objects.filter(variant__sku="TEE-OTHER").exists()


# --- Product change page: a fixed number of queries whatever its size -----------------------


def product_with_images(count: int) -> Product:
    """A product with `count` variants and `count` images, each image tied to a variant."""
    product = make_product(
        f"Big {count}",
        variants=[{"options": [{"name": "Size", "value": f"S{i}"}]} for i in range(count)],
    )
    for i, variant in enumerate(product.variants.all()):
        image = ProductImage(product=product, variant=variant, alt_text=f"v{i}", position=i + 1)
        image.image.save(f"v{i}.png", ContentFile(PNG), save=True)
    make_product("Someone else's", variants=[{} for _ in range(count)])  # never offered
    return product


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_product_change_page_queries_do_not_grow_with_images(
    admin_client: Client, django_assert_max_num_queries: AssertMax
) -> None:
    small = product_with_images(2)
    large = product_with_images(10)
    admin_client.get(change_url(small))  # warm per-process caches (content types)
    small_count = count_queries(admin_client, change_url(small))
    large_count = count_queries(admin_client, change_url(large))
    assert small_count == large_count
    with django_assert_max_num_queries(PRODUCT_CHANGE_MAX_QUERIES):
        response = admin_client.get(change_url(large))
    image_forms = next(
        i.formset
        for i in response.context["inline_admin_formsets"]
        if i.formset.model is ProductImage
    )
    offered = [str(value) for value, _ in image_forms.forms[0].fields["variant"].choices if value]
    assert sorted(offered) == sorted(str(v.pk) for v in large.variants.all())


def test_image_variant_must_belong_to_the_product(admin_client: Client) -> None:
    product = product_with_images(1)
    stranger = make_product("Stranger").variants.get()
    url = change_url(product)
    data = change_form_data(admin_client.get(url))
    image_prefix = next(k for k in data if k.endswith("-variant") and k.startswith("images-"))
    data[image_prefix] = stranger.pk
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "Select a valid choice" in form_errors(response)


# --- Product images: only the types we serve, of a sane size ------------------------------

SAFE_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8"/></svg>'


def upload_image(admin_client: Client, product: Product, upload: SimpleUploadedFile) -> Any:
    url = change_url(product)
    data = change_form_data(admin_client.get(url))
    n = int(data["images-TOTAL_FORMS"])
    data["images-TOTAL_FORMS"] = n + 1
    data.update(
        {
            f"images-{n}-image": upload,
            f"images-{n}-alt_text": "new picture",
            f"images-{n}-position": 5,
            f"images-{n}-product": product.pk,
        }
    )
    return admin_client.post(url, data)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "not allowed"),
        ("photo.exe", b"MZ\x90\x00", "not allowed"),
        ("photo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a png image"),
        ("photo.jpg", PNG, "not a jpg image"),
        ("photo.webp", PNG, "not a webp image"),
        ("logo.svg", b"just text", "not an SVG image"),
        ("x.svg", b"<svg><script>alert(document.cookie)</script></svg>", "may not contain"),
        ("x.svg", b'<svg onload="alert(1)"><rect/></svg>', "may not contain"),
        ("x.svg", b'<svg><a href="javascript:alert(1)"><rect/></a></svg>', "may not contain"),
        ("x.svg", b'<svg><image href="https://evil.example/x.png"/></svg>', "may not contain"),
        ("x.svg", b"<svg><foreignObject><iframe/></foreignObject></svg>", "may not contain"),
        (
            "x.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/2000/svg">'
            b"<x:script>alert(1)</x:script></svg>",
            "may not contain",
        ),
        (
            "x.svg",
            b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg><text>&a;</text></svg>',
            "may not contain",
        ),
        ("big.png", PNG + b"\x00" * (5 * 1024 * 1024), "at most 5 MB"),
    ],
)
def test_image_uploads_are_checked(
    admin_client: Client, name: str, content: bytes, message: str
) -> None:
    product = make_product("Pictured")
    response = upload_image(admin_client, product, SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert message in form_errors(response)
    assert product.images.count() == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.png", PNG),
        ("photo.JPG", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
        ("photo.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8),
        ("logo.svg", SAFE_SVG),
        (
            "demo.svg",
            placeholder_svg("Ridge Rain Shell, waterproof", "Northwind"),
        ),
    ],
)
def test_good_image_uploads_are_saved(admin_client: Client, name: str, content: bytes) -> None:
    product = make_product("Pictured")
    response = upload_image(admin_client, product, SimpleUploadedFile(name, content))
    assert response.status_code == 302, form_errors(response)
    assert product.images.count() == 2


def test_saving_a_product_does_not_recheck_stored_images(admin_client: Client) -> None:
    """Stored files were checked on upload; a missing file must not break the page's save."""
    product = make_product("Pictured")
    stored = product.images.get()
    stored.image.storage.delete(str(stored.image.name))
    url = change_url(product)
    data = change_form_data(admin_client.get(url))
    data["name"] = "Pictured again"
    assert admin_client.post(url, data).status_code == 302
