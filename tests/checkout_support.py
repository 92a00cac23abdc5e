"""Builders for the checkout tests: shipping zones and tax rates with known figures, a
cart filled through the shop's own pages, and a guest walked to a given step."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.test import Client

from apps.checkout.models import ShippingMethod, ShippingZone, TaxRate
from tests.factories import make_product, variant_of

# A Californian address (US West zone, CA sales tax) and a New York one (national zone).
CA_ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "street1": "1 Market St",
    "city": "San Francisco",
    "state": "CA",
    "zip_code": "94105",
    "country": "US",
}
NY_ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "street1": "350 Fifth Avenue",
    "city": "New York",
    "state": "NY",
    "zip_code": "10118",
    "country": "US",
}


def api_address(address: dict[str, str]) -> dict[str, str]:
    """The address as the JSON API spells it (camelCase keys)."""
    return {re.sub(r"_([a-z])", lambda m: m[1].upper(), k): v for k, v in address.items()}


API_CA = api_address(CA_ADDRESS)
API_NY = api_address(NY_ADDRESS)


def make_zones() -> dict[str, ShippingMethod]:
    """US West (CA, OR, WA) and the rest of the US, two methods each; CA 7.25%, WA 6.5%
    and NY 4% sales tax (NY's also on shipping). Returns the methods by "<zone> <name>"."""
    west = ShippingZone.objects.create(  # type: ignore[misc]
        name="US West", countries=["US"], subdivisions=["CA", "OR", "WA"]
    )
    national = ShippingZone.objects.create(name="United States", countries=["US"])  # type: ignore[misc]
    methods = {}
    for zone, base in ((west, "5.99"), (national, "6.99")):
        methods[f"{zone.name} Standard"] = ShippingMethod.objects.create(
            zone=zone,
            name="Standard",
            carrier="USPS",
            service_level="standard",
            base_cost=Decimal(base),
            free_over=Decimal("500.00"),
            min_delivery_days=3,
            max_delivery_days=5,
            position=1,
        )
        methods[f"{zone.name} Express"] = ShippingMethod.objects.create(
            zone=zone,
            name="Express",
            carrier="UPS",
            service_level="express",
            base_cost=Decimal("19.00"),
            min_delivery_days=1,
            max_delivery_days=2,
            position=2,
        )
    TaxRate.objects.create(
        name="California", country="US", subdivision="CA", rate=Decimal("0.0725")
    )
    TaxRate.objects.create(name="Washington", country="US", subdivision="WA", rate=Decimal("0.065"))
    TaxRate.objects.create(
        name="New York",
        country="US",
        subdivision="NY",
        rate=Decimal("0.04"),
        applies_to_shipping=True,
    )
    return methods


def fill_cart(client: Client, lines: int = 2, price: str = "20.00") -> list[Any]:
    """Add `lines` different products (one unit each) through the cart page's form."""
    products = []
    for n in range(lines):
        product = make_product(name=f"Checkout item {n}", price=price, stock=50, image=False)
        response = client.post("/cart/add/", {"variant_id": variant_of(product).pk, "quantity": 1})
        assert response.status_code == 302
        products.append(product)
    return products


def address_post(address: dict[str, str], prefix: str = "shipping", **extra: str) -> dict[str, str]:
    data = {f"{prefix}-{k}": v for k, v in address.items()}
    data.update(extra)
    return data


def walk_guest(
    client: Client, until: str = "review", address: dict[str, str] | None = None
) -> None:
    """A guest from the cart to `until` (guest, shipping-address, shipping-method,
    payment, review), billing the same as shipping."""
    steps = ["start", "identify", "guest", "shipping-address", "shipping-method", "payment"]
    posts: dict[str, tuple[str, dict[str, str]]] = {
        "start": ("/checkout/", {}),
        "identify": ("/checkout/identify/", {}),
        "guest": (
            "/checkout/guest/",
            {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
        ),
        "shipping-address": (
            "/checkout/shipping-address/",
            address_post(address or CA_ADDRESS, billing_same_as_shipping="on"),
        ),
        "shipping-method": ("/checkout/shipping-method/", {}),
        "payment": ("/checkout/payment/", {"payment_method": "card"}),
    }
    client.get("/checkout/")
    for step in steps:
        if step == until:
            return
        url, data = posts[step]
        if step == "shipping-method":
            page = client.get(url)
            data = {"shipping_method": str(page.context["quotes"][0].method_id)}
        response = client.post(url, data)
        assert response.status_code == 302, (step, response.status_code, _errors(response))


def _errors(response: Any) -> object:
    context = getattr(response, "context", None)
    return context.get("error_summary") if context else None


def stored(snapshot: object) -> dict[str, str]:
    """A checkout session's address snapshot (a JSON dict), asserted present."""
    assert isinstance(snapshot, dict)
    return snapshot
