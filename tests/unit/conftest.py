"""Unit tests are pure code: they touch neither PostgreSQL nor Redis, so they run (and
pass) with both servers down; only the URLs must be set for the test settings to load."""

import pytest


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides the suite's per-test Redis cleanup: nothing here writes to the cache."""
