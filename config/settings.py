"""Settings, read from the environment with django-environ.

Without DATABASE_URL / REDIS_URL the shop runs embedded (SQLite, local-memory cache,
DB sessions, eager Celery) so `make run` needs no services. With them it runs on
PostgreSQL and Redis, as in tests and production.
"""

from pathlib import Path

import django_stubs_ext
import environ
from csp.constants import NONE, SELF

from apps.core.logging import LOG_CONFIG_BASE, json_log_handler

# Lets admin classes and forms be subscripted for type checking (ModelAdmin[Product]).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Management commands and type checking work without a key; serving without one does not
# (config/wsgi.py refuses, and `check --deploy` reports it).
INSECURE_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SHOP_NAME = env.str("SHOP_NAME", default="Fieldstone Supply")
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="USD")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "django_countries",
    "apps.core",
    "apps.catalog",
    "apps.inventory",
    "apps.storefront",
    "apps.promotions",
    "apps.cart",
    "apps.accounts",
    "apps.checkout",
    "apps.payments",
    "apps.orders",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response, errors included.
    "csp.middleware.CSPMiddleware",
    "apps.core.security.PermissionsPolicyMiddleware",
    # TRACE, CONNECT and any method no view serves: 405 (with Allow) before anything runs.
    "apps.core.security.RefuseUnservedMethodsMiddleware",
    # NUL in the path, query or form is a 400 before anything reaches PostgreSQL.
    "apps.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.shop",
                "apps.catalog.context_processors.navigation",
                "apps.cart.context_processors.cart",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------

if not env.str("DATABASE_URL", default=""):
    VAR_DIR.mkdir(exist_ok=True)  # the embedded demo's SQLite file lives here
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if USING_POSTGRES:
    # An unreachable server fails fast (and /healthz answers 503) instead of hanging on
    # the OS TCP timeout. A connect_timeout in DATABASE_URL's query string wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="shop"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # Redis is a cache: while it is down or hung, a cache call is a miss and a
                # write is skipped (docs/security.md, "Rate limits and Redis outages").
                "IGNORE_EXCEPTIONS": True,
                # Seconds; a hung Redis costs one short timeout, then the circuit breaker
                # skips it for REDIS_BREAKER_COOLDOWN seconds at a time.
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.5),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.5),
                "CONNECTION_POOL_CLASS": "apps.core.redis_breaker.BreakerConnectionPool",
                "CONNECTION_POOL_KWARGS": {
                    "breaker_cooldown": env.float("REDIS_BREAKER_COOLDOWN", default=5.0)
                },
            },
        }
    }
    # Sessions live in PostgreSQL only: a cached copy could outlive a sign-out or a cart
    # change made while Redis was unreachable, and come back stale when it returns.
    SESSION_ENGINE = "django.contrib.sessions.backends.db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery ------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Workers keep LOGGING (JSON lines, PII redaction) instead of Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
CELERY_BEAT_SCHEDULE["cart-expire-stale-carts"] = {
    "task": "cart.expire_stale_carts",
    "schedule": 60 * 60,  # hourly
}
CELERY_BEAT_SCHEDULE["promotions-release-stale-reservations"] = {
    "task": "promotions.release_stale_reservations",
    "schedule": 15 * 60,
}

# --- Stripe ------------------------------------------------------------------------

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")

# --- Auth, i18n --------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign_in"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Django serves uploaded product images itself unless a web server in front does.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
if WHITENOISE_USE_FINDERS:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- Email -------------------------------------------------------------------------

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="shop@example.com")

# --- DRF ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only, size- and depth-limited (4xx, never a RecursionError 500).
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.BoundedJSONParser"],
    "DEFAULT_METADATA_CLASS": "apps.core.api.EnvelopeMetadata",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    # Trust X-Forwarded-For only as far as our own proxies wrote it (see NUM_PROXIES).
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The checkout state is `status` of a session and `step` of its progress: one enum.
    "ENUM_NAME_OVERRIDES": {"CheckoutStateEnum": "apps.checkout.serializers.STATE_CHOICES"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # Unknown fields refused, one of variantId/productId required; every body may be 413.
        "apps.cart.schema.describe_cart_input",
        "apps.core.api.describe_body_limits",
        "apps.core.api.describe_csrf_requirement",
    ],
}

# --- Catalog -----------------------------------------------------------------------

