"""Shared fixtures: a clean Redis cache per test, and Playwright on Debian's Chromium."""

import os
import re
from typing import Any

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from tests.support import chromium_launch_args

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# database access from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def clear_test_cache() -> int:
    """Delete every key under the tests' KEY_PREFIX, all versions (sessions are not there:
    they live in the database only). Not `cache.clear()`: that is FLUSHDB, which would wipe
    whatever else shares the Redis database REDIS_URL points at (another app, a Celery
    broker)."""
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "")
    if not prefix:
        raise RuntimeError("refusing to clear a Redis cache without a key prefix")
    client = get_redis_connection("default")
    pattern = re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + ":*"
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)
    return len(keys)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Each test starts with an empty cache (the real Redis, not a mock)."""
    clear_test_cache()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches Debian's Chromium; browsers cannot be downloaded here."""
    return {**browser_type_launch_args, **chromium_launch_args()}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture
def shop_page(page: Any, live_server: Any) -> Any:
    """A Playwright page with a short timeout. Failures leave a screenshot in test-results/
    (pytest-playwright's --screenshot=only-on-failure, set in pyproject)."""
    page.set_default_timeout(10_000)
    return page
