"""Log formatting and PII redaction.

Every line is one JSON object carrying the request id. The redaction filter scrubs
what must never reach a log: email addresses, phone numbers, card numbers, Stripe secrets
and client secrets, bearer tokens, URL query strings, and values of sensitive keys passed
in `extra`. Objects passed in `extra` are never logged through their own str/repr (Django's
`django.request` passes the request, whose repr carries the query string): a request
becomes "METHOD /path", a model instance "Model:pk", anything else unknown its type name.
"""

import datetime as dt
import enum
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.http import HttpRequest

from apps.core.request_context import request_id_var

REDACTED = "[REDACTED]"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # A query string after a path or URL: it carries whatever the client typed, quotes and
    # angle brackets included, so only whitespace or a fragment ends it.
    (re.compile(r"(/[^\s?#\"'<>]*)\?[^\s#]+"), r"\1?[QUERY]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[EMAIL]"),
    (re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+"), "[STRIPE_KEY]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9]+"), "[WEBHOOK_SECRET]"),
    (re.compile(r"\b(?:pi|seti|cs)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"), "[CLIENT_SECRET]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), "Bearer [TOKEN]"),
    (re.compile(r"\b(?:\d[ -]?){13,19}\b"), "[CARD]"),
    # International format only (+ then 8-15 digits): bare digit runs are usually ids.
    (re.compile(r"(?<![\w+])\+\d(?:[ ().-]?\d){7,14}\b"), "[PHONE]"),
]

# Keys whose values are personal data or secrets, whatever they look like.
SENSITIVE_KEYS = frozenset(
    {
        "email",
        "customer_email",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "phone",
        "address",
        "street1",
        "street2",
        "line1",
        "line2",
        "city",
        "postal_code",
        "zip_code",
        "password",
        "card",
        "card_number",
        "cvc",
        "client_secret",
        "secret",
        "api_key",
        "authorization",
        "cookie",
    }
)

_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# Values whose str() is plain data, safe to log once redact_text has run over it.
_SCALARS = (Decimal, uuid.UUID, dt.date, dt.time, dt.timedelta, PurePath, enum.Enum)


def describe(value: object) -> str:
    """A log-safe text for an object that is not a JSON primitive (never its raw repr)."""
    if isinstance(value, HttpRequest):
        return redact_text(f"{value.method} {value.path}")  # path only, never the query
    if isinstance(value, _SCALARS):
        return redact_text(str(value))
    pk = getattr(value, "pk", None)
    if isinstance(pk, int | str | uuid.UUID):
        return f"{type(value).__name__}:{pk}"
    return f"<{type(value).__name__}>"


def redact_value(key: str, value: Any) -> Any:
    if key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {str(k): redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value("", v) for v in value]
    return describe(value)


class RequestIdFilter(logging.Filter):
    """Names the request the record belongs to. Django logs 4xx/5xx responses after the
    middleware has returned (the context variable is reset by then), passing the request
    itself, so the id set on it by RequestIdMiddleware wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(getattr(record, "request", None), "request_id", None)
        record.request_id = request_id if isinstance(request_id, str) else request_id_var.get()
        return True


class RedactPiiFilter(logging.Filter):
    """Rewrites the record in place: message, args and extra fields are scrubbed."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _RESERVED and key != "request_id":
                setattr(record, key, redact_value(key, value))
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and key not in payload:
                payload[key] = value
        if record.exc_text:
            payload["exc"] = record.exc_text
        elif record.exc_info:
            payload["exc"] = redact_text(self.formatException(record.exc_info))
        # Without RedactPiiFilter in front (a handler configured elsewhere), objects still
        # never reach the line through their repr.
        return json.dumps(payload, default=describe)


def json_log_handler(stream: str = "ext://sys.stderr") -> dict[str, Any]:
    """A dictConfig handler that writes JSON lines through the request-id and redaction
    filters. Shared by Django's LOGGING and gunicorn's logconfig_dict so neither can log
    a line the other would redact."""
    return {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "filters": ["request_id", "redact_pii"],
        "stream": stream,
    }


# The filters and formatter json_log_handler() refers to, for a dictConfig.
LOG_CONFIG_BASE: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "apps.core.logging.RequestIdFilter"},
        "redact_pii": {"()": "apps.core.logging.RedactPiiFilter"},
    },
    "formatters": {"json": {"()": "apps.core.logging.JsonLineFormatter"}},
}
