"""`make bench`: storefront page latency on PostgreSQL + Redis, printed as a markdown table.

Runs in-process through Django's test client against a test database (created and dropped
here) holding the demo catalog, so it measures our code and queries, not a network. Other
benchmarks in bench/ (the Stripe sandbox's) run after it when present.
"""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
    teardown_databases,
)

from bench.stats import HEADER, row  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def measure(client: Client, url: str) -> tuple[list[float], int]:
    for _ in range(5):  # warm caches and connections
        client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200, url
    queries = len(ctx)  # read now: the next request_started clears the query log
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return samples, queries


CART_LINES = 12


def fill_cart(client: Client) -> dict[str, str]:
    """The client's guest cart with CART_LINES in-stock variants and a percentage code,
    built through the JSON API as a browser script would."""
    from apps.catalog.models import ProductVariant

    created = client.post("/api/cart", content_type="application/json")
    assert created.status_code in (200, 201), created.content
    cart_id = created.json()["data"]["id"]
    variant_ids = ProductVariant.objects.filter(
        is_active=True, product__is_active=True, stock__on_hand__gte=5
    ).values_list("pk", flat=True)[:CART_LINES]
    for variant_id in variant_ids:
        added = client.post(
            f"/api/cart/{cart_id}/items",
            {"variantId": variant_id, "quantity": 1},
            content_type="application/json",
        )
        assert added.status_code == 201, added.content
    coupon = client.post(
        f"/api/cart/{cart_id}/coupons", {"code": "WELCOME10"}, content_type="application/json"
    )
    assert coupon.status_code in (200, 201), coupon.content
    return {"cart page": "/cart/", "cart API (GET /api/cart/{id})": f"/api/cart/{cart_id}"}


def main() -> int:
    logging.disable(logging.INFO)  # the shop's INFO lines would interleave with the tables
    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        call_command("seed_demo", verbosity=0)
        client = Client()
        pages = {
            "home": "/",
            "category listing (24/page)": "/c/clothing/",
            "listing, filtered + sorted": "/search/?in_stock=on&sort=price_desc&price_min=20",
            "full-text search": "/search/?q=waterproof+boot",
            "product detail (12 variants)": "/p/ridge-rain-shell/?o_Size=L&o_Color=Forest",
        }
        print(f"## Storefront pages ({ROUNDS} requests each, in-process, PostgreSQL + Redis)\n")
        print(HEADER)
        for name, url in pages.items():
            samples, queries = measure(client, url)
            print(row(name, samples, f"{queries} queries"))
        print()
        print(f"## Cart ({ROUNDS} requests each, {CART_LINES} lines and a coupon)\n")
        print(HEADER)
        for name, url in fill_cart(client).items():
            samples, queries = measure(client, url)
            print(row(name, samples, f"{queries} queries"))
        print()
    finally:
        teardown_databases(old_config, verbosity=0)
    sandbox_bench = ROOT / "bench" / "sandbox_bench.py"
    if sandbox_bench.exists():
        return subprocess.call([sys.executable, str(sandbox_bench), "--n", "500"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
