"""Settings for pytest: the real settings, pointed at the throwaway PostgreSQL and Redis.

`make test` (scripts/with_services.py) exports DATABASE_URL and REDIS_URL; tests never
fall back to SQLite or a local-memory cache.
"""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("SECURE_HTTPS", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# Every key the tests write (cache entries, rate limits) starts with this, so
# the per-test cleanup (tests/conftest.py) deletes only these, never the rest of the Redis
# database REDIS_URL points at.
os.environ.setdefault("CACHE_KEY_PREFIX", "test")

from config.settings import *  # noqa: F403
from config.settings import DATABASES, REDIS_URL

if not DATABASES["default"]["ENGINE"].endswith("postgresql") or not REDIS_URL:
    raise RuntimeError(
        "Tests run on PostgreSQL and Redis: use `make test`, or set DATABASE_URL "
        "(postgres://...) and REDIS_URL (redis://...)."
    )

if not CACHES["default"].get("KEY_PREFIX"):  # noqa: F405
    raise RuntimeError("Tests need a CACHE_KEY_PREFIX: the cleanup deletes keys under it.")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if os.environ.get("MEDIA_ROOT"):
    MEDIA_ROOT = Path(os.environ["MEDIA_ROOT"])  # noqa: F405
else:
    # Test uploads go to a fresh directory, removed when this process ends (not by a forked
    # child that inherited the exit hook).
    MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="shop-media-"))  # noqa: F405
    _media_owner = os.getpid()

    def _remove_media_root() -> None:
        if os.getpid() == _media_owner:
            shutil.rmtree(MEDIA_ROOT, ignore_errors=True)

    atexit.register(_remove_media_root)
SERVE_MEDIA = True
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
