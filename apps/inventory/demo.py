"""Demo stock for the demo catalog, received through inventory's services (with ledger rows).

Stock covers every state a shopper can see: plenty, low, none, backorder and untracked.
"""

from django.db import transaction

from apps.catalog.demo import demo_variants
from apps.catalog.models import ProductVariant
from apps.inventory import services

SEED_REFERENCE = "seed_demo"


def seed_stock() -> dict[str, int]:
    """Stock rows for the demo variants that have none; existing rows are left as they are."""
    plan = demo_variants()
    variants = ProductVariant.objects.in_bulk([v.sku for v in plan], field_name="sku")
    created = 0
    with transaction.atomic():
        for entry in plan:
            variant = variants.get(entry.sku)
            if variant is None:  # the catalog seeder did not run
                continue
            spec = entry.product
            # Vary stock across variants so pages show low and sold-out options too.
            units = max(spec.stock - (entry.position % 4) * 2, 0) if spec.stock else 0
            _, was_created = services.open_stock_item(
                variant,
                units=units,
                allow_backorder=spec.backorder,
                track_quantity=spec.track,
                low_stock_threshold=5,
                reference=SEED_REFERENCE,
            )
            created += was_created
    return {"variants": len(plan), "created": created}


def seed_stock_summary() -> str:
    counts = seed_stock()
    return f"stock for {counts['variants']} variants ({counts['created']} new)"
