"""The settings module picks embedded or service-backed parts from the environment alone."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
from config import settings as s
print(json.dumps({
    "db": s.DATABASES["default"]["ENGINE"],
    "cache": s.CACHES["default"]["BACKEND"],
    "sessions": s.SESSION_ENGINE,
    "eager": s.CELERY_TASK_ALWAYS_EAGER,
    "broker": s.CELERY_BROKER_URL,
    "ssl_redirect": getattr(s, "SECURE_SSL_REDIRECT", False),
    "hsts": getattr(s, "SECURE_HSTS_SECONDS", 0),
    "secure_cookies": getattr(s, "SESSION_COOKIE_SECURE", False),
    "proxy_ssl_header": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "hsts_preload": getattr(s, "SECURE_HSTS_PRELOAD", False),
    "db_options": s.DATABASES["default"].get("OPTIONS", {}),
    "redis_options": s.CACHES["default"].get("OPTIONS", {}),
    "hijack_root_logger": s.CELERY_WORKER_HIJACK_ROOT_LOGGER,
}))
"""

KEEP = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV")


def load(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_embedded_defaults_need_no_services() -> None:
    s = load(DEBUG="true")
    assert s["db"] == "django.db.backends.sqlite3"
    assert s["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert s["sessions"] == "django.contrib.sessions.backends.db"
    assert s["eager"] is True
    assert s["broker"] == "memory://"
    assert s["ssl_redirect"] is False


def test_service_urls_switch_to_postgres_redis_and_a_real_broker() -> None:
    s = load(
        DEBUG="true",
        DATABASE_URL="postgres://u:p@db.internal:5432/shop",
        REDIS_URL="redis://cache.internal:6379/0",
    )
    assert s["db"] == "django.db.backends.postgresql"
    assert s["cache"] == "django_redis.cache.RedisCache"
    assert s["sessions"] == "django.contrib.sessions.backends.db"  # not cached: see settings
    assert s["eager"] is False
    assert s["broker"] == "redis://cache.internal:6379/0"


def test_debug_off_turns_on_production_hardening() -> None:
    s = load(DEBUG="false", SECRET_KEY="x" * 50)
    assert s["ssl_redirect"] is True
    assert s["secure_cookies"] is True
    assert s["hsts"] == 31_536_000


def test_wsgi_refuses_to_serve_with_the_development_key() -> None:
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    result = subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env={**clean, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_forwarded_proto_is_believed_only_when_enabled() -> None:
    """Without a proxy that sets (and strips) X-Forwarded-Proto, a client could claim https."""
    assert load(DEBUG="false", SECRET_KEY="x" * 50)["proxy_ssl_header"] is None
    enabled = load(DEBUG="false", SECRET_KEY="x" * 50, SECURE_PROXY_SSL_HEADER_ENABLED="true")
    assert enabled["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_hsts_preload_is_opt_in() -> None:
    assert load(DEBUG="false", SECRET_KEY="x" * 50)["hsts_preload"] is False
    assert load(DEBUG="false", SECRET_KEY="x" * 50, SECURE_HSTS_PRELOAD="true")["hsts_preload"]


def test_database_and_redis_fail_fast() -> None:
    services = {
        "DATABASE_URL": "postgres://u:p@db.internal:5432/shop",
        "REDIS_URL": "redis://cache.internal:6379/0",
    }
    s = load(DEBUG="true", **services)
    assert s["db_options"] == {"connect_timeout": 5}
    assert s["redis_options"]["SOCKET_CONNECT_TIMEOUT"] == 0.5  # type: ignore[index]
    assert s["redis_options"]["SOCKET_TIMEOUT"] == 0.5  # type: ignore[index]
    assert load(DEBUG="true", DB_CONNECT_TIMEOUT="2", **services)["db_options"] == {
        "connect_timeout": 2
    }
    in_url = {**services, "DATABASE_URL": services["DATABASE_URL"] + "?connect_timeout=9"}
    assert load(DEBUG="true", **in_url)["db_options"] == {"connect_timeout": 9}


def test_celery_workers_keep_our_logging() -> None:
    assert load(DEBUG="true")["hijack_root_logger"] is False


def test_test_settings_remove_their_temporary_media_dir() -> None:
    """A test process removes its shop-media-* directory, so /tmp does not fill up."""
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    out = subprocess.run(
        [sys.executable, "-c", "from config import settings_test as s; print(s.MEDIA_ROOT)"],
        cwd=ROOT,
        env={
            **clean,
            "DATABASE_URL": "postgres://u@127.0.0.1:5432/shop",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    media = Path(out.stdout.strip().splitlines()[-1])
    assert media.name.startswith("shop-media-")
    assert not media.exists()