CATALOG_PAGE_SIZE = env.int("CATALOG_PAGE_SIZE", default=24)

# --- Cart and promotions -------------------------------------------------------------

# Active carts untouched this long become abandoned; abandoned carts are deleted after
# the retention period (the cart.expire_stale_carts beat task).
CART_ABANDON_AFTER_DAYS = env.int("CART_ABANDON_AFTER_DAYS", default=30)
CART_RETENTION_DAYS = env.int("CART_RETENTION_DAYS", default=90)
# Customizations a shopper may add to a line, priced here (never by the browser).
CART_CUSTOMIZATIONS: dict[str, dict[str, object]] = {
    "gift_wrap": {"name": "Gift wrap", "price": "5.00", "max_length": 100},
    "engraving": {"name": "Engraving", "price": "10.00", "max_length": 30},
}
# How coupons combine on one order, and the order in which their discounts apply.
COUPON_COMBINABILITY: dict[str, object] = {
    "max_coupons_per_order": env.int("COUPON_MAX_PER_ORDER", default=2),
    "allow_percentage_with_fixed": env.bool("COUPON_ALLOW_PERCENTAGE_WITH_FIXED", default=False),
    "allow_multiple_percentage": env.bool("COUPON_ALLOW_MULTIPLE_PERCENTAGE", default=False),
    "allow_free_shipping_combination": env.bool("COUPON_ALLOW_FREE_SHIPPING_COMBO", default=True),
    "priority_order": ["buy_x_get_y", "percentage", "fixed_amount", "free_shipping"],
}
# Coupon uses reserved by a payment that never finished are released after this long.
# Tie it to the checkout session: a Stripe Checkout Session must expire before its
# reservation can go stale (see apps/promotions/services.py: reservation_ttl).
COUPON_RESERVATION_TTL_MINUTES = env.int("COUPON_RESERVATION_TTL_MINUTES", default=60)
# Coupon-code attempts (HTML form and API share one budget, apps/core/ratelimit.py):
# per cart, and per client IP across carts.
COUPON_APPLY_RATE = env.str("COUPON_APPLY_RATE", default="20/min")
COUPON_APPLY_IP_RATE = env.str("COUPON_APPLY_IP_RATE", default="60/min")
# Checkout: an idle checkout session expires after this long (the shopper starts again
# from the cart); orders placed before the cutoff hour (shop time) ship the same day;
# checkout calls per client (submitted steps and API calls share the budget).
CHECKOUT_SESSION_IDLE_MINUTES = env.int("CHECKOUT_SESSION_IDLE_MINUTES", default=60)
SHIPPING_SAME_DAY_CUTOFF_HOUR = env.int("SHIPPING_SAME_DAY_CUTOFF_HOUR", default=14)
CHECKOUT_RATE = env.str("CHECKOUT_RATE", default="50/5min")
# Reverse proxies in front of the app that append to X-Forwarded-For. 0: the client IP is
# REMOTE_ADDR and X-Forwarded-For is ignored (a client can write anything there).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

# --- Security (switched on by DEBUG=False) -----------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): everything from the shop's own origin, nothing
# inline (templates load static/js files and pass data in <script type="application/json">
# blocks, which never run), never framed, forms posted only here. /media/ sends its own
# stricter policy (config/urls.py MEDIA_HEADERS), which the middleware leaves alone.
# Payments: "Pay" answers a form post with a 303 to Stripe Checkout, and Chrome applies
# form-action to a form's redirects (not every browser does), so Checkout's origin (and
# the sandbox's in dev and tests) must join form-action then.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Browser features no page uses, refused to every page and frame (apps/core/security.py).
# Stripe Checkout runs on Stripe's own page, so "payment" is not needed here either.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}
# Production hardening is on unless relaxed (tests and local HTTP set SECURE_HTTPS=false).
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=not DEBUG)
if SECURE_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is hard to undo (browsers ship the list): opt in once HTTPS is settled.
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Believe X-Forwarded-Proto only behind a proxy that sets it (and strips the client's):
# without one, any client could claim https.
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging -----------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    **LOG_CONFIG_BASE,
    "handlers": {"console": json_log_handler()},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Django's own defaults would keep a plain-text console handler (and mail_admins) on
    # "django" and stop "django.server" from propagating: every Django record must go
    # through the JSON handler and its redaction instead.
    "loggers": {
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
