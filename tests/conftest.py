"""Shared fixtures: a clean Redis cache per test, and Playwright on Debian's Chromium."""

import os
from typing import Any

import pytest
from django.core.cache import cache

from tests.support import chromium_launch_args

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# database access from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Each test starts with an empty Redis cache (the real one, not a mock)."""
    cache.clear()


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
