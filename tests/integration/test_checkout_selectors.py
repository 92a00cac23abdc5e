"""Checkout's reads: zones with their methods and tax rates in a fixed number of queries, only
active rows, and the cart snapshot's product facts (weight, taxable, requires shipping)."""

from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal

import pytest

from apps.cart import selectors as cart_selectors
from apps.cart import services as cart_services
from apps.checkout import selectors
from apps.checkout.models import ShippingMethod, ShippingZone, TaxRate
from apps.checkout.shipping import cart_weight, zone_for
from apps.checkout.tax import rates_for
from tests.factories import make_product, make_user, new_session, variant_of

pytestmark = pytest.mark.django_db

AssertNum = Callable[[int], AbstractContextManager[object]]


def make_zone(name: str, countries: list[str], methods: int = 2, **kwargs: object) -> ShippingZone:
    zone = ShippingZone.objects.create(name=name, countries=countries, **kwargs)  # type: ignore[misc]
    for n in range(methods):
        ShippingMethod.objects.create(
            zone=zone,
            name=f"{name} method {n}",
            carrier="UPS",
            base_cost=Decimal("5.00") + n,
            cost_per_kg=Decimal("0.50"),
            min_delivery_days=1 + n,
            max_delivery_days=3 + n,
            position=methods - n,  # reverse order: position decides, not the id
        )
    return zone


@pytest.mark.parametrize("zones", [1, 8])
def test_shipping_zones_take_two_queries_however_many(
    django_assert_num_queries: AssertNum, zones: int
) -> None:
    for n in range(zones):
        make_zone(f"Zone {n}", ["US", "CA"], methods=3)
    with django_assert_num_queries(2):
        found = selectors.shipping_zones()
    assert len(found) == zones
    assert all(len(z.methods) == 3 for z in found)
    assert found[0].countries == frozenset({"US", "CA"})
    # Display order by position.
    assert [m.name for m in found[0].methods] == [f"Zone 0 method {n}" for n in (2, 1, 0)]


def test_only_active_zones_and_methods() -> None:
    zone = make_zone("Live", ["US"], subdivisions=["ca", "OR"], postcode_prefixes=["94", ""])
    make_zone("Off", ["US"], is_active=False)
    ShippingMethod.objects.filter(zone=zone, name="Live method 0").update(is_active=False)
    (found,) = selectors.shipping_zones()
    assert found.name == "Live"
    assert found.subdivisions == frozenset({"CA", "OR"})
    assert found.postcode_prefixes == ("94",)
    assert [m.name for m in found.methods] == ["Live method 1"]
    method = found.methods[0]
    assert (method.base_cost, method.cost_per_kg, method.min_days, method.max_days) == (
        Decimal("6.00"),
        Decimal("0.50"),
        2,
        4,
    )
    assert zone_for("US", "CA", "94107", selectors.shipping_zones()) == found


def test_tax_rates_for_a_country_in_one_query(django_assert_num_queries: AssertNum) -> None:
    TaxRate.objects.create(name="California", country="US", subdivision="CA", rate="0.0725")
    TaxRate.objects.create(
        name="SF", country="US", subdivision="CA", postcode_prefix="941", rate="0.08625"
    )
    TaxRate.objects.create(name="Off", country="US", rate="0.01", is_active=False)
    TaxRate.objects.create(name="DE VAT", country="DE", rate="0.19", kind="vat")
    with django_assert_num_queries(1):
        rates = selectors.tax_rates("us")
    assert [r.name for r in rates] == ["California", "SF"]
    assert rates[0].rate == Decimal("0.0725")
    assert [r.name for r in rates_for("US", "CA", "94107", rates)] == ["SF"]
    assert [r.name for r in rates_for("US", "CA", "90001", rates)] == ["California"]
    assert selectors.tax_rates("FR") == ()


def test_the_cart_snapshot_carries_weight_taxability_and_shipping() -> None:
    user = make_user("weights@example.com")
    cart = cart_services.get_or_create_cart(user=user, session=new_session())
    heavy = make_product(weight_kg=Decimal("1.250"))
    gift_card = make_product(taxable=False, requires_shipping=False, weight_kg=Decimal("5"))
    unweighed = make_product()
    cart_services.add_line(cart, variant_of(heavy).pk, 2)
    cart_services.add_line(cart, variant_of(gift_card).pk, 1)
    cart_services.add_line(cart, variant_of(unweighed).pk, 3)
    snapshot = cart_selectors.load_cart_snapshot(cart)
    facts = [(line.weight_kg, line.taxable, line.requires_shipping) for line in snapshot.lines]
    assert facts == [
        (Decimal("1.250"), True, True),
        (Decimal("5.000"), False, False),
        (None, True, True),
    ]
    assert cart_weight(snapshot.lines) == Decimal("2.500")
