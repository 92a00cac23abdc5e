"""One rate limiter for HTML views and the API: fixed windows counted in the cache.

Why not DRF's throttles: they only cover API views and key on X-Forwarded-For, which a
client can spoof to get a fresh budget per request. Here the client IP is REMOTE_ADDR,
or -- only behind `settings.NUM_PROXIES` trusted proxies -- the entry that many places
from the right of X-Forwarded-For (the one our own proxy appended), so prepended
entries change nothing.

A `Limit` counts each attempt against several keys at once (e.g. the client IP and the
cart), each with its own rate; any exhausted key refuses the attempt. Counting is an
atomic cache `incr` (Redis INCR with django-redis) on a key per window that expires with
the window. If the cache is down the limiter fails open (logged): a Redis blip must not
stop shoppers from applying codes.
"""

import hashlib
import ipaddress
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600}
_PERIODS |= {"hour": 3600, "d": 86400, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` attempts per `seconds`."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """ "20/min", "5/10s", "100/hour"; a malformed rate is a configuration error."""
        match = _RATE.match(text.lower())
        if not match or match.group(3) not in _PERIODS:
            raise ValueError(f"bad rate {text!r}; use e.g. '20/min'")
        multiplier = int(match.group(2) or 1)
        return cls(int(match.group(1)), multiplier * _PERIODS[match.group(3)])


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after: int = 0  # seconds until the exhausted window ends


def client_ip(request: HttpRequest) -> str:
    """The address to rate-limit by. X-Forwarded-For is trusted only as far as our own
    proxies wrote it: with NUM_PROXIES = n, the n-th entry from the right."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "NUM_PROXIES", 0) or 0)
    if proxies > 0:
        forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR") or "")
        entries = [e.strip() for e in forwarded.split(",") if e.strip()]
        if entries:
            candidate = entries[-min(proxies, len(entries))]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote


def digest(value: str) -> str:
    """Keys hold a hash, never a raw IP or session key."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Limit:
    """A named limit with one rate per kind of key, read from settings when used so that
    tests and deployments can change it (settings names, e.g. {"ip": "COUPON_APPLY_IP_RATE"})."""

    scope: str
    rate_settings: Mapping[str, str]
    defaults: Mapping[str, str]

    def rate(self, kind: str) -> Rate:
        name = self.rate_settings[kind]
        return Rate.parse(str(getattr(settings, name, None) or self.defaults[kind]))

    def hit(self, keys: Mapping[str, str], *, now: float | None = None) -> Decision:
        """Count one attempt against every key ({"ip": ..., "cart": ...}); refuse it if
        any key is over its rate. Every key is counted, so each one's budget holds."""
        moment = time.time() if now is None else now
        retry_after = 0
        for kind, value in sorted(keys.items()):
            rate = self.rate(kind)
            window = int(moment // rate.seconds)
            key = f"rl:{self.scope}:{kind}:{digest(value)}:{window}"
            try:
                count = increment(key, timeout=rate.seconds + 1)
            except Exception:  # the cache is down: fail open, loudly
                logger.warning("rate limiter cache unavailable", extra={"scope": self.scope})
                return Decision(True)
            if count > rate.count:
                wait = int((window + 1) * rate.seconds - moment) + 1
                retry_after = max(retry_after, wait)
        if retry_after:
            logger.info("rate limited", extra={"scope": self.scope})
            return Decision(False, retry_after)
        return Decision(True)


def increment(key: str, *, timeout: int) -> int:
    """Atomic increment of a cache counter that expires `timeout` seconds after it was
    created (a fixed window); also the sign-in failure counter's."""
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr: start the window again
        cache.add(key, 0, timeout=timeout)
        return int(cache.incr(key))


COUPON_APPLY = Limit(
    scope="coupon_apply",
    rate_settings={"ip": "COUPON_APPLY_IP_RATE", "cart": "COUPON_APPLY_RATE"},
    defaults={"ip": "60/min", "cart": "20/min"},
)


def coupon_attempt(request: HttpRequest, cart_id: int) -> Decision:
    """One coupon-code attempt on a cart, from the HTML form or the API (one shared
    budget): limited per client IP and per cart, so neither a fresh cart nor a spoofed
    header gives a fresh budget."""
    return COUPON_APPLY.hit({"ip": client_ip(request) or "unknown", "cart": str(cart_id)})
