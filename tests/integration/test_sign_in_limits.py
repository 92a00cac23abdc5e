"""Sign-in attempt limits: reserved before the password is checked (parallel attempts get
no extra checks), shared by the storefront and the admin, per (email, IP) pair, and kept
in process memory while Redis is unreachable."""

import threading
from typing import Any

import pytest
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from apps.accounts import throttle
from apps.core import ratelimit
from tests.factories import make_user
from tests.support import free_port

PASSWORD = "quiet river 77"


class PasswordChecks:
    """Counts failed password checks (Django's user_login_failed), from any thread."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, **kwargs: Any) -> None:
        with self._lock:
            self.count += 1


@pytest.fixture
def failed_checks() -> Any:
    counter = PasswordChecks()
    user_login_failed.connect(counter, dispatch_uid="test-sign-in-limits")
    yield counter
    user_login_failed.disconnect(dispatch_uid="test-sign-in-limits")


def _in_parallel(count: int, attempt: Any) -> list[str]:
    """Run `attempt()` in `count` threads released at once; their pages, in any order."""
    barrier = threading.Barrier(count)
    pages: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            pages.append(attempt())
        except BaseException as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(pages) == count
    return pages


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(failed_checks: Any) -> None:
    """Each failure is recorded before the limit is checked, so attempts in flight together
    cannot all pass the check: 30 parallel tries get exactly MAX_FAILURES password checks."""
    make_user("ana@example.com", password=PASSWORD)

    def attempt() -> str:
        client = Client(REMOTE_ADDR="203.0.113.50")
        page = client.post(
            reverse("accounts:sign_in"), {"email": "ana@example.com", "password": "guess"}
        )
        return page.content.decode()

    pages = _in_parallel(30, attempt)
    assert failed_checks.count == throttle.MAX_FAILURES
    assert sum("Too many attempts" in page for page in pages) == 30 - throttle.MAX_FAILURES


@pytest.mark.django_db(transaction=True)
def test_parallel_admin_attempts_get_no_more_checks_than_the_limit(failed_checks: Any) -> None:
    make_user("boss@example.com", password=PASSWORD, is_staff=True)

    def attempt() -> str:
        page = Client(REMOTE_ADDR="203.0.113.51").post(
            "/admin/login/", {"username": "boss@example.com", "password": "guess"}
        )
        return page.content.decode()

    pages = _in_parallel(20, attempt)
    assert failed_checks.count == throttle.MAX_FAILURES
    assert sum("Too many attempts" in page for page in pages) == 20 - throttle.MAX_FAILURES


def admin_sign_in(client: Client, username: str, password: str) -> Any:
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


@pytest.mark.django_db
def test_admin_sign_in_is_limited_like_the_storefront() -> None:
    """/admin/login/ shares the storefront's attempt limit, so a staff password cannot be
    guessed there either."""
    make_user("boss@example.com", password=PASSWORD, is_staff=True, is_superuser=True)
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(throttle.MAX_FAILURES):
        page = admin_sign_in(attacker, "boss@example.com", "wrong")
        assert "Too many attempts" not in page.content.decode()
    page = admin_sign_in(attacker, "boss@example.com", PASSWORD)
    assert page.status_code == 200
    assert "Too many attempts" in page.content.decode()
    assert "_auth_user_id" not in attacker.session
    # The owner, elsewhere, is not locked out.
    owner = Client(REMOTE_ADDR="198.51.100.8")
    assert admin_sign_in(owner, "boss@example.com", PASSWORD).status_code == 302
    assert owner.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_admin_and_storefront_share_one_budget() -> None:
    make_user("boss@example.com", password=PASSWORD, is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(throttle.MAX_FAILURES):
        client.post(reverse("accounts:sign_in"), {"email": "boss@example.com", "password": "wrong"})
    page = admin_sign_in(client, "boss@example.com", PASSWORD)
    assert "Too many attempts" in page.content.decode()


@pytest.mark.django_db
def test_the_admin_ip_limit_spans_usernames() -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(throttle.MAX_FAILURES_PER_IP):
        admin_sign_in(client, f"staff{n}@example.com", "wrong")
    make_user("boss@example.com", password=PASSWORD, is_staff=True)
    assert (
        "Too many attempts" in admin_sign_in(client, "boss@example.com", PASSWORD).content.decode()
    )


@pytest.fixture
def redis_unreachable() -> Any:
    """The cache pointed at a port nothing listens on: every Redis call really fails."""
    port = free_port()
    dead = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "KEY_PREFIX": "test",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "CONNECTION_POOL_CLASS": "apps.core.redis_breaker.BreakerConnectionPool",
            },
        }
    }
    with override_settings(CACHES=dead):
        yield
    ratelimit.local_log.reset(list(ratelimit.local_log._logs))


def _limit(outage: ratelimit.Outage) -> ratelimit.Limit:
    return ratelimit.Limit(
        scope=f"outage-{outage.value}",
        rate_settings={"k": "UNSET"},
        defaults={"k": "2/min"},
        when_redis_is_down=outage,
    )


def test_limits_follow_their_outage_policy_while_redis_is_unreachable(
    redis_unreachable: None,
) -> None:
    def allowed(limit: ratelimit.Limit) -> list[bool]:
        return [limit.hit({"k": "a"}, now=100.0).allowed for _ in range(4)]

    assert allowed(_limit(ratelimit.Outage.OPEN)) == [True] * 4
    assert allowed(_limit(ratelimit.Outage.CLOSED)) == [False] * 4
    assert allowed(_limit(ratelimit.Outage.LOCAL)) == [True, True, False, False]
    assert ratelimit.COUPON_APPLY.when_redis_is_down is ratelimit.Outage.OPEN
    assert throttle.SIGN_IN.when_redis_is_down is ratelimit.Outage.LOCAL


@pytest.mark.django_db
def test_sign_in_works_and_stays_limited_while_redis_is_unreachable(
    redis_unreachable: None,
) -> None:
    make_user("ana@example.com", password=PASSWORD)
    owner = Client(REMOTE_ADDR="198.51.100.9")
    ok = owner.post(reverse("accounts:sign_in"), {"email": "ana@example.com", "password": PASSWORD})
    assert ok.status_code == 302
    attacker = Client(REMOTE_ADDR="203.0.113.99")
    for _ in range(throttle.MAX_FAILURES):
        attacker.post(reverse("accounts:sign_in"), {"email": "ana@example.com", "password": "x"})
    page = attacker.post(
        reverse("accounts:sign_in"), {"email": "ana@example.com", "password": PASSWORD}
    )
    assert "Too many attempts" in page.content.decode()
