"""One rate limiter for HTML views and the API: sliding windows kept in Redis.

Why not DRF's throttles: they only cover API views and key on X-Forwarded-For, which a
client can spoof to get a fresh budget per request. Here the client IP is REMOTE_ADDR,
or -- only behind `settings.NUM_PROXIES` trusted proxies -- the entry that many places
from the right of X-Forwarded-For (the one our own proxy appended), so prepended
entries change nothing.

A `Limit` counts each attempt against several keys at once (e.g. the client IP and the
cart), each with its own rate; any exhausted key refuses the attempt. Each key is a
sliding log (a Redis sorted set of attempt times): an attempt is allowed when fewer than
`count` attempts fall in the last `seconds`, so no moment lets a client spend twice its
budget, as fixed windows do around each boundary. One Lua script checks every key and
records the attempt in all of them or none: atomic, one round trip, so parallel requests
cannot overspend. Refused attempts are not recorded, so a log never holds more than
`count` entries.

While Redis is unreachable each limit follows its `when_redis_is_down` policy: fail open
(coupon codes: a Redis blip must not stop shoppers), fail closed, or count in this
process's memory (sign-in). Without Redis at all (the embedded dev setup) every limit
counts in process memory.
"""

import hashlib
import ipaddress
import logging
import math
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django_redis import get_redis_connection
from redis.exceptions import RedisError

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
    retry_after: int = 0  # seconds until the oldest counted attempt leaves its window
    token: str = ""  # names the recorded attempt, for `Limit.release`


class Outage(Enum):
    """What a limit does while Redis is unreachable."""

    OPEN = "open"  # allow every attempt
    CLOSED = "closed"  # refuse every attempt
    LOCAL = "local"  # count in this process's memory (a budget per worker process)


CLOSED_RETRY_AFTER = 30


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


# KEYS: one sorted set per limited key. ARGV: now (ms), the attempt's token, then
# count and window (ms) per key. Returns 0 when the attempt was recorded in every key,
# else the milliseconds until the fullest key has room (nothing recorded).
_SLIDING_LOG = """
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= count then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local until_free = window
    if oldest[2] then until_free = tonumber(oldest[2]) + window - now end
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 + 2 * i])))
end
return 0
"""


class LocalLog:
    """The same sliding logs in this process's memory, bounded to `max_keys` keys (the
    least recently used go first). Used without Redis, and by LOCAL limits during an
    outage."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._logs: OrderedDict[str, list[tuple[float, str]]] = OrderedDict()
        self._max_keys = max_keys

    def hit(self, keys: Mapping[str, Rate], now: float, token: str) -> float:
        """Record the attempt in every key and return 0, or return the seconds to wait."""
        with self._lock:
            wait = 0.0
            for key, rate in keys.items():
                log = [e for e in self._logs.get(key, []) if e[0] > now - rate.seconds]
                self._logs[key] = log
                self._logs.move_to_end(key)
                if len(log) >= rate.count:
                    wait = max(wait, (log[0][0] + rate.seconds - now) if log else rate.seconds)
            if wait == 0:
                for key in keys:
                    self._logs[key].append((now, token))
            while len(self._logs) > self._max_keys:
                self._logs.popitem(last=False)
            return wait

    def release(self, keys: list[str], token: str) -> None:
        with self._lock:
            for key in keys:
                if key in self._logs:
                    self._logs[key] = [e for e in self._logs[key] if e[1] != token]

    def reset(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._logs.pop(key, None)


local_log = LocalLog()


def _redis() -> Any:
    """The cache's raw Redis client (its pool has the circuit breaker), or None when the
    cache is not Redis."""
    try:
        return get_redis_connection("default")
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class Limit:
    """A named limit with one rate per kind of key, read from settings when used so that
    tests and deployments can change it (settings names, e.g. {"ip": "COUPON_APPLY_IP_RATE"}).
    `clock` is injectable so tests control time instead of depending on the wall clock."""

    scope: str
    rate_settings: Mapping[str, str]
    defaults: Mapping[str, str]
    when_redis_is_down: Outage = Outage.OPEN
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def rate(self, kind: str) -> Rate:
        name = self.rate_settings[kind]
        return Rate.parse(str(getattr(settings, name, None) or self.defaults[kind]))

    def _key(self, kind: str, value: str) -> str:
        return str(cache.make_key(f"rl:{self.scope}:{kind}:{digest(value)}"))

    def hit(self, keys: Mapping[str, str], *, now: float | None = None) -> Decision:
        """Count one attempt against every key ({"ip": ..., "cart": ...}), or refuse it
        (counting nothing) if any key has no room left in its window."""
        moment = self.clock() if now is None else now
        token = uuid.uuid4().hex
        rates = {self._key(kind, value): self.rate(kind) for kind, value in sorted(keys.items())}
        client = _redis()
        if client is None:
            wait = local_log.hit(rates, moment, token)
        else:
            args: list[Any] = [repr(moment * 1000), token]
            for rate in rates.values():
                args += [rate.count, rate.seconds * 1000]
            try:
                wait = float(client.eval(_SLIDING_LOG, len(rates), *rates, *args)) / 1000
            except RedisError:
                logger.debug("rate limiter: Redis unavailable", extra={"scope": self.scope})
                if self.when_redis_is_down is Outage.OPEN:
                    return Decision(True, token=token)
                if self.when_redis_is_down is Outage.CLOSED:
                    return Decision(False, CLOSED_RETRY_AFTER)
                wait = local_log.hit(rates, moment, token)
        if wait > 0:
            logger.info("rate limited", extra={"scope": self.scope})
            return Decision(False, max(1, math.ceil(wait)))
        return Decision(True, token=token)

    def release(self, keys: Mapping[str, str], token: str) -> None:
        """Take back one attempt (by its Decision's token), e.g. a sign-in that succeeded."""
        self._forget(keys, token)

    def reset(self, keys: Mapping[str, str]) -> None:
        """Forget every attempt counted against these keys."""
        self._forget(keys, None)

    def _forget(self, keys: Mapping[str, str], token: str | None) -> None:
        names = [self._key(kind, value) for kind, value in sorted(keys.items())]
        if token is not None:
            local_log.release(names, token)
        else:
            local_log.reset(names)
        client = _redis()
        if client is None:
            return
        try:
            if token is not None:
                for name in names:
                    client.zrem(name, token)
            else:
                client.delete(*names)
        except RedisError:
            logger.debug("rate limiter: Redis unavailable", extra={"scope": self.scope})


COUPON_APPLY = Limit(
    scope="coupon_apply",
    rate_settings={"ip": "COUPON_APPLY_IP_RATE", "cart": "COUPON_APPLY_RATE"},
    defaults={"ip": "60/min", "cart": "20/min"},
    when_redis_is_down=Outage.OPEN,
)


def coupon_attempt(request: HttpRequest, cart_id: int) -> Decision:
    """One coupon-code attempt on a cart, from the HTML form or the API (one shared
    budget): limited per client IP and per cart, so neither a fresh cart nor a spoofed
    header gives a fresh budget."""
    return COUPON_APPLY.hit({"ip": client_ip(request) or "unknown", "cart": str(cart_id)})
