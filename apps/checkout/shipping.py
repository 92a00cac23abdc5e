"""Shipping: which zone serves an address, what each of its methods costs, and when it arrives.

Pure: no ORM, settings or clock. `selectors.shipping_zones` reads the zones, the caller
gives the time in the shop's time zone and the same-day cutoff hour.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from apps.cart.snapshot import LineSnapshot
from apps.core.money import ZERO, quantize

SATURDAY = 5  # date.weekday(): Monday is 0


@dataclass(frozen=True, slots=True)
class MethodSnapshot:
    method_id: int
    name: str
    description: str
    carrier: str
    service_level: str
    currency: str
    base_cost: Decimal
    cost_per_kg: Decimal
    free_over: Decimal | None
    min_days: int
    max_days: int
    tracking: bool
    signature: bool


@dataclass(frozen=True, slots=True)
class ZoneSnapshot:
    zone_id: int
    name: str
    countries: frozenset[str]
    subdivisions: frozenset[str] = frozenset()
    postcode_prefixes: tuple[str, ...] = ()
    methods: tuple[MethodSnapshot, ...] = ()


@dataclass(frozen=True, slots=True)
class ShippingQuote:
    method_id: int
    name: str
    description: str
    carrier: str
    service_level: str
    cost: Decimal
    currency: str
    free: bool
    min_days: int
    max_days: int
    earliest: date
    latest: date
    tracking: bool
    signature: bool


def normalize_postcode(postcode: str) -> str:
    """Upper case without spaces or dashes, so "sw1a 1aa" matches the prefix "SW1"."""
    return "".join(ch for ch in postcode.upper() if ch.isalnum())


def normalize_subdivision(country: str, subdivision: str) -> str:
    """ "US-CA", "us-ca" and "CA" all mean CA in the US."""
    code = subdivision.strip().upper()
    prefix = country.strip().upper() + "-"
    return code[len(prefix) :] if code.startswith(prefix) else code


def _zone_specificity(
    zone: ZoneSnapshot, country: str, subdivision: str, postcode: str
) -> tuple[int, int] | None:
    """(level, prefix length) when the zone covers the address, else None. Level 2 is a
    postcode prefix, 1 a subdivision, 0 the whole country; a zone naming both must match
    both."""
    if country not in {c.upper() for c in zone.countries}:
        return None
    level, length = 0, 0
    if zone.subdivisions:
        if subdivision not in {normalize_subdivision(country, s) for s in zone.subdivisions}:
            return None
        level = 1
    if zone.postcode_prefixes:
        matched = [
            len(p)
            for p in (normalize_postcode(p) for p in zone.postcode_prefixes)
            if p and postcode.startswith(p)
        ]
        if not matched:
            return None
        level, length = 2, max(matched)
    return level, length


def zone_for(
    country: str, subdivision: str, postcode: str, zones: Iterable[ZoneSnapshot]
) -> ZoneSnapshot | None:
    """The most specific zone covering the address (postcode prefix > subdivision >
    country; a longer prefix beats a shorter one; ties go to the lowest zone id), or None:
    the shop does not ship there."""
    country = country.strip().upper()
    subdivision = normalize_subdivision(country, subdivision)
    postcode = normalize_postcode(postcode)
    best: tuple[tuple[int, int, int], ZoneSnapshot] | None = None
    for zone in zones:
        found = _zone_specificity(zone, country, subdivision, postcode)
        if found is None:
            continue
        key = (found[0], found[1], -zone.zone_id)
        if best is None or key > best[0]:
            best = (key, zone)
    return best[1] if best else None


def _is_business_day(day: date) -> bool:
    return day.weekday() < SATURDAY


def _next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while not _is_business_day(day):
        day += timedelta(days=1)
    return day


def add_business_days(start: date, days: int) -> date:
    """`days` business days after `start` (Saturdays and Sundays are skipped)."""
    day = start
    for _ in range(days):
        day = _next_business_day(day)
    return day


def dispatch_date(now_local: datetime, cutoff_hour: int) -> date:
    """Orders placed on a business day before the cutoff leave the same day; later ones,
    and weekend ones, on the next business day."""
    today = now_local.date()
    if _is_business_day(today) and now_local.hour < cutoff_hour:
        return today
    return _next_business_day(today)


def delivery_window(
    now_local: datetime, cutoff_hour: int, min_days: int, max_days: int
) -> tuple[date, date]:
    """Earliest and latest delivery dates, counting business days from dispatch."""
    dispatched = dispatch_date(now_local, cutoff_hour)
    low, high = sorted((max(min_days, 0), max(max_days, 0)))
    return add_business_days(dispatched, low), add_business_days(dispatched, high)


def cart_weight(lines: Iterable[LineSnapshot]) -> Decimal:
    """Kilograms to ship: weight x quantity of the lines that need shipping; a product
    without a weight counts 0."""
    return sum(
        ((line.weight_kg or ZERO) * line.quantity for line in lines if line.requires_shipping),
        Decimal("0"),
    )


def needs_shipping(lines: Iterable[LineSnapshot]) -> bool:
    """Whether anything in the cart is shipped (a cart of gift cards has nothing to send)."""
    return any(line.requires_shipping for line in lines)


def method_cost(
    method: MethodSnapshot,
    *,
    weight_kg: Decimal,
    discounted_subtotal: Decimal,
    free_shipping: bool,
    currency: str,
) -> tuple[Decimal, bool]:
    """(cost, free): base + per kg x weight, rounded in the currency; free with a
    free-shipping coupon or once the discounted subtotal reaches the method's free_over."""
    if free_shipping or (method.free_over is not None and discounted_subtotal >= method.free_over):
        return quantize(ZERO, currency), True
    cost = method.base_cost + method.cost_per_kg * max(weight_kg, Decimal("0"))
    return quantize(cost, currency), False


