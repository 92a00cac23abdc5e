"""Coupon-code attempts share one Redis-backed budget across the cart page and the API,
keyed by the real client IP (not a spoofable X-Forwarded-For) and the cart."""

import re
from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.core import ratelimit
from tests.factories import make_product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_budgets(settings: Any) -> None:
    settings.COUPON_APPLY_RATE = "3/min"
    settings.COUPON_APPLY_IP_RATE = "5/min"
    settings.NUM_PROXIES = 0


def new_cart(client: Client) -> int:
    response = client.post("/api/cart", content_type="application/json")
    return int(response.json()["data"]["id"])


def api_attempt(client: Client, cart_id: int, xff: str = "") -> Any:
    return client.post(
        f"/api/cart/{cart_id}/coupons",
        {"code": "NOPE"},
        content_type="application/json",
        headers={"X-Forwarded-For": xff} if xff else None,
    )


def page_version(client: Client) -> int:
    html = client.get(reverse("cart:detail")).content.decode()
    return int(re.search(r'data-cart-version="(\d+)"', html).group(1))  # type: ignore[union-attr]


def page_attempt(client: Client, xff: str = "") -> str:
    response = client.post(
        reverse("cart:apply_coupon"),
        {"code": "NOPE", "version": page_version(client)},
        follow=True,
        headers={"X-Forwarded-For": xff} if xff else None,
    )
    return response.content.decode()


def test_api_answers_429_in_the_envelope_after_the_cart_budget() -> None:
    client = Client()
    cart_id = new_cart(client)
    for _ in range(3):
        assert api_attempt(client, cart_id).status_code == 422
    response = api_attempt(client, cart_id)
    assert response.status_code == 429
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "RATE_LIMITED"
    assert set(body["metadata"]) == {"timestamp", "requestId", "version"}
    assert 1 <= int(response["Retry-After"]) <= 61


def test_spoofed_x_forwarded_for_does_not_buy_a_fresh_budget() -> None:
    """The IP budget follows REMOTE_ADDR, across fresh carts too, so a made-up
    X-Forwarded-For address never buys a new budget."""
    statuses = []
    for i in range(7):
        client = Client()  # a fresh session and cart each time
        cart_id = new_cart(client)
        response = api_attempt(client, cart_id, xff=f"198.51.100.{i}")
        statuses.append(response.status_code)
    assert statuses == [422] * 5 + [429] * 2


def test_behind_one_proxy_only_the_proxy_written_entry_counts(settings: Any) -> None:
    settings.NUM_PROXIES = 1
    statuses = []
    for i in range(6):
        client = Client()
        cart_id = new_cart(client)
        # The client prepends junk; our proxy appends the address it saw.
        xff = f"10.0.0.{i}, 203.0.113.9"
        statuses.append(api_attempt(client, cart_id, xff=xff).status_code)
    assert statuses == [422] * 5 + [429]
    other = Client()
    cart_id = new_cart(other)
    response = api_attempt(other, cart_id, xff="203.0.113.10")
    assert response.status_code == 422  # a different real client has its own budget


def test_client_ip_reads_x_forwarded_for_only_behind_proxies(settings: Any) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1, 203.0.113.5"
    )
    assert ratelimit.client_ip(request) == "192.0.2.1"
    settings.NUM_PROXIES = 1
    assert ratelimit.client_ip(request) == "203.0.113.5"
    settings.NUM_PROXIES = 2
    assert ratelimit.client_ip(request) == "198.51.100.1"
    settings.NUM_PROXIES = 9  # fewer entries than proxies: the leftmost one
    assert ratelimit.client_ip(request) == "6.6.6.6"
    garbage = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert ratelimit.client_ip(garbage) == "192.0.2.1"


def test_cart_page_and_api_share_one_budget() -> None:
    """The cart page's coupon form spends the same budget as the API: no way around it."""
    client = Client()
    client.post(
        reverse("cart:add"), {"variant_id": make_product(stock=5).variants.get().pk, "quantity": 1}
    )
    cart_id = new_cart(client)  # the same cart the page uses
    assert "recognise that code" in page_attempt(client)
    assert "recognise that code" in page_attempt(client)
    assert api_attempt(client, cart_id).status_code == 422
    html = page_attempt(client)
    assert "Too many code attempts" in html
    assert "recognise that code" not in html
    assert api_attempt(client, cart_id).status_code == 429


