"""Reads for checkout: shipping zones with their methods and tax rates, as plain snapshots
for the pure modules (`checkout.shipping`, `checkout.tax`)."""

from collections.abc import Iterable

from django.db.models import Prefetch

from apps.checkout.addresses import AddressData
from apps.checkout.models import Address, ShippingMethod, ShippingZone, TaxRate
from apps.checkout.shipping import MethodSnapshot, ZoneSnapshot
from apps.checkout.tax import RateSnapshot


def _country_codes(countries: object) -> frozenset[str]:
    """CountryField(multiple=True) gives Country objects; their codes are what matches."""
    if isinstance(countries, str) or hasattr(countries, "code"):
        items: Iterable[object] = [countries]
    elif isinstance(countries, Iterable):
        items = countries
    else:
        items = []
    return frozenset(str(getattr(c, "code", c)).upper() for c in items if c)


def _strings(value: object) -> tuple[str, ...]:
    """A JSON list field's non-empty strings (admin-entered data may hold anything)."""
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip() for v in value if isinstance(v, str | int) and str(v).strip())


def method_snapshot(method: ShippingMethod) -> MethodSnapshot:
    return MethodSnapshot(
        method_id=method.pk,
        name=method.name,
        description=method.description,
        carrier=method.carrier,
        service_level=method.service_level,
        currency=method.currency.upper(),
        base_cost=method.base_cost,
        cost_per_kg=method.cost_per_kg,
        free_over=method.free_over,
        min_days=method.min_delivery_days,
        max_days=method.max_delivery_days,
        tracking=method.tracking_available,
        signature=method.requires_signature,
    )


def shipping_zones() -> tuple[ZoneSnapshot, ...]:
    """Every active zone with its active methods in display order: two queries."""
    zones = ShippingZone.objects.filter(is_active=True).prefetch_related(
        Prefetch(
            "methods",
            queryset=ShippingMethod.objects.filter(is_active=True).order_by(
                "position", "base_cost", "id"
            ),
            to_attr="active_methods",
        )
    )
    return tuple(
        ZoneSnapshot(
            zone_id=zone.pk,
            name=zone.name,
            countries=_country_codes(zone.countries),
            subdivisions=frozenset(s.upper() for s in _strings(zone.subdivisions)),
            postcode_prefixes=_strings(zone.postcode_prefixes),
            methods=tuple(method_snapshot(m) for m in getattr(zone, "active_methods", [])),
        )
        for zone in zones
    )


def tax_rates(country: str) -> tuple[RateSnapshot, ...]:
    """The country's active tax rates (all subdivisions and prefixes): one query;
    `tax.rates_for` picks the ones that apply to an address."""
    return tuple(
        RateSnapshot(
            rate_id=rate.pk,
            name=rate.name,
            country=str(rate.country.code if hasattr(rate.country, "code") else rate.country),
            subdivision=rate.subdivision.strip().upper(),
            postcode_prefix=rate.postcode_prefix.strip(),
            rate=rate.rate,
            kind=rate.kind,
            applies_to_shipping=rate.applies_to_shipping,
        )
        for rate in TaxRate.objects.filter(
            country=country.strip().upper(), is_active=True
        ).order_by("id")
    )


# --- checkout sessions (C3) ------------------------------------------------------------


def saved_addresses(user_id: int) -> list[Address]:
    """A customer's address book for the address steps, default shipping first: one query."""
    return list(
        Address.objects.filter(user_id=user_id).order_by(
            "-is_default_shipping", "-updated_at", "-id"
        )
    )


def address_data(address: Address) -> AddressData:
    """A saved address as the snapshot a checkout session stores."""
    return AddressData(
        first_name=address.first_name,
        last_name=address.last_name,
        company=address.company,
        street1=address.street1,
        street2=address.street2,
        city=address.city,
        state=address.state,
        zip_code=address.zip_code,
        country=str(getattr(address.country, "code", address.country)),
        phone=address.phone,
    )
