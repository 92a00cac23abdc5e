"""Health checks: can the database and the cache answer right now?"""

import uuid

from django.core.cache import cache
from django.db import connection


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
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:  # any client error means "down"
        return type(exc).__name__
    return None if ok else "cache did not return the value written"
