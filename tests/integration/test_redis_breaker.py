"""The circuit breaker on Redis connections, against a redis-server of this test's own that
it pauses (SIGSTOP) and resumes: after one timeout, calls fail at once without waiting on
the server; after the cooldown one call probes, and a success closes the breaker."""

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest
import redis

from apps.core import redis_breaker

pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")

COOLDOWN = 0.5


@pytest.fixture
def paused_later() -> Iterator[tuple[subprocess.Popen[bytes], redis.Redis]]:
    """A running redis-server and a client whose pool has the breaker."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    workdir = tempfile.mkdtemp(prefix="shop-breaker-redis-")
    proc = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pool = redis_breaker.BreakerConnectionPool(
        host="127.0.0.1",
        port=port,
        socket_timeout=0.3,
        socket_connect_timeout=0.3,
        breaker_cooldown=COOLDOWN,
    )
    client = redis.Redis(connection_pool=pool)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield proc, client
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait(timeout=10)
        pool.disconnect()
        shutil.rmtree(workdir, ignore_errors=True)


def test_a_hung_redis_is_skipped_until_the_cooldown_then_used_again(
    paused_later: tuple[subprocess.Popen[bytes], redis.Redis],
) -> None:
    proc, client = paused_later
    client.set("k", "v")
    proc.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(redis.TimeoutError):
            client.get("k")  # the one call that waits its socket timeout
        for _ in range(50):  # then no call reaches (or waits on) the hung server
            with pytest.raises(redis_breaker.CircuitOpen):
                client.get("k")
        time.sleep(COOLDOWN + 0.1)
        with pytest.raises(redis.TimeoutError):
            client.get("k")  # the probe after the cooldown: still hung
        with pytest.raises(redis_breaker.CircuitOpen):
            client.get("k")  # open again for another cooldown
    finally:
        proc.send_signal(signal.SIGCONT)
    time.sleep(COOLDOWN + 0.1)
    assert client.get("k") == b"v"  # the probe succeeds and closes the breaker
    assert all(client.get("k") == b"v" for _ in range(5))


def test_a_stopped_redis_fails_fast_and_a_restarted_one_is_used_again(
    paused_later: tuple[subprocess.Popen[bytes], redis.Redis],
) -> None:
    proc, client = paused_later
    port = client.connection_pool.connection_kwargs["port"]
    workdir = tempfile.mkdtemp(prefix="shop-breaker-redis-")
    proc.terminate()
    proc.wait(timeout=10)
    with pytest.raises(redis.ConnectionError):
        client.ping()
    with pytest.raises(redis_breaker.CircuitOpen):
        client.ping()
    again = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            time.sleep(COOLDOWN + 0.1)
            try:
                assert client.ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "the restarted redis-server was not used"
        assert not redis_breaker.breaker_for("127.0.0.1", port).is_open
    finally:
        again.kill()
        again.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
