"""Health checks: can the database and the cache answer right now?

The database is required (down: 503). Redis is a cache (down: the shop still serves from
PostgreSQL, so /healthz says "degraded" with 200 and a load balancer keeps the instance).
"""

import uuid

from django.core.cache import cache
from django.db import connection
from django_redis import get_redis_connection
from redis.exceptions import RedisError


def check_database() -> str | None:
    """None when healthy, else a short reason (never connection details)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"
        return type(exc).__name__
    return None


def check_cache() -> str | None:
    """Asks Redis itself (the cache's own calls swallow errors). While the circuit
    breaker is open this answers at once, without waiting on a hung server."""
    try:
        client = get_redis_connection("default")
    except NotImplementedError:  # not Redis (the embedded local-memory cache)
        return _check_cache_api()
    try:
        client.ping()
    except RedisError as exc:
        return type(exc).__name__
    return None


def _check_cache_api() -> str | None:
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:  # any client error means "down"
        return type(exc).__name__
    return None if ok else "cache did not return the value written"


def report() -> tuple[dict[str, object], int]:
    """The /healthz body and status: ok (200), degraded without the cache (200), or
    unavailable without the database (503)."""
    checks = {"database": check_database(), "cache": check_cache()}
    down = {name: reason for name, reason in checks.items() if reason}
    if checks["database"]:
        status, code = "unavailable", 503
    elif down:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    body: dict[str, object] = {
        "status": status,
        "checks": {name: ("ok" if reason is None else "down") for name, reason in checks.items()},
    }
    if down:
        body["down"] = sorted(down)
        body["errors"] = down
    return body, code
