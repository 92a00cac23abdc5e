"""Redis is a cache: while it is stopped or hung the shop serves from PostgreSQL, and it
uses Redis again once it is back, without a restart.

The shop runs as it does in production (gunicorn, 2 sync workers) against the test
database and a redis-server of this test's own on a free port, which the test really
stops (SIGTERM) or pauses (SIGSTOP); the suite's Redis is never touched. Every request is
bounded by a 3 s client timeout, which a hung Redis waited on per cache call would
exceed; the breaker makes it cost one 0.5 s timeout per worker per cooldown instead.
"""

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.urls import reverse

from apps.accounts import throttle
from tests.factories import make_product, make_user
from tests.support import database_url, free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
logger = logging.getLogger(__name__)
GUNICORN = Path(sys.executable).parent / "gunicorn"
PASSWORD = "quiet river 77"
TIMEOUT = 3.0  # seconds per request: generous for a page, far below a hang per cache call
REGULAR = "regular@example.com"  # signed in before the outage
SLOWEST = [0.0]  # the slowest response seen, logged for the record
COOLDOWN = 1.0  # seconds the shop's circuit breaker skips Redis after a failure
COUPON_RATE = 3  # per minute, for the shop under test (COUPON_APPLY_RATE)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


def _wait_for(check: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except (OSError, redis.RedisError, requests.RequestException):
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class OwnRedis:
    """A throwaway redis-server on a fixed free port that can be stopped, restarted on
    the same port, paused and resumed."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="shop-outage-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: self.client().ping(), "redis-server to start")

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc = None

    def pause(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None:
            server.proc.send_signal(signal.SIGCONT)
            server.proc.kill()
            server.proc.wait(timeout=10)
        shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def shop(own_redis: OwnRedis) -> Iterator[str]:
    """gunicorn serving the test database, with its cache on `own_redis`."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",  # its password hasher made the users
        "DEBUG": "false",
        "DATABASE_URL": database_url(),
        "REDIS_URL": own_redis.url,
        "CACHE_KEY_PREFIX": "outage",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "COUPON_APPLY_RATE": f"{COUPON_RATE}/min",
        "REDIS_BREAKER_COOLDOWN": str(COOLDOWN),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed in the finally below
    proc = subprocess.Popen(
        [str(GUNICORN), "-c", "config/gunicorn.py", "--timeout", "30", "config.wsgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(
            lambda: proc.poll() is not None or requests.get(f"{base}/healthz", timeout=2).ok,
            "gunicorn",
            30,
        )
        assert proc.poll() is None, "gunicorn did not start (its errors follow)"
        yield base
    finally:
        stop_process(proc)
        log.seek(0)
        errors = [line for line in log.read().decode().splitlines() if '"ERROR"' in line]
        log.close()
        assert not errors, "\n".join(errors)  # no 500 left a traceback behind


class Shopper:
    """A browser-like client: cookies, CSRF tokens, and a bounded wait on every request."""

    def __init__(self, base: str, email: str = "") -> None:
        self.base = base
        self.email = email
        self.http = requests.Session()
        self.http.hooks["response"].append(self._note_time)

    @staticmethod
    def _note_time(response: requests.Response, *args: object, **kwargs: object) -> None:
        SLOWEST[0] = max(SLOWEST[0], response.elapsed.total_seconds())

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=TIMEOUT)
        assert response.status_code == 200, (path, response.status_code)
        return response

    def post(self, path: str, data: dict[str, object], form_page: str) -> requests.Response:
        html = self.get(form_page).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert token is not None, form_page
        response = self.http.post(
            self.base + path,
            data={**data, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": self.base + form_page},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, (path, response.status_code)
        return response

    def browse_add_and_sign_in(self, product_path: str, variant_id: int) -> None:
        """The actions a Redis outage must not break: pages, the cart, sign-in (again, for
        a shopper already signed in)."""
        assert "<main" in self.get(reverse("catalog:home")).text
        self.get(product_path)
        added = self.post(
            reverse("cart:add"),
            {"variant_id": variant_id, "quantity": 1, "next": reverse("cart:detail")},
            form_page=product_path,
        )
        assert "to your cart" in added.text
        signed_in = self.post(
            reverse("accounts:sign_in"),
            {"email": self.email, "password": PASSWORD},
            form_page=reverse("accounts:sign_in"),
        )
        assert "You&#x27;re signed in." in signed_in.text
        cart = self.get(reverse("cart:detail")).text
        assert 'data-testid="cart-line"' in cart, (self.email, cart)  # the cart followed them in

    def api_cart(self) -> int:
        """A new cart through the JSON API, which also sets the CSRF cookie it wants back."""
        response = self.http.post(f"{self.base}/api/cart", json={}, timeout=TIMEOUT)
        assert response.status_code == 201, response.text
        self.http.headers["X-CSRFToken"] = self.http.cookies["csrftoken"]
        return int(response.json()["data"]["id"])

    def health(self) -> dict[str, object]:
        response = self.http.get(self.base + "/healthz", timeout=TIMEOUT)
        assert response.status_code == 200
        return dict(response.json())


def _product_and_user() -> tuple[str, int]:
    product = make_product(stock=50)
    return product.get_absolute_url(), product.variants.get().pk


def _works_again(base: str, own_redis: OwnRedis, product_path: str, variant_id: int) -> None:
    """Back to normal without a restart: healthz ok, and limits count in Redis again."""
    probe = Shopper(base)
    _wait_for(lambda: probe.health()["status"] == "ok", "healthz to say ok again")
    time.sleep(COOLDOWN + 0.5)  # every worker's breaker now lets its next call probe Redis
    make_user("back@example.com", password=PASSWORD)
    Shopper(base, "back@example.com").browse_add_and_sign_in(product_path, variant_id)
    shopper = Shopper(base)
    cart_id = shopper.api_cart()
    statuses = [
        shopper.http.post(
            f"{base}/api/cart/{cart_id}/coupons", json={"code": "NOPE"}, timeout=TIMEOUT
        ).status_code
        for _ in range(COUPON_RATE + 1)
    ]
    assert statuses == [422] * COUPON_RATE + [429]
    assert list(own_redis.client().scan_iter(match="outage:*rl:coupon_apply*"))


def _coupon_attempts_fail_open(base: str) -> None:
    shopper = Shopper(base)
    cart_id = shopper.api_cart()
    statuses = {
        shopper.http.post(
            f"{base}/api/cart/{cart_id}/coupons", json={"code": "NOPE"}, timeout=TIMEOUT
        ).status_code
        for _ in range(COUPON_RATE + 2)
    }
    assert statuses == {422}  # policy: coupon codes fail open while Redis is away


def _sign_in_stays_limited(base: str) -> None:
    """Policy: sign-in counts in each worker's memory while Redis is away: two workers
    check at most twice the budget of passwords, and refuse the rest."""
    make_user("target@example.com", password=PASSWORD)
    attacker = Shopper(base)
    pages = [
        attacker.post(
            reverse("accounts:sign_in"),
            {"email": "target@example.com", "password": "wrong guess"},
            form_page=reverse("accounts:sign_in"),
        ).text
        for _ in range(2 * throttle.MAX_FAILURES + 2)
    ]
    checked = sum("don&#x27;t match" in page for page in pages)
    refused = sum("Too many attempts" in page for page in pages)
    assert (checked + refused, checked <= 2 * throttle.MAX_FAILURES) == (len(pages), True)


def test_a_stopped_redis_costs_nothing_but_the_cache_and_is_used_again_when_back(
    own_redis: OwnRedis, shop: str
) -> None:
    product_path, variant_id = _product_and_user()
    for email in (REGULAR, "s1@example.com"):
        make_user(email, password=PASSWORD)
    regular = Shopper(shop, REGULAR)
    regular.browse_add_and_sign_in(product_path, variant_id)
    assert regular.health()["status"] == "ok"

    own_redis.stop()
    SLOWEST[0] = 0.0
    # A shopper whose session cookie predates the outage, and a new one.
    regular.browse_add_and_sign_in(product_path, variant_id)
    Shopper(shop, "s1@example.com").browse_add_and_sign_in(product_path, variant_id)
    health = regular.health()
    assert (health["status"], health["checks"]) == ("degraded", {"database": "ok", "cache": "down"})
    _coupon_attempts_fail_open(shop)
    _sign_in_stays_limited(shop)
    logger.info("slowest response while Redis was stopped: %.3f s", SLOWEST[0])

    own_redis.start()  # same port; the shop is not restarted
    regular.browse_add_and_sign_in(product_path, variant_id)
    _works_again(shop, own_redis, product_path, variant_id)


def test_a_hung_redis_costs_milliseconds_not_seconds_and_is_used_again_when_resumed(
    own_redis: OwnRedis, shop: str
) -> None:
    product_path, variant_id = _product_and_user()
    for email in (REGULAR, "h1@example.com"):
        make_user(email, password=PASSWORD)
    regular = Shopper(shop, REGULAR)
    regular.browse_add_and_sign_in(product_path, variant_id)

    own_redis.pause()
    SLOWEST[0] = 0.0
    try:
        regular.browse_add_and_sign_in(product_path, variant_id)
        Shopper(shop, "h1@example.com").browse_add_and_sign_in(product_path, variant_id)
        assert regular.health()["status"] == "degraded"
        _coupon_attempts_fail_open(shop)
        _sign_in_stays_limited(shop)
        logger.info("slowest response while Redis was paused: %.3f s", SLOWEST[0])
    finally:
        own_redis.resume()
    _works_again(shop, own_redis, product_path, variant_id)
