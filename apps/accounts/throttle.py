"""Sign-in attempt limits, counted in the cache: 5 failures per 15 minutes per email
(guessing one account's password) and 20 per 15 minutes per client IP (trying many
accounts from one place).

The IP is apps.core.ratelimit.client_ip: REMOTE_ADDR, or behind NUM_PROXIES of our own
proxies the entry they wrote in X-Forwarded-For. The client's own X-Forwarded-For entries
are never trusted (anyone could pick a fresh "IP" per attempt), and behind a proxy
REMOTE_ADDR would put every shopper in one budget. Keys hold a hash of the email or IP,
never the value itself; counting is the coupon limiter's fixed-window `increment`."""

from django.core.cache import cache

from apps.core.ratelimit import digest, increment

MAX_FAILURES = 5
MAX_FAILURES_PER_IP = 20
WINDOW_SECONDS = 15 * 60


def _email_key(email: str) -> str:
    return f"signin-failures:{digest(email.strip().lower())}"


def _ip_key(ip: str) -> str:
    return f"signin-failures-ip:{digest(ip.strip().lower())}"


def _count(key: str) -> int:
    return int(cache.get(key, 0))


def is_locked(email: str, ip: str = "") -> bool:
    """True when this email or this client IP has failed too often recently."""
    if email and _count(_email_key(email)) >= MAX_FAILURES:
        return True
    return bool(ip) and _count(_ip_key(ip)) >= MAX_FAILURES_PER_IP


def record_failure(email: str, ip: str = "") -> None:
    if email:
        increment(_email_key(email), timeout=WINDOW_SECONDS)
    if ip:
        increment(_ip_key(ip), timeout=WINDOW_SECONDS)


def reset(email: str) -> None:
    """A successful sign-in clears the email's count. The IP count is left to expire, so
    an attacker cannot clear it by signing in to an account of their own."""
    cache.delete(_email_key(email))
