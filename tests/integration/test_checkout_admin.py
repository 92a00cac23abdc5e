"""Shipping zones, methods and tax rates in Django admin: staff add and edit them through the
real admin views, and bad values (min days above max days, negative costs, a rate of 1 or
more) come back as form errors, never a 500 from the database constraints."""

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from apps.checkout import selectors
from apps.checkout.models import ShippingMethod, ShippingZone, TaxRate
from apps.checkout.shipping import zone_for
from apps.checkout.tax import rates_for
from tests.integration.test_catalog_admin import change_form_data, change_url, form_errors

pytestmark = pytest.mark.django_db


def add_url(model: type[Any]) -> str:
    return reverse(f"admin:checkout_{model._meta.model_name}_add")


def list_url(model: type[Any]) -> str:
    return reverse(f"admin:checkout_{model._meta.model_name}_changelist")


def make_zone() -> ShippingZone:
    zone = ShippingZone.objects.create(name="US", countries=["US"])  # type: ignore[misc]
    ShippingMethod.objects.create(
        zone=zone,
        name="Standard",
        carrier="USPS",
        base_cost=Decimal("5.99"),
        min_delivery_days=2,
        max_delivery_days=4,
    )
    return zone


METHOD_FIELDS = {
    "name": "Express",
    "carrier": "UPS",
    "service_level": "express",
    "currency": "usd",
    "base_cost": "14.99",
    "cost_per_kg": "1.50",
    "free_over": "",
    "min_delivery_days": "1",
    "max_delivery_days": "2",
    "position": "1",
    "is_active": "on",
}


def test_add_a_zone_with_methods_inline(admin_client: Client) -> None:
    data = change_form_data(admin_client.get(add_url(ShippingZone)))
    data.update(
        {
            "name": "US West",
            "countries": ["US"],
            "subdivisions": "ca, US-or,WA",
            "postcode_prefixes": "",
            "is_active": "on",
            "methods-TOTAL_FORMS": "1",
            **{f"methods-0-{k}": v for k, v in METHOD_FIELDS.items()},
        }
    )
    response = admin_client.post(add_url(ShippingZone), data)
    assert response.status_code == 302, form_errors(response)
    zone = ShippingZone.objects.get(name="US West")
    assert zone.subdivisions == ["CA", "OR", "WA"]
    assert zone.postcode_prefixes == []
    method = zone.methods.get()
    assert (method.currency, method.base_cost, method.max_delivery_days) == (
        "USD",
        Decimal("14.99"),
        2,
    )
    found = zone_for("US", "OR", "97201", selectors.shipping_zones())
    assert found is not None
    assert found.name == "US West"


def test_edit_a_zone_keeps_its_lists(admin_client: Client) -> None:
    zone = ShippingZone.objects.create(  # type: ignore[misc]
        name="Bay", countries=["US"], subdivisions=["CA"], postcode_prefixes=["94", "95"]
    )
    response = admin_client.get(change_url(zone))
    assert 'value="94, 95"' in response.content.decode()
    data = change_form_data(response)
    data["name"] = "Bay Area"
    response = admin_client.post(change_url(zone), data)
    assert response.status_code == 302, form_errors(response)
    zone.refresh_from_db()
    assert (zone.name, zone.subdivisions, zone.postcode_prefixes) == (
        "Bay Area",
        ["CA"],
        ["94", "95"],
    )


def test_a_bad_code_in_a_zone_list_is_a_form_error(admin_client: Client) -> None:
    zone = make_zone()
    data = change_form_data(admin_client.get(change_url(zone)))
    data["postcode_prefixes"] = "94; DROP"
    response = admin_client.post(change_url(zone), data)
    assert response.status_code == 200
    assert "is not a code" in form_errors(response)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("min_delivery_days", "5", "cannot be fewer than the minimum"),
        ("base_cost", "-1.00", "greater than or equal to 0"),
        ("cost_per_kg", "-0.01", "greater than or equal to 0"),
        ("free_over", "-5", "greater than or equal to 0"),
        ("currency", "XXX", "Use one of the shop"),
        ("base_cost", "abc", "Enter a number"),
    ],
)
def test_bad_method_values_are_form_errors(
    admin_client: Client, field: str, value: str, message: str
) -> None:
    method = make_zone().methods.get()
    data = change_form_data(admin_client.get(change_url(method)))
    data[field] = value
    response = admin_client.post(change_url(method), data)
    assert response.status_code == 200
    assert message in form_errors(response)
    method.refresh_from_db()
    assert (method.base_cost, method.min_delivery_days) == (Decimal("5.99"), 2)


def test_bad_inline_method_is_a_form_error_on_the_zone_page(admin_client: Client) -> None:
    zone = make_zone()
    data = change_form_data(admin_client.get(change_url(zone)))
    data["methods-0-min_delivery_days"] = "9"
    response = admin_client.post(change_url(zone), data)
    assert response.status_code == 200
    assert "cannot be fewer than the minimum" in form_errors(response)


