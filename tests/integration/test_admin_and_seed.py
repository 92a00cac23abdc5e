"""Staff pages in Django admin and the demo seed."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

from apps.catalog.models import Brand, Category, Product, ProductVariant
from apps.inventory.availability import StockState
from apps.inventory.models import StockItem, StockMovement
from apps.inventory.selectors import status_of
from apps.promotions.models import Coupon
from tests.factories import make_product, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client: Client) -> Client:
    user = make_user("staff@example.com", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_seed_demo_is_idempotent_and_covers_every_stock_state() -> None:
    call_command("seed_demo", verbosity=0)
    counts = (Product.objects.count(), ProductVariant.objects.count(), StockItem.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (
        Product.objects.count(),
        ProductVariant.objects.count(),
        StockItem.objects.count(),
    ) == counts
    assert 55 <= counts[0] <= 70
    assert Coupon.objects.filter(code__in=["WELCOME10", "EXPIRED10"]).count() == 2
    assert Category.objects.count() >= 6
    assert Brand.objects.count() >= 4
    assert Product.objects.exclude(variants__name="").distinct().count() >= 10
    states = {status_of(item).state for item in StockItem.objects.all()}
    assert states == set(StockState)
    assert all(p.images.filter(is_primary=True).exists() for p in Product.objects.all())
    # Seeding writes its receipts to the ledger exactly once.
    assert (
        StockMovement.objects.filter(reference="seed_demo").count()
        == StockItem.objects.filter(on_hand__gt=0).count()
    )


@override_settings(DEBUG=True)
def test_demo_staff_account_can_sign_in_to_admin(client: Client) -> None:
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    assert client.login(username="admin", password="shop-demo-admin")
    assert client.get("/admin/").status_code == 200


@override_settings(DEBUG=False)
def test_seed_demo_skips_the_known_staff_account_when_debug_is_off() -> None:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert Product.objects.exists()
    assert not get_user_model().objects.filter(username="admin").exists()
    assert "Skipped the demo staff account" in out.getvalue()
    assert "shop-demo-admin" not in out.getvalue().split("Skipped")[1]


@override_settings(DEBUG=False)
def test_seed_demo_creates_the_staff_account_on_request_when_debug_is_off(
    client: Client,
) -> None:
    out = io.StringIO()
    call_command("seed_demo", "--with-demo-admin", stdout=out)
    assert client.login(username="admin", password="shop-demo-admin")
    assert get_user_model().objects.get(username="admin").is_superuser
    assert "Skipped" not in out.getvalue()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/catalog/product/",
        "/admin/catalog/product/?q=SKU",
        "/admin/catalog/category/",
        "/admin/catalog/brand/",
        "/admin/catalog/productvariant/",
        "/admin/inventory/stockitem/",
        "/admin/inventory/stockitem/?level=low",
        "/admin/inventory/stockitem/?level=out",
        "/admin/inventory/stockitem/?level=backorder",
        "/admin/inventory/stockmovement/",
    ],
)
def test_admin_changelists_render_with_bounded_queries(
    staff_client: Client,
    django_assert_max_num_queries,
    url: str,
) -> None:
    for i in range(15):
        make_product(f"Admin {i}", stock=i)
    with django_assert_max_num_queries(15):
        response = staff_client.get(url)
    assert response.status_code == 200


def test_stock_level_filters(staff_client: Client) -> None:
    make_product("Plenty", stock=50)
    make_product("Low", stock=3)
    make_product("Gone", stock=0)
    low = staff_client.get("/admin/inventory/stockitem/?level=low")
    assert [i.variant.product.name for i in low.context["cl"].result_list] == ["Low"]
    out = staff_client.get("/admin/inventory/stockitem/?level=out")
    assert [i.variant.product.name for i in out.context["cl"].result_list] == ["Gone"]


def test_product_change_page_and_search_by_sku(staff_client: Client) -> None:
    product = make_product("Findable", variants=[{"sku": "FIND-ME-42"}])
    assert staff_client.get(f"/admin/catalog/product/{product.pk}/change/").status_code == 200
    found = staff_client.get("/admin/catalog/product/?q=FIND-ME-42")
    assert [p.name for p in found.context["cl"].result_list] == ["Findable"]


def test_stock_count_in_admin_goes_through_the_ledger(staff_client: Client) -> None:
    item = StockItem.objects.get(variant__product=make_product(stock=5))
    response = staff_client.post(
        f"/admin/inventory/stockitem/{item.pk}/change/",
        {
            "allow_backorder": "",
            "track_quantity": "on",
            "low_stock_threshold": "5",
            "counted": "12",
            "movements-TOTAL_FORMS": "0",
            "movements-INITIAL_FORMS": "0",
            "movements-MIN_NUM_FORMS": "0",
            "movements-MAX_NUM_FORMS": "0",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.on_hand == 12
    assert item.movements.get().on_hand_delta == 7
