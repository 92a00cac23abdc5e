import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_database_and_cache_up(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_healthz_is_degraded_naming_the_cache_when_redis_is_unreachable(client: Client) -> None:
    """Redis is a cache: without it the shop still serves, so a load balancer must keep
    the instance (200), while monitoring sees "degraded"."""
    port = free_port()  # a port nothing listens on once closed
    dead = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    with override_settings(CACHES=dead):
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["down"] == ["cache"]
    assert body["checks"] == {"database": "ok", "cache": "down"}


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A port whose kernel completes the TCP handshake but whose server never answers:
    the worst case, where only a client-side timeout ends the wait."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


PROBE = """
import json, time, django
django.setup()
from django.test import Client
started = time.monotonic()
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "seconds": time.monotonic() - started}))
"""


def test_healthz_answers_503_within_seconds_when_database_and_redis_hang(
    hung_port: int,
) -> None:
    """Without a connect timeout psycopg waits forever on a server that never answers."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"postgres://shop@127.0.0.1:{hung_port}/shop",
        "REDIS_URL": f"redis://127.0.0.1:{hung_port}/0",
        "DB_CONNECT_TIMEOUT": "2",
        "REDIS_SOCKET_TIMEOUT": "1",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == 503
    assert out["body"]["down"] == ["cache", "database"]
    assert out["seconds"] < 6
