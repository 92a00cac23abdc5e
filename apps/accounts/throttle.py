"""Sign-in attempt limit (5 failures per 15 minutes per email), counted in the cache.

Keys hold a hash of the email, never the email itself."""

import hashlib

from django.core.cache import cache

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"signin-failures:{digest}"


def is_locked(email: str) -> bool:
    return int(cache.get(_key(email), 0)) >= MAX_FAILURES


def record_failure(email: str) -> None:
    key = _key(email)
    if cache.add(key, 1, WINDOW_SECONDS):
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, WINDOW_SECONDS)


def reset(email: str) -> None:
    cache.delete(_key(email))
