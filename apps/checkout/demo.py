"""Demo shipping zones, methods and tax rates for `seed_demo`.

Idempotent: zones are matched by name, methods by zone and name, rates by place and name;
rows that exist (perhaps edited by staff) are left as they are. Prices are USD because the
demo carts are; the rates are examples, not tax advice.
"""

from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.checkout.models import ShippingMethod, ShippingZone, TaxRate

Level = ShippingMethod.ServiceLevel
Kind = TaxRate.Kind

# (name, carrier, level, base, per kg, free over, min days, max days, signature)
MethodSpec = tuple[str, str, str, str, str, str | None, int, int, bool]

ZONES: list[tuple[str, list[str], list[str], list[MethodSpec]]] = [
    (
        "US West",
        ["US"],
        ["CA", "OR", "WA"],
        [
            ("Standard", "USPS", Level.STANDARD, "5.99", "0.50", "75.00", 2, 4, False),
            ("Express", "UPS", Level.EXPRESS, "14.99", "1.50", None, 1, 2, False),
            ("Overnight", "FedEx", Level.OVERNIGHT, "29.99", "2.50", None, 1, 1, True),
        ],
    ),
    (
        "United States",
        ["US"],
        [],
        [
            ("Standard", "USPS", Level.STANDARD, "6.99", "0.75", "75.00", 3, 6, False),
            ("Express", "UPS", Level.EXPRESS, "17.99", "1.75", None, 2, 3, False),
            ("Overnight", "FedEx", Level.OVERNIGHT, "34.99", "3.00", None, 1, 1, True),
        ],
    ),
    (
        "Canada",
        ["CA"],
        [],
        [
            ("Standard", "Canada Post", Level.STANDARD, "14.99", "2.00", "150.00", 5, 9, False),
            ("Express", "UPS", Level.EXPRESS, "29.99", "4.00", None, 2, 4, False),
        ],
    ),
    (
        "European Union",
        ["DE", "FR", "NL", "BE", "AT", "IE", "IT", "ES"],
        [],
        [
            ("Economy", "Deutsche Post", Level.ECONOMY, "12.99", "2.50", None, 8, 14, False),
            ("Standard", "DHL", Level.STANDARD, "19.99", "3.00", "200.00", 5, 8, False),
            ("Express", "DHL Express", Level.EXPRESS, "39.99", "6.00", None, 2, 4, True),
        ],
    ),
    (
        "United Kingdom",
        ["GB"],
        [],
        [
            ("Standard", "Royal Mail", Level.STANDARD, "16.99", "3.00", "200.00", 5, 8, False),
            ("Express", "DHL Express", Level.EXPRESS, "34.99", "5.00", None, 2, 4, True),
        ],
    ),
    (
        "Australia",
        ["AU"],
        [],
        [
            ("Economy", "Australia Post", Level.ECONOMY, "19.99", "4.00", None, 10, 20, False),
            ("Standard", "Australia Post", Level.STANDARD, "24.99", "5.00", "250.00", 7, 12, False),
            ("Express", "DHL Express", Level.EXPRESS, "49.99", "8.00", None, 3, 5, True),
        ],
    ),
]

# (name, country, subdivision, postcode prefix, rate, kind, applies to shipping)
RateSpec = tuple[str, str, str, str, str, str, bool]

RATES: list[RateSpec] = [
    ("California", "US", "CA", "", "0.0725", Kind.SALES, False),
    # The most specific rates replace the state's, so a district rate carries the total.
    ("San Francisco (state + district)", "US", "CA", "941", "0.08625", Kind.SALES, False),
    ("New York State", "US", "NY", "", "0.04", Kind.SALES, True),
    # Rates on the same level all apply: Manhattan pays state, city and MCTD together.
    ("New York State (Manhattan)", "US", "NY", "100", "0.04", Kind.SALES, True),
    ("New York City", "US", "NY", "100", "0.045", Kind.SALES, True),
    (
        "Metropolitan Commuter Transportation District",
        "US",
        "NY",
        "100",
        "0.00375",
        Kind.SALES,
        True,
    ),
    ("Texas", "US", "TX", "", "0.0625", Kind.SALES, True),
    ("Washington", "US", "WA", "", "0.065", Kind.SALES, True),
    ("Germany VAT", "DE", "", "", "0.19", Kind.VAT, True),
    ("France VAT", "FR", "", "", "0.20", Kind.VAT, True),
    ("Netherlands VAT", "NL", "", "", "0.21", Kind.VAT, True),
    ("Belgium VAT", "BE", "", "", "0.21", Kind.VAT, True),
    ("Austria VAT", "AT", "", "", "0.20", Kind.VAT, True),
    ("Ireland VAT", "IE", "", "", "0.23", Kind.VAT, True),
    ("Italy VAT", "IT", "", "", "0.22", Kind.VAT, True),
    ("Spain VAT", "ES", "", "", "0.21", Kind.VAT, True),
    ("UK VAT", "GB", "", "", "0.20", Kind.VAT, True),
    ("Australia GST", "AU", "", "", "0.10", Kind.GST, True),
    ("Canada GST", "CA", "", "", "0.05", Kind.GST, True),
    # HST replaces GST in Ontario; Quebec charges GST and QST side by side.
    ("Ontario HST", "CA", "ON", "", "0.13", Kind.GST, True),
    ("Canada GST (Quebec)", "CA", "QC", "", "0.05", Kind.GST, True),
    ("Quebec QST", "CA", "QC", "", "0.09975", Kind.SALES, True),
]


def seed_demo_shipping_and_tax() -> str:
    zones = methods = rates = 0
    with transaction.atomic():
        for name, countries, subdivisions, specs in ZONES:
            # The stubs type CountryField(multiple=True) as one code; it takes a list.
            zone_fields: dict[str, Any] = {
                "countries": countries,
                "subdivisions": subdivisions,
                "postcode_prefixes": [],
            }
            zone, created = ShippingZone.objects.get_or_create(name=name, defaults=zone_fields)
            zones += created
            for position, spec in enumerate(specs):
                method_name, carrier, level, base, per_kg, free_over, low, high, signed = spec
                _, created = ShippingMethod.objects.get_or_create(
                    zone=zone,
                    name=method_name,
                    defaults={
                        "description": f"{carrier}, {low}-{high} business days"
                        if low != high
                        else f"{carrier}, next business day",
                        "carrier": carrier,
                        "service_level": level,
                        "currency": "USD",
                        "base_cost": Decimal(base),
                        "cost_per_kg": Decimal(per_kg),
                        "free_over": Decimal(free_over) if free_over else None,
                        "min_delivery_days": low,
                        "max_delivery_days": high,
                        "requires_signature": signed,
                        "position": position,
                    },
                )
                methods += created
        for name, country, subdivision, prefix, rate, kind, shipping in RATES:
            _, created = TaxRate.objects.get_or_create(
                name=name,
                country=country,
                subdivision=subdivision,
                postcode_prefix=prefix,
                defaults={"rate": Decimal(rate), "kind": kind, "applies_to_shipping": shipping},
            )
            rates += created
    return (
        f"{len(ZONES)} shipping zones, {sum(len(z[3]) for z in ZONES)} methods, "
        f"{len(RATES)} tax rates ({zones + methods + rates} new)"
    )
