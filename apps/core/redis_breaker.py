"""A circuit breaker around every Redis connection of the cache (and so of the limiter).

Redis is a cache here: when it is down or hung, each command would wait its socket
timeout, and every request makes several. After a connection error or timeout the
breaker opens for `cooldown` seconds, during which commands fail at once with
`redis.ConnectionError` (django-redis's IGNORE_EXCEPTIONS then treats them as misses);
after the cooldown one command goes through as a probe, and its success closes the
breaker, so a Redis that comes back is used again without a restart.

It is installed as the connection pool class of the django-redis cache
(settings: CONNECTION_POOL_CLASS), one breaker per server address and process. The
outage is logged when the breaker opens and when it closes, not per request.
"""

import logging
import threading
import time
from typing import Any

import redis
from redis.connection import Connection, ConnectionPool

logger = logging.getLogger(__name__)

DEFAULT_COOLDOWN = 5.0
_FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class CircuitOpen(redis.exceptions.ConnectionError):
    """Refused without trying: Redis failed moments ago."""


class Breaker:
    """Closed (calls go through) or open until `retry_at`; thread-safe, per process."""

    def __init__(self, name: str, cooldown: float = DEFAULT_COOLDOWN) -> None:
        self.name = name
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._open = False
        self._retry_at = 0.0

    @property
    def is_open(self) -> bool:
        return self._open

    def before_call(self) -> None:
        """Raise CircuitOpen while open; after the cooldown let one probe through (the
        others keep failing fast until the probe has answered)."""
        if not self._open:
            return
        with self._lock:
            now = time.monotonic()
            if now < self._retry_at:
                raise CircuitOpen(f"Redis at {self.name} is unavailable (circuit open)")
            self._retry_at = now + self.cooldown

    def record_failure(self, error: BaseException) -> None:
        with self._lock:
            was_open = self._open
            self._open = True
            self._retry_at = time.monotonic() + self.cooldown
        if not was_open:
            logger.warning(
                "Redis unavailable; skipping it for %.0f s at a time",
                self.cooldown,
                extra={"redis": self.name, "error": type(error).__name__},
            )

    def record_success(self) -> None:
        if not self._open:
            return
        with self._lock:
            was_open, self._open = self._open, False
        if was_open:
            logger.warning("Redis reachable again", extra={"redis": self.name})


_breakers: dict[str, Breaker] = {}
_registry_lock = threading.Lock()


def breaker_for(host: str, port: int, cooldown: float = DEFAULT_COOLDOWN) -> Breaker:
    name = f"{host}:{port}"
    with _registry_lock:
        if name not in _breakers:
            _breakers[name] = Breaker(name, cooldown)
        return _breakers[name]


def any_open() -> bool:
    """True while some Redis of this process is being skipped (for /healthz)."""
    return any(b.is_open for b in list(_breakers.values()))


class BreakerConnection(Connection):
    """A redis-py TCP connection that consults and feeds its server's breaker."""

    def __init__(self, *args: Any, breaker_cooldown: float = DEFAULT_COOLDOWN, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._connecting = False
        self.breaker = breaker_for(self.host, self.port, breaker_cooldown)

    def connect(self) -> None:
        if self._sock is not None:
            return
        self.breaker.before_call()
        self._connecting = True  # the handshake's commands are part of this one call
        try:
            super().connect()
        except _FAILURES as exc:
            self.breaker.record_failure(exc)
            raise
        finally:
            self._connecting = False

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if self._sock is not None and not self._connecting:  # else connect() asked
            self.breaker.before_call()
        try:
            super().send_packed_command(command, check_health)
        except _FAILURES as exc:
            if not isinstance(exc, CircuitOpen):
                self.breaker.record_failure(exc)
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            response = super().read_response(*args, **kwargs)
        except _FAILURES as exc:
            self.breaker.record_failure(exc)
            raise
        self.breaker.record_success()
        return response


class BreakerConnectionPool(ConnectionPool):
    """The django-redis pool class: plain TCP connections get the breaker."""

    def __init__(self, connection_class: type[Connection] = BreakerConnection, **kwargs: Any):
        if connection_class is not BreakerConnection:
            kwargs.pop("breaker_cooldown", None)  # TLS/unix sockets: no breaker
        super().__init__(connection_class=connection_class, **kwargs)
