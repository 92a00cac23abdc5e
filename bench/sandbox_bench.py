"""Benchmark the Stripe sandbox: Checkout Session creation latency (p50/p95/p99).

    .venv/bin/python bench/sandbox_bench.py [--n 500] [--db PATH] [--target-ms 10]

Starts ``python -m stripe_sandbox`` on a free port, warms up, then creates N sessions through
the official SDK and N through raw ``requests`` (one keep-alive connection each), and prints a
markdown table. Target: p95 under 10 ms locally, for both clients; the exit status is 1 when
it is missed (so ``make bench`` and CI notice), 0 when it is met.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import requests
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stripe_sandbox.testing import run_sandbox

SECRET = "sk_test_bench_0000000000"  # noqa: S105 - a sandbox-only test key
WEBHOOK_SECRET = "whsec_bench"  # noqa: S105
PARAMS: dict[str, Any] = {
    "mode": "payment",
    "success_url": "http://127.0.0.1:8000/checkout/success/?session_id={CHECKOUT_SESSION_ID}",
    "cancel_url": "http://127.0.0.1:8000/checkout/cancel/",
    "customer_email": "bench@example.com",
    "line_items": [
        {
            "price_data": {
                "currency": "eur",
                "unit_amount": 1999 + i,
                "product_data": {"name": f"Product {i}", "metadata": {"sku": f"SKU-{i}"}},
            },
            "quantity": 1 + i % 3,
        }
        for i in range(3)
    ],
    "shipping_options": [
        {
            "shipping_rate_data": {
                "type": "fixed_amount",
                "fixed_amount": {"amount": 495, "currency": "eur"},
                "display_name": "Standard",
            }
        }
    ],
    "metadata": {"checkout_id": "1"},
    "payment_intent_data": {"metadata": {"checkout_id": "1"}},
}


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _row(name: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"| {name} | {len(ms)} | {statistics.median(ms):.2f} | {_pct(ms, 0.95):.2f} | "
        f"{_pct(ms, 0.99):.2f} | {max(ms):.2f} |"
    )


def bench(n: int, db: str | None, warmup: int = 50) -> tuple[list[float], list[float]]:
    with run_sandbox(secret_key=SECRET, webhook_secret=WEBHOOK_SECRET, db=db) as url:
        client = stripe.StripeClient(SECRET, base_addresses={"api": url}, max_network_retries=0)
        # the shop's params go through the SDK's encoder, exactly as in production
        tax = client.v1.tax_rates.create(
            params={"display_name": "VAT", "percentage": 19, "inclusive": False}
        )
        params = {
            **PARAMS,
            "line_items": [{**li, "tax_rates": [tax.id]} for li in PARAMS["line_items"]],
        }
        for _ in range(warmup):
            client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
        sdk: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            client.v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
            sdk.append(time.perf_counter() - t0)

        from stripe._encode import _api_encode

        body = list(_api_encode(params))
        http = requests.Session()
        headers = {"Authorization": f"Bearer {SECRET}"}
        for _ in range(warmup):
            http.post(f"{url}/v1/checkout/sessions", data=body, headers=headers, timeout=5)
        raw: list[float] = []
        for i in range(n):
            t0 = time.perf_counter()
            r = http.post(
                f"{url}/v1/checkout/sessions",
                data=body,
                headers={**headers, "Idempotency-Key": f"bench-{i}"},
                timeout=5,
            )
            raw.append(time.perf_counter() - t0)
            r.raise_for_status()
        return sdk, raw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--db", default=None, help="SQLite file (default: in memory)")
    parser.add_argument("--warmup", type=int, default=50, help="requests before measuring")
    parser.add_argument(
        "--target-ms", type=float, default=10.0, help="p95 target; missing it exits 1"
    )
    args = parser.parse_args()
    sdk, raw = bench(args.n, args.db, args.warmup)
    storage = f"SQLite file {args.db}" if args.db else "in-memory SQLite"
    print(f"### Stripe sandbox: POST /v1/checkout/sessions ({storage}, 3 lines, tax, shipping)\n")
    print("| client | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(_row("stripe SDK 16.1.0 (StripeClient)", sdk))
    print(_row("requests, keep-alive, Idempotency-Key", raw))
    target = args.target_ms
    missed = False
    print()
    for name, samples in (("SDK", sdk), ("requests", raw)):
        p95 = _pct(samples, 0.95) * 1000
        met = p95 < target
        missed = missed or not met
        print(f"Target p95 < {target:g} ms ({name}): {'met' if met else 'NOT met'} ({p95:.2f} ms)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