def test_the_cart_page_alone_is_limited_even_with_spoofed_headers() -> None:
    client = Client()
    client.post(
        reverse("cart:add"), {"variant_id": make_product(stock=5).variants.get().pk, "quantity": 1}
    )
    for i in range(3):
        assert "recognise that code" in page_attempt(client, xff=f"10.1.1.{i}")
    assert "Too many code attempts" in page_attempt(client, xff="10.9.9.9")


def test_rate_parsing() -> None:
    assert ratelimit.Rate.parse("20/min") == ratelimit.Rate(20, 60)
    assert ratelimit.Rate.parse("5/10s") == ratelimit.Rate(5, 10)
    assert ratelimit.Rate.parse("100/hour") == ratelimit.Rate(100, 3600)
    with pytest.raises(ValueError, match="bad rate"):
        ratelimit.Rate.parse("lots")


def two_per_minute() -> ratelimit.Limit:
    return ratelimit.Limit(scope="t", rate_settings={"k": "UNSET_RATE"}, defaults={"k": "2/min"})


def test_an_attempt_leaves_the_budget_a_window_after_it_was_made() -> None:
    limit = two_per_minute()
    assert [limit.hit({"k": "a"}, now=1000.0).allowed for _ in range(3)] == [True, True, False]
    refused = limit.hit({"k": "a"}, now=1001.0)
    assert (refused.allowed, refused.retry_after) == (False, 59)
    assert not limit.hit({"k": "a"}, now=1059.9).allowed
    assert limit.hit({"k": "a"}, now=1060.0).allowed
    assert limit.hit({"k": "b"}, now=1001.0).allowed  # another key, another budget


def test_no_moment_lets_a_client_spend_twice_its_budget_around_a_minute_boundary() -> None:
    """Fixed windows aligned to the clock allowed 2 attempts at 12:00:59.9 and 2 more at
    12:01:00.1: four within 0.2 seconds on a budget of 2 per minute."""
    limit = two_per_minute()
    moments = [59.9, 59.9, 60.1, 60.1, 61.0, 119.0, 119.8, 119.95, 120.05]
    allowed = [t for t in moments if limit.hit({"k": "a"}, now=t).allowed]
    assert allowed == [59.9, 59.9, 119.95, 120.05]
    for start in allowed:
        assert len([t for t in allowed if start <= t < start + 60]) <= 2


def test_a_refused_attempt_is_counted_against_no_key() -> None:
    """The attempt is recorded in every key or in none, so a full cart budget does not
    also use up the client's IP budget."""
    limit = ratelimit.Limit(
        scope="t2",
        rate_settings={"ip": "UNSET", "cart": "UNSET"},
        defaults={"ip": "3/min", "cart": "1/min"},
    )
    assert limit.hit({"ip": "x", "cart": "1"}, now=10.0).allowed
    assert not limit.hit({"ip": "x", "cart": "1"}, now=10.0).allowed
    assert not limit.hit({"ip": "x", "cart": "1"}, now=10.0).allowed
    assert limit.hit({"ip": "x", "cart": "2"}, now=10.0).allowed
    assert limit.hit({"ip": "x", "cart": "3"}, now=10.0).allowed
    assert not limit.hit({"ip": "x", "cart": "4"}, now=10.0).allowed  # IP: 3 counted


def test_the_clock_can_be_injected() -> None:
    moments = iter([500.0, 500.0, 500.0, 560.5])
    limit = ratelimit.Limit(
        scope="t3",
        rate_settings={"k": "UNSET"},
        defaults={"k": "2/min"},
        clock=lambda: next(moments),
    )
    assert [limit.hit({"k": "a"}).allowed for _ in range(4)] == [True, True, False, True]


def test_release_gives_one_attempt_back_and_reset_clears_the_key() -> None:
    limit = two_per_minute()
    first = limit.hit({"k": "a"}, now=10.0)
    limit.hit({"k": "a"}, now=10.0)
    limit.release({"k": "a"}, first.token)
    assert limit.hit({"k": "a"}, now=11.0).allowed
    assert not limit.hit({"k": "a"}, now=11.0).allowed
    limit.reset({"k": "a"})
    assert limit.hit({"k": "a"}, now=11.0).allowed