def quote(
    method: MethodSnapshot,
    *,
    weight_kg: Decimal,
    discounted_subtotal: Decimal,
    free_shipping: bool,
    now_local: datetime,
    cutoff_hour: int,
    currency: str,
) -> ShippingQuote:
    cost, free = method_cost(
        method,
        weight_kg=weight_kg,
        discounted_subtotal=discounted_subtotal,
        free_shipping=free_shipping,
        currency=currency,
    )
    earliest, latest = delivery_window(now_local, cutoff_hour, method.min_days, method.max_days)
    return ShippingQuote(
        method_id=method.method_id,
        name=method.name,
        description=method.description,
        carrier=method.carrier,
        service_level=method.service_level,
        cost=cost,
        currency=currency,
        free=free,
        min_days=method.min_days,
        max_days=method.max_days,
        earliest=earliest,
        latest=latest,
        tracking=method.tracking,
        signature=method.signature,
    )


def quotes_for(
    zone: ZoneSnapshot,
    *,
    weight_kg: Decimal,
    discounted_subtotal: Decimal,
    free_shipping: bool,
    now_local: datetime,
    cutoff_hour: int,
    currency: str,
) -> tuple[ShippingQuote, ...]:
    """A quote per method of the zone priced in the cart's currency (a method priced in
    another currency is not offered: its amounts would be wrong), in the zone's order."""
    return tuple(
        quote(
            method,
            weight_kg=weight_kg,
            discounted_subtotal=discounted_subtotal,
            free_shipping=free_shipping,
            now_local=now_local,
            cutoff_hour=cutoff_hour,
            currency=currency,
        )
        for method in zone.methods
        if method.currency.upper() == currency.upper()
    )


def find_quote(quotes: Sequence[ShippingQuote], method_id: int | None) -> ShippingQuote | None:
    """The quote for the chosen method, or None when it is not offered for this address."""
    return next((q for q in quotes if q.method_id == method_id), None)