def test_edit_a_method(admin_client: Client) -> None:
    method = make_zone().methods.get()
    data = change_form_data(admin_client.get(change_url(method)))
    data.update({"free_over": "75.00", "cost_per_kg": "0.50", "max_delivery_days": "6"})
    response = admin_client.post(change_url(method), data)
    assert response.status_code == 302, form_errors(response)
    method.refresh_from_db()
    assert (method.free_over, method.cost_per_kg, method.max_delivery_days) == (
        Decimal("75.00"),
        Decimal("0.50"),
        6,
    )


RATE_FIELDS = {
    "name": "San Francisco",
    "country": "US",
    "subdivision": "us-ca",
    "postcode_prefix": "941",
    "rate": "0.08625",
    "kind": "sales",
}


def test_add_and_edit_a_tax_rate(admin_client: Client) -> None:
    response = admin_client.post(add_url(TaxRate), {**RATE_FIELDS, "is_active": "on"})
    assert response.status_code == 302, form_errors(response)
    rate = TaxRate.objects.get()
    assert (rate.subdivision, rate.rate, rate.applies_to_shipping) == (
        "CA",
        Decimal("0.08625"),
        False,
    )
    assert [r.name for r in rates_for("US", "CA", "94107", selectors.tax_rates("US"))] == [
        "San Francisco"
    ]
    data = change_form_data(admin_client.get(change_url(rate)))
    data.update({"rate": "0.0875", "applies_to_shipping": "on"})
    response = admin_client.post(change_url(rate), data)
    assert response.status_code == 302, form_errors(response)
    rate.refresh_from_db()
    assert (rate.rate, rate.applies_to_shipping) == (Decimal("0.08750"), True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1", "from 0 up to (not including) 1"),
        ("7.25", "from 0 up to (not including) 1"),
        ("-0.01", "from 0 up to (not including) 1"),
        ("0.123456", "no more than 5 decimal places"),
        ("lots", "Enter a number"),
    ],
)
def test_bad_rates_are_form_errors(admin_client: Client, value: str, message: str) -> None:
    response = admin_client.post(add_url(TaxRate), {**RATE_FIELDS, "rate": value})
    assert response.status_code == 200
    assert message in form_errors(response)
    assert not TaxRate.objects.exists()


def test_lists_filters_and_search_answer(admin_client: Client) -> None:
    call_command("seed_demo", verbosity=0)
    for url in (
        list_url(ShippingZone),
        list_url(ShippingMethod),
        list_url(ShippingMethod) + "?service_level__exact=express&is_active__exact=1",
        list_url(ShippingMethod) + "?q=DHL",
        list_url(TaxRate),
        list_url(TaxRate) + "?country=US&kind__exact=sales&is_active__exact=1",
        list_url(TaxRate) + "?q=Quebec",
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    page = admin_client.get(list_url(TaxRate) + "?country=CA").content.decode()
    assert "Quebec QST" in page
    assert "9.975%" in page
    assert "California" not in page


# The demo seed.


def test_seed_demo_adds_zones_methods_and_rates_once() -> None:
    call_command("seed_demo", verbosity=0)
    counts = (ShippingZone.objects.count(), ShippingMethod.objects.count(), TaxRate.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (
        ShippingZone.objects.count(),
        ShippingMethod.objects.count(),
        TaxRate.objects.count(),
    ) == counts
    assert counts[0] >= 5
    zones = selectors.shipping_zones()
    for country, subdivision, expected in [
        ("US", "CA", "US West"),
        ("US", "NY", "United States"),
        ("CA", "ON", "Canada"),
        ("DE", "", "European Union"),
        ("GB", "", "United Kingdom"),
        ("AU", "NSW", "Australia"),
    ]:
        zone = zone_for(country, subdivision, "", zones)
        assert zone is not None
        assert zone.name == expected
        assert 2 <= len(zone.methods) <= 3
        assert all(m.currency == "USD" for m in zone.methods)
        assert any(m.free_over is not None for m in zone.methods)
    assert zone_for("JP", "", "", zones) is None
    for country, subdivision, postcode, names in [
        ("US", "CA", "90001", {"California"}),
        ("US", "CA", "94107", {"San Francisco (state + district)"}),
        (
            "US",
            "NY",
            "10001",
            {"New York State (Manhattan)", "New York City"}
            | {"Metropolitan Commuter Transportation District"},
        ),
        ("DE", "", "10115", {"Germany VAT"}),
        ("GB", "", "SW1A 1AA", {"UK VAT"}),
        ("AU", "NSW", "2000", {"Australia GST"}),
        ("CA", "BC", "V5K", {"Canada GST"}),
        ("CA", "ON", "M5V", {"Ontario HST"}),
    ]:
        found = rates_for(country, subdivision, postcode, selectors.tax_rates(country))
        assert {r.name for r in found} == names, (country, subdivision)


def test_a_zone_with_methods_cannot_be_deleted_and_says_why(admin_client: Client) -> None:
    """Methods protect their zone (a checkout may point at one): the admin explains, no 500."""
    zone = make_zone()
    url = reverse("admin:checkout_shippingzone_delete", args=[zone.pk])
    response = admin_client.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert "protected" in response.content.decode()
    assert ShippingZone.objects.filter(pk=zone.pk).exists()
    response = admin_client.post(
        list_url(ShippingZone),
        {"action": "delete_selected", "_selected_action": [zone.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert ShippingZone.objects.filter(pk=zone.pk).exists()
