"""The per-test cache cleanup deletes only the tests' own keys in Redis.

It never calls cache.clear(), a FLUSHDB of whatever database REDIS_URL points at, so the
suite can run against a shared Redis without wiping other data (another app's keys, a
broker's queues).
"""

import uuid

from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from tests.conftest import clear_test_cache


def test_test_settings_put_every_cache_key_under_a_prefix() -> None:
    assert settings.CACHES["default"]["KEY_PREFIX"] == "test"
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_cleanup_deletes_our_keys_but_not_other_data() -> None:
    client = get_redis_connection("default")
    foreign = f"other-app:{uuid.uuid4().hex}"
    client.set(foreign, "keep me")
    try:
        cache.set("ours", "x")
        cache.set("ours-v2", "x", version=2)
        assert clear_test_cache() >= 2
        assert cache.get("ours") is None
        assert cache.get("ours-v2", version=2) is None
        assert list(client.scan_iter(match="test:*")) == []
        assert client.get(foreign) == b"keep me"
    finally:
        client.delete(foreign)
