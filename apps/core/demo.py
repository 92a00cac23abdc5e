"""Registry of demo-data seeders, filled by each app at AppConfig.ready().

`manage.py seed_demo` lives in core and runs them in order, so no app has to import an
app above it (catalog seeds products, promotions seeds coupons, ...).
"""

from collections.abc import Callable
from dataclasses import dataclass

Seeder = Callable[[], str]  # creates or updates demo rows idempotently; returns a summary


@dataclass(frozen=True, order=True)
class DemoSeeder:
    order: int
    name: str
    seed: Seeder


_SEEDERS: dict[str, DemoSeeder] = {}


def register_seeder(name: str, seed: Seeder, *, order: int) -> None:
    """Register (or replace, when ready() runs twice) the seeder called `name`."""
    _SEEDERS[name] = DemoSeeder(order, name, seed)


def registered_seeders() -> list[DemoSeeder]:
    return sorted(_SEEDERS.values())
