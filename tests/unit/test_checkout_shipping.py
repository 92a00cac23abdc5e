"""Shipping without a database: the most specific zone, cost by weight, free thresholds and
free-shipping coupons, rounding, and delivery dates over weekends around the cutoff."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.cart.snapshot import LineSnapshot
from apps.checkout.shipping import (
    MethodSnapshot,
    ZoneSnapshot,
    cart_weight,
    delivery_window,
    dispatch_date,
    find_quote,
    needs_shipping,
    quotes_for,
    zone_for,
)
from apps.inventory.availability import StockState, StockStatus
from tests.support import imports_of

NY = ZoneInfo("America/New_York")
# 2026-12-02 is a Wednesday; 12-04 a Friday; 12-05/06 the weekend.
WEDNESDAY_MORNING = datetime(2026, 12, 2, 9, 30, tzinfo=NY)


def method(method_id: int = 1, **kwargs: Any) -> MethodSnapshot:
    values: dict[str, Any] = {
        "name": "Standard",
        "description": "",
        "carrier": "USPS",
        "service_level": "standard",
        "currency": "USD",
        "base_cost": Decimal("5.00"),
        "cost_per_kg": Decimal("0.00"),
        "free_over": None,
        "min_days": 2,
        "max_days": 4,
        "tracking": True,
        "signature": False,
    }
    values.update(kwargs)
    return MethodSnapshot(method_id=method_id, **values)


def zone(zone_id: int, countries: set[str], **kwargs: Any) -> ZoneSnapshot:
    return ZoneSnapshot(
        zone_id=zone_id, name=f"zone {zone_id}", countries=frozenset(countries), **kwargs
    )


def quotes(
    z: ZoneSnapshot,
    *,
    weight: str = "0",
    subtotal: str = "10.00",
    free: bool = False,
    now: datetime = WEDNESDAY_MORNING,
    currency: str = "USD",
) -> tuple[Any, ...]:
    return quotes_for(
        z,
        weight_kg=Decimal(weight),
        discounted_subtotal=Decimal(subtotal),
        free_shipping=free,
        now_local=now,
        cutoff_hour=14,
        currency=currency,
    )


def test_the_module_imports_no_orm_or_settings() -> None:
    imported = imports_of("apps.checkout.shipping")
    assert not {m for m in imported if m.startswith(("django", "apps.checkout.models"))}, imported


# Zones.

US = zone(1, {"US"})
WEST = zone(2, {"US"}, subdivisions=frozenset({"CA", "OR", "WA"}))
BAY = zone(3, {"US"}, subdivisions=frozenset({"CA"}), postcode_prefixes=("94",))
SF = zone(4, {"US"}, postcode_prefixes=("941",))
UK_LONDON = zone(5, {"GB"}, postcode_prefixes=("SW1",))
EU = zone(6, {"DE", "FR", "NL"})


@pytest.mark.parametrize(
    ("country", "subdivision", "postcode", "expected"),
    [
        ("US", "NY", "10001", 1),  # country only
        ("US", "OR", "97201", 2),  # subdivision beats country
        ("US", "CA", "90001", 2),  # CA outside the 94 prefix
        ("US", "CA", "94010", 3),  # postcode prefix beats subdivision
        ("US", "CA", "94107", 4),  # the longer prefix wins
        ("us", "us-ca", " 94107 ", 4),  # case, ISO 3166-2 form and spaces do not matter
        ("GB", "", "sw1a 1aa", 5),
        ("FR", "", "75001", 6),
    ],
)
def test_the_most_specific_zone_wins(
    country: str, subdivision: str, postcode: str, expected: int
) -> None:
    found = zone_for(country, subdivision, postcode, [US, WEST, BAY, SF, UK_LONDON, EU])
    assert found is not None
    assert found.zone_id == expected


def test_a_zone_naming_subdivision_and_prefix_needs_both() -> None:
    # 94xxx in a state the zone does not name: BAY does not apply, the country zone does.
    assert zone_for("US", "NV", "94107", [US, BAY]) == US


def test_no_zone_means_the_shop_does_not_ship_there() -> None:
    assert zone_for("JP", "", "100-0001", [US, WEST, EU]) is None
    assert zone_for("GB", "", "M1 1AA", [UK_LONDON]) is None  # only SW1 is served
    assert zone_for("US", "", "", []) is None


def test_equally_specific_zones_go_to_the_lowest_id() -> None:
    first, second = zone(8, {"US"}), zone(9, {"US"})
    assert zone_for("US", "", "", [second, first]) == first


# Costs.


def test_cost_is_base_plus_per_kg_times_weight_rounded_half_up() -> None:
    z = zone(1, {"US"}, methods=(method(base_cost=Decimal("5.00"), cost_per_kg=Decimal("1.25")),))
    (q,) = quotes(z, weight="2.002")  # 5 + 2.5025 = 7.5025
    assert q.cost == Decimal("7.50")
    (q,) = quotes(z, weight="2.006")  # 7.5075 rounds half-up
    assert q.cost == Decimal("7.51")
    assert not q.free


def test_weight_is_per_unit_for_shipped_lines_only() -> None:
    stock = StockStatus(StockState.IN_STOCK, 10)

    def line(line_id: int, weight: str | None, quantity: int, ships: bool = True) -> LineSnapshot:
        return LineSnapshot(
            line_id=line_id,
            variant_id=line_id,
            product_id=line_id,
            quantity=quantity,
            added_unit_price=Decimal("1"),
            added_customizations_price=Decimal("0"),
            current_price=Decimal("1"),
            stock=stock,
            weight_kg=Decimal(weight) if weight is not None else None,
            requires_shipping=ships,
        )

    lines = [line(1, "0.250", 3), line(2, None, 5), line(3, "9.000", 1, ships=False)]
    assert cart_weight(lines) == Decimal("0.750")
    assert cart_weight([]) == 0
    assert needs_shipping(lines)
    assert not needs_shipping(lines[2:])
    assert not needs_shipping([])


@pytest.mark.parametrize(
    ("subtotal", "free"), [("74.99", False), ("75.00", True), ("120.00", True)]
)
def test_free_once_the_discounted_subtotal_reaches_free_over(subtotal: str, free: bool) -> None:
    z = zone(1, {"US"}, methods=(method(free_over=Decimal("75.00"), cost_per_kg=Decimal("1")),))
    (q,) = quotes(z, weight="3", subtotal=subtotal)
    assert q.free is free
    assert q.cost == (Decimal("0.00") if free else Decimal("8.00"))


def test_a_free_shipping_coupon_makes_every_method_free() -> None:
    z = zone(1, {"US"}, methods=(method(1), method(2, base_cost=Decimal("30.00"))))
    result = quotes(z, weight="5", free=True)
    assert [(q.cost, q.free) for q in result] == [(Decimal("0.00"), True)] * 2


def test_methods_in_another_currency_are_not_offered() -> None:
    z = zone(1, {"US"}, methods=(method(1), method(2, currency="EUR")))
    assert [q.method_id for q in quotes(z)] == [1]
    assert [q.method_id for q in quotes(z, currency="EUR")] == [2]


def test_find_quote_by_method_id() -> None:
    z = zone(1, {"US"}, methods=(method(1), method(2)))
    result = quotes(z)
    assert find_quote(result, 2) == result[1]
    assert find_quote(result, 99) is None
    assert find_quote(result, None) is None


def test_the_quote_carries_the_method() -> None:
    z = zone(
        1,
        {"US"},
        methods=(
            method(7, name="Overnight", carrier="FedEx", service_level="overnight", signature=True),
        ),
    )
    (q,) = quotes(z)
    assert (q.method_id, q.name, q.carrier, q.service_level, q.signature, q.tracking) == (
        7,
        "Overnight",
        "FedEx",
        "overnight",
        True,
        True,
    )


# Delivery dates.


@pytest.mark.parametrize(
    ("now", "dispatched"),
    [
        (datetime(2026, 12, 2, 13, 59, tzinfo=NY), date(2026, 12, 2)),  # before the cutoff
        (datetime(2026, 12, 2, 14, 0, tzinfo=NY), date(2026, 12, 3)),  # at the cutoff: next
        (datetime(2026, 12, 4, 13, 0, tzinfo=NY), date(2026, 12, 4)),  # Friday morning
        (datetime(2026, 12, 4, 15, 0, tzinfo=NY), date(2026, 12, 7)),  # Friday late: Monday
        (datetime(2026, 12, 5, 9, 0, tzinfo=NY), date(2026, 12, 7)),  # Saturday: Monday
        (datetime(2026, 12, 6, 23, 0, tzinfo=NY), date(2026, 12, 7)),  # Sunday: Monday
    ],
)
def test_dispatch_same_business_day_before_the_cutoff(now: datetime, dispatched: date) -> None:
    assert dispatch_date(now, 14) == dispatched


@pytest.mark.parametrize(
    ("now", "low", "high", "expected"),
    [
        # Wednesday morning, 2-4 business days: Friday to Monday (the weekend skipped).
        (WEDNESDAY_MORNING, 2, 4, (date(2026, 12, 4), date(2026, 12, 8))),
        # Friday after the cutoff leaves Monday: 1 day is Tuesday, 1-1 overnight.
        (datetime(2026, 12, 4, 16, 0, tzinfo=NY), 1, 1, (date(2026, 12, 8), date(2026, 12, 8))),
        # Friday before the cutoff: next business day is Monday.
        (datetime(2026, 12, 4, 10, 0, tzinfo=NY), 1, 2, (date(2026, 12, 7), date(2026, 12, 8))),
        # Saturday, 3-5 days from Monday's dispatch: Thursday to the next Monday.
        (datetime(2026, 12, 5, 10, 0, tzinfo=NY), 3, 5, (date(2026, 12, 10), date(2026, 12, 14))),
        # 0 days: the dispatch day itself.
        (WEDNESDAY_MORNING, 0, 0, (date(2026, 12, 2), date(2026, 12, 2))),
    ],
)
def test_delivery_window_counts_business_days(
    now: datetime, low: int, high: int, expected: tuple[date, date]
) -> None:
    assert delivery_window(now, 14, low, high) == expected


def test_the_local_date_decides_not_utc() -> None:
    """23:30 on a Friday in New York is Saturday in UTC; both dispatch Monday, but 10:00
    Friday in New York (15:00 UTC, after a 14:00 cutoff in UTC) leaves the same day."""
    friday_morning = datetime(2026, 12, 4, 10, 0, tzinfo=NY)
    assert dispatch_date(friday_morning, 14) == date(2026, 12, 4)
    assert dispatch_date(friday_morning.astimezone(ZoneInfo("UTC")), 14) == date(2026, 12, 7)


def test_quotes_carry_the_window() -> None:
    z = zone(1, {"US"}, methods=(method(min_days=2, max_days=4),))
    (q,) = quotes(z)
    assert (q.earliest, q.latest, q.min_days, q.max_days) == (
        date(2026, 12, 4),
        date(2026, 12, 8),
        2,
        4,
    )
